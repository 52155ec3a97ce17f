import { CLEANUP_GRACE_SECONDS, loadAgent } from '../shared/flows/agent-access.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { reportsRepo } from '../shared/db/reports-repo.js';
import { replicasRepo } from '../shared/db/replicas-repo.js';
import { TransactionConflict, transact, type TxPart } from '../shared/db/transaction.js';
import { NotFoundError, retryOnVersionConflict, ValidationError, VersionConflictError } from '../shared/domain/errors.js';
import { marketOnDemand, marketPoolsOfType, watchUnknownType } from '../shared/market/market-view.js';
import { Outbox } from '../shared/outbox.js';
import { newId, parseTimestamp, ttlAfterDays } from '../shared/domain/ids.js';
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

/** A report's `collected_at` may be this far ahead of the server's clock (agents' clocks drift a little). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** A report older than this is refused: the agent sends one every 300 s, a day-old one is a replay or a broken clock. */
export const MAX_REPORT_AGE_MS = 24 * 3_600_000;
/** A reported price above this multiple of the market's on-demand price is not a price (spot is capped at on-demand). */
export const MAX_PRICE_TO_ON_DEMAND = 2;
/** A report refreshes its instance's `last_seen_at` when it is at least this old. */
export const LAST_SEEN_REFRESH_MS = 15 * 60_000;
/** Without a known on-demand price, no instance-hour costs more than this (the largest EC2 instances cost ~$400/h). */
export const MAX_PRICE_PER_HOUR = 1000;

/**
 * Refuses a report that cannot be an honest observation (400 naming every bad field): a
 * `collected_at` in the future beyond the clock-skew allowance or older than a day, a price ≤ 0, or
 * a price far above the market's on-demand price of the type (or above any real price, when the
 * market does not know the type yet).
 */
function checkPlausible(input: PricingReportInput, collectedAt: Date, now: Date, marketOnDemandPrice: number | undefined): void {
  const details: { field: string; issue: string }[] = [];
  if (collectedAt.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    details.push({ field: 'body.pricing.collected_at', issue: `is in the future (more than ${MAX_CLOCK_SKEW_MS / 60_000} min ahead of the server)` });
  } else if (collectedAt.getTime() < now.getTime() - MAX_REPORT_AGE_MS) {
    details.push({ field: 'body.pricing.collected_at', issue: `is more than ${MAX_REPORT_AGE_MS / 3_600_000} h old` });
  }
  const ceiling = marketOnDemandPrice !== undefined ? marketOnDemandPrice * MAX_PRICE_TO_ON_DEMAND : MAX_PRICE_PER_HOUR;
  const check = (field: string, price: number | null | undefined) => {
    if (price === null || price === undefined) return;
    if (!(price > 0)) details.push({ field, issue: 'must be greater than 0' });
    else if (price > ceiling) {
      details.push({
        field,
        issue: marketOnDemandPrice !== undefined
          ? `is more than ${MAX_PRICE_TO_ON_DEMAND}× the on-demand price of ${input.instance.instance_type} (${marketOnDemandPrice})`
          : `is more than ${MAX_PRICE_PER_HOUR} per hour`,
      });
    }
  };
  const p = input.pricing;
  // The instance's own two prices may be 0 for "not known" (they may be null on the wire, API.md
  // §3.10): that is no price, not a wrong one. A negative one is refused; the pools' prices must be > 0.
  check('body.pricing.on_demand_price', p.on_demand_price || null);
  check('body.pricing.current_spot_price', p.current_spot_price || null);
  check('body.pricing.cheapest_pool.price', p.cheapest_pool?.price);
  p.spot_pools.forEach((pool, i) => check(`body.pricing.spot_pools.${i}.price`, pool.price));
  if (details.length > 0) throw new ValidationError(`${details[0]?.field}: ${details[0]?.issue}`, details);
}

/**
 * POST /api/agents/{aid}/pricing-report (API.md §3.10): the agent's report is **that client's own
 * observation**. It is kept (the natural-key item, 14 days) and it updates the prices of the
 * reporter's own instance (the client's own view: its savings, its decide); it never touches the
 * market's data — POOL items, staging, series and risk come from the market-prices job (EC2) — so
 * no tenant can move another tenant's decisions. Natural key: agent + collected_at (a retried
 * report returns the first report's id and writes nothing new).
 *
 * Cost: a token read, the agent read, the natural-key put (~1 WCU, a per-agent partition), the
 * instance read, and an instance write only when its prices changed or its `last_seen_at` is 15 min
 * old. The market view used to check the prices is cached per container (market-view.ts); a type
 * the market does not know yet is put on its watch list once.
 */
export async function recordPricingReport(caller: Caller, agentId: string, input: PricingReportInput, now: Date) {
  const agent = await loadAgent(caller, agentId);
  const collected = parseTimestamp(input.pricing.collected_at);
  const region = input.instance.region;
  const market = await marketPoolsOfType(region, input.instance.instance_type);
  checkPlausible(input, collected, now, marketOnDemand(market));
  const collectedAt = collected.toISOString();
  const reportId = newId();
  const previous = await reportsRepo.claimPricingReport(
    agent.id,
    collectedAt,
    {
      report_id: reportId,
      pools_recorded: input.pricing.spot_pools.length,
      // The observation itself, kept as the client's own (never read into shared data).
      observed: {
        instance_id: input.instance.instance_id,
        on_demand_price: input.pricing.on_demand_price ?? null,
        current_spot_price: input.pricing.current_spot_price ?? null,
        spot_pools: Object.fromEntries(input.pricing.spot_pools.map((p) => [p.pool_id, p.price])),
      },
    },
    ttlAfterDays(now, 14),
  );
  if (previous) return { success: true as const, report_id: previous.report_id, pools_recorded: previous.pools_recorded, duplicate: true };
  if (market.length === 0) await watchUnknownType(region, input.instance.instance_type);
  const reporter = await instancesRepo.get(input.instance.instance_id);
  if (reporter && reporter.agent_id === agent.id) {
    const onDemand = input.pricing.on_demand_price || null;
    const prices = {
      spot_price: input.pricing.current_spot_price || reporter.spot_price,
      ondemand_price: onDemand ?? reporter.ondemand_price,
      baseline_ondemand_price: reporter.baseline_ondemand_price ?? onDemand,
    };
    const changed =
      prices.spot_price !== reporter.spot_price ||
      prices.ondemand_price !== reporter.ondemand_price ||
      prices.baseline_ondemand_price !== reporter.baseline_ondemand_price;
    // The instance's "last seen" is informational (the agent's heartbeat is its liveness): refreshed
    // every 15 min rather than every report, so most reports write nothing but their own item.
    const seenAt = reporter.last_seen_at ? Date.parse(reporter.last_seen_at) : Number.NEGATIVE_INFINITY;
    const stale = now.getTime() - seenAt >= LAST_SEEN_REFRESH_MS;
    if (changed || stale) {
      await instancesRepo.recordOwnPrices(reporter.id, agent.id, prices, collectedAt, stale ? now.toISOString() : undefined);
    }
  }
  return { success: true as const, report_id: reportId, pools_recorded: input.pricing.spot_pools.length };
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
