import { CLEANUP_GRACE_SECONDS, loadAgent } from '../shared/flows/agent-access.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { type StagedPoint, pricesRepo } from '../shared/db/prices-repo.js';
import { reportsRepo } from '../shared/db/reports-repo.js';
import { replicasRepo } from '../shared/db/replicas-repo.js';
import { TransactionConflict, transact, type TxPart } from '../shared/db/transaction.js';
import { NotFoundError, retryOnVersionConflict, VersionConflictError } from '../shared/domain/errors.js';
import { Outbox } from '../shared/outbox.js';
import { newId, parsePoolId, parseTimestamp, ttlAfterDays } from '../shared/domain/ids.js';
import type { Caller, Mode, Replica } from '../shared/domain/types.js';

/** switch-report (API.md §3.10) lives in ./switch-report.ts. */
export { recordSwitchReport } from './switch-report.js';

export interface PricingReportInput {
  instance: {
    instance_id: string;
    instance_type: string;
    region: string;
    az: string;
    mode?: Mode | null;
    pool_id?: string | null;
  };
  pricing: {
    on_demand_price?: number | null;
    current_spot_price?: number | null;
    cheapest_pool?: { pool_id?: string | null; price?: number | null } | null;
    spot_pools: { pool_id: string; instance_type?: string | null; az?: string | null; price: number }[];
    collected_at: string;
  };
}

/**
 * POST /api/agents/{aid}/pricing-report: stages one point per pool tagged with the reporter's role,
 * refreshes the instance's prices and each pool's latest price. Natural key: agent + collected_at
 * (a retried report returns the first report's id and writes nothing new).
 */
export async function recordPricingReport(caller: Caller, agentId: string, input: PricingReportInput, now: Date) {
  const agent = await loadAgent(caller, agentId);
  const collectedAt = parseTimestamp(input.pricing.collected_at).toISOString();
  const reportId = newId();
  const previous = await reportsRepo.claimPricingReport(
    agent.id,
    collectedAt,
    { report_id: reportId, pools_recorded: input.pricing.spot_pools.length },
    ttlAfterDays(now, 14),
  );
  if (previous) return { success: true as const, report_id: previous.report_id, pools_recorded: previous.pools_recorded, duplicate: true };
  const reporter = await instancesRepo.get(input.instance.instance_id);
  const sourceRole: StagedPoint['source_role'] =
    reporter && reporter.agent_id === agent.id && reporter.role === 'REPLICA' ? 'REPLICA' : 'PRIMARY';
  const region = input.instance.region;
  const onDemand = input.pricing.on_demand_price ?? null;
  const points: StagedPoint[] = input.pricing.spot_pools.map((p) => {
    const parsed = parsePoolId(p.pool_id);
    return {
      pool_id: p.pool_id,
      instance_type: p.instance_type ?? parsed.instanceType,
      region,
      az: p.az ?? parsed.az,
      price: p.price,
      on_demand_price: onDemand,
      collected_at: collectedAt,
      source_role: sourceRole,
      agent_id: agent.id,
      client_id: agent.client_id,
      reporter_instance_id: input.instance.instance_id,
    };
  });
  await pricesRepo.stage(points);
  await Promise.all(
    points.map((p) =>
      pricesRepo.upsertLatestPrice({ ...p, priced_at: p.collected_at }),
    ),
  );
  if (reporter && reporter.agent_id === agent.id) {
    await instancesRepo.update(reporter.id, {
      set: {
        spot_price: input.pricing.current_spot_price ?? reporter.spot_price,
        ondemand_price: onDemand ?? reporter.ondemand_price,
        baseline_ondemand_price: reporter.baseline_ondemand_price ?? onDemand,
        last_seen_at: now.toISOString(),
      },
    });
  }
  return { success: true as const, report_id: reportId, pools_recorded: points.length };
}

const count = (value: unknown): number => (Array.isArray(value) ? value.length : typeof value === 'number' ? value : 0);

/** POST /api/agents/{aid}/cleanup-report: stored 90 days; natural key agent + timestamp. */
export async function recordCleanupReport(
  caller: Caller,
  agentId: string,
  input: { timestamp: string; snapshots?: Record<string, unknown> | null; amis?: Record<string, unknown> | null },
  now: Date,
) {
  const agent = await loadAgent(caller, agentId, { allowDeletedForSeconds: CLEANUP_GRACE_SECONDS, now });
  const deletedSnapshots = count(input.snapshots?.deleted) + count(input.amis?.deleted_snapshots);
  const deletedAmis = count(input.amis?.deleted_amis);
  const failed = count(input.snapshots?.failed) + count(input.amis?.failed);
  await reportsRepo.recordCleanup(
    agent.id,
    parseTimestamp(input.timestamp).toISOString(),
    {
      agent_id: agent.id,
      client_id: agent.client_id,
      received_at: now.toISOString(),
      snapshots: input.snapshots ?? null,
      amis: input.amis ?? null,
    },
    ttlAfterDays(now, 90),
  );
  return {
    success: true as const,
    message: 'cleanup report recorded',
    deleted_snapshots: deletedSnapshots,
    deleted_amis: deletedAmis,
    failed_count: failed,
  };
}

/** After a failed termination the instance is listed again after 5 minutes (API.md §3.10). */
const RELIST_AFTER_FAILURE_SECONDS = 300;

/**
 * POST /api/agents/{aid}/termination-report: on success the instance (and its replica record)
 * becomes TERMINATED, confirmed; on failure it is listed again after 5 min.
 */
export async function recordTerminationReport(
  caller: Caller,
  agentId: string,
  input: { instance_id: string; success: boolean; error?: string | null; terminated_at?: string | null },
  now: Date,
) {
  const agent = await loadAgent(caller, agentId, { allowDeletedForSeconds: CLEANUP_GRACE_SECONDS, now });
  const read = async () => {
    const [instance, replicas] = await Promise.all([instancesRepo.get(input.instance_id), replicasRepo.listByAgent(agent.id)]);
    const replica = replicas.find((r) => r.instance_id === input.instance_id);
    return { instance: instance?.agent_id === agent.id ? instance : undefined, replica };
  };
  const { instance, replica } = await read();
  if (!instance && !replica) throw new NotFoundError('instance');
  const at = input.terminated_at ? parseTimestamp(input.terminated_at).toISOString() : now.toISOString();
  if (!input.success) {
    if (instance) {
      await instancesRepo.update(instance.id, {
        set: { next_listing_at: new Date(now.getTime() + RELIST_AFTER_FAILURE_SECONDS * 1000).toISOString() },
      });
    }
    return {
      success: true as const,
      message: `termination failed${input.error ? `: ${input.error}` : ''}; it will be listed again in 5 minutes`,
      instance_id: input.instance_id,
      status: instance?.role === 'ZOMBIE' ? 'zombie' : (instance?.role.toLowerCase() ?? 'unknown'),
    };
  }
  // The instance, its replica record and its lifecycle entry change together (a retry finds them done).
  await retryOnVersionConflict(false, async () => {
    const current = await read();
    const parts: TxPart[] = [];
    const records = new Outbox();
    const i = current.instance;
    if (i && i.role !== 'PRIMARY' && !(i.role === 'TERMINATED' && i.termination_confirmed)) {
      parts.push(
        instancesRepo.changeRoleTx(i, 'TERMINATED', now.toISOString(), {
          expect: { version: i.version },
          set: { terminated_at: i.terminated_at ?? at, termination_confirmed: true },
        }),
      );
      if (i.role !== 'TERMINATED') {
        records.log({ instanceId: i.id, eventType: 'terminated', severity: 'info', message: 'termination confirmed by the agent', metadata: { source: 'termination-report', terminated_at: at }, at: now });
      }
    }
    const r = current.replica;
    if (r && !r.termination_confirmed) {
      const status: Replica['status'] = r.status === 'promoted' ? r.status : 'terminated';
      const confirmed = { ...r, status, is_active: false, terminated_at: r.terminated_at ?? at, termination_confirmed: true };
      parts.push(replicasRepo.saveTx(confirmed, r.version));
    }
    if (parts.length === 0) return;
    try {
      await transact([...parts, ...records.parts()]);
    } catch (err) {
      if (err instanceof TransactionConflict) throw new VersionConflictError(undefined, { cause: err });
      throw err;
    }
    await records.committed();
  });
  return {
    success: true as const,
    message: instance?.role === 'PRIMARY' ? 'instance is the PRIMARY; not marked terminated' : 'termination recorded',
    instance_id: input.instance_id,
    status: instance?.role === 'PRIMARY' ? 'primary' : 'terminated',
  };
}
