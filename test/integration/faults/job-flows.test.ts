/**
 * Failure matrix (test/support/fault-matrix.ts) of every scheduled job, through its own Lambda
 * handler (lease, run record): a failed or crashed run is followed by the runs of the next
 * schedule — skipped while a crashed run's lease lasts, then taking it over — until one completes.
 */
import { expect } from 'vitest';
import { handler as heartbeatTimeout } from '../../../functions/jobs/agent-heartbeat-timeout/handler.js';
import { handler as commandExpiry } from '../../../functions/jobs/command-expiry/handler.js';
import { handler as dailySnapshot } from '../../../functions/jobs/daily-savings-snapshot/handler.js';
import { handler as poolRisk } from '../../../functions/jobs/pool-risk-analysis/handler.js';
import { handler as consolidation } from '../../../functions/jobs/pricing-consolidation/handler.js';
import { handler as reconciler } from '../../../functions/jobs/replica-reconciler/handler.js';
import { handler as zombieCleanup } from '../../../functions/jobs/zombie-cleanup/handler.js';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { pricesRepo, type StagedPoint } from '../../../functions/shared/db/prices-repo.js';
import { replicasRepo } from '../../../functions/shared/db/replicas-repo.js';
import { savingsRepo } from '../../../functions/shared/db/savings-repo.js';
import type { Command } from '../../../functions/shared/domain/types.js';
import { clock, faultMatrix, type Flow } from '../../support/fault-matrix.js';
import {
  type Agent,
  agentOf,
  must,
  request,
  scheduledRun,
  tenant,
  withDeliveredSwitch,
  withSwitchDone,
} from '../../support/fault-worlds.js';
import { randomInstanceId } from '../../support/factories.js';
import { seedPool, uniqueInstanceType } from '../../support/interruption.js';

type JobHandler = Parameters<typeof scheduledRun>[0];
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const jobFlow = <W extends { clientId: string }>(
  name: string,
  job: { handler: JobHandler; name: string; everyMs: number },
  setup: () => Promise<W>,
  extra: Pick<Flow<W>, 'observe' | 'check'> = {},
): Flow<W> => ({
  name: `${job.name}: ${name}`,
  setup,
  attempt: () => scheduledRun(job.handler, job.name),
  retryAfterMs: job.everyMs,
  recurring: true,
  // A crashed run holds the lease for 5 minutes: the runs of that time are skipped.
  maxRetries: Math.ceil((6 * MINUTE) / job.everyMs) + 1,
  clients: (w) => [w.clientId],
  ...extra,
});

const HEARTBEAT_TIMEOUT = { handler: heartbeatTimeout, name: 'agent-heartbeat-timeout', everyMs: MINUTE };
const COMMAND_EXPIRY = { handler: commandExpiry, name: 'command-expiry', everyMs: 5 * MINUTE };
const RECONCILER = { handler: reconciler, name: 'replica-reconciler', everyMs: MINUTE };
const POOL_RISK = { handler: poolRisk, name: 'pool-risk-analysis', everyMs: 15 * MINUTE };
const DAILY_SNAPSHOT = { handler: dailySnapshot, name: 'daily-savings-snapshot', everyMs: DAY };
const ZOMBIE_CLEANUP = { handler: zombieCleanup, name: 'zombie-cleanup', everyMs: DAY };
const CONSOLIDATION = { handler: consolidation, name: 'pricing-consolidation', everyMs: 12 * 60 * MINUTE };

const staleAgent = jobFlow('a silent agent goes offline', HEARTBEAT_TIMEOUT, async () => {
  // Not on a multiple of 5 minutes: that run also samples the online gauge (a read).
  clock.set('2031-03-03T10:01:10.000Z');
  const a = await agentOf(await tenant());
  clock.advance(150_000);
  return a;
});

const expiredCommand = jobFlow('a delivered command past its lifetime expires', COMMAND_EXPIRY, async () => {
  const a = await withDeliveredSwitch();
  const command = (await commandsRepo.get(a.agentId, a.commandId)) as Command;
  clock.advance(Date.parse(command.expires_at) - Date.now() + MINUTE);
  return a;
});

/** An incident waiting for a launched replica that became ready without the status route noticing. */
const pendingPromotion = jobFlow('a pending promotion runs', RECONCILER, async () => {
  const a = await agentOf(await tenant(), { instanceType: uniqueInstanceType(), config: { manual_replica_enabled: true } });
  const [placeholder] = await replicasRepo.listByAgent(a.agentId);
  await must(request('emergency', 'POST', `/api/agents/${a.agentId}/termination-imminent`, { token: a.token, body: { instance_id: a.instanceId } }), 'notice');
  await must(
    request('replicas', 'PUT', `/api/agents/${a.agentId}/replicas/${placeholder?.id}`, { token: a.token, body: { instance_id: randomInstanceId(), status: 'syncing' } }),
    'launch',
  );
  const replica = await replicasRepo.get(a.agentId, placeholder?.id as string);
  if (!replica) throw new Error('no replica');
  await replicasRepo.save({ ...replica, status: 'ready' }, replica.version);
  return a;
});

const stuckPlaceholder = jobFlow('a manual placeholder stuck launching is failed and replaced', RECONCILER, async () => {
  const a = await agentOf(await tenant(), { instanceType: uniqueInstanceType(), config: { manual_replica_enabled: true } });
  clock.advance(11 * MINUTE);
  return a;
});

/** Two pools of the agent's type; the agent's own is dearer and riskier; an alert watches it. */
const poolStatistics = jobFlow(
  'pool statistics, the engine for auto-switch agents, pricing alerts',
  POOL_RISK,
  async () => {
    const instanceType = uniqueInstanceType();
    await seedPool(instanceType, 'us-east-1a', 0.09, null, 0.1);
    await seedPool(instanceType, 'us-east-1b', 0.02, null, 0.1);
    const a = await agentOf(await tenant(), { instanceType, config: { auto_switch_enabled: true } });
    await instancesRepo.update(a.instanceId, { set: { spot_price: 0.09, ondemand_price: 0.1, baseline_ondemand_price: 0.1 } });
    await must(
      request('notifications', 'POST', `/api/client/${a.clientId}/pricing-alerts`, {
        token: a.token,
        body: { alert_type: 'spot_price_above', threshold: 0.05, pool_id: `${instanceType}.us-east-1a` },
      }),
      'alert',
    );
    return a;
  },
  {
    observe: async (w: Agent) =>
      (await pricesRepo.listPools({ region: 'us-east-1', instanceType: w.instanceType })).map((p) => [p.pool_id.slice(-1), p.risk_score, p.volatility]),
  },
);

const daily = jobFlow(
  "yesterday's savings frozen and added once",
  DAILY_SNAPSHOT,
  async () => {
    clock.set('2031-05-10T08:00:00.000Z');
    const a = await agentOf(await tenant());
    await instancesRepo.update(a.instanceId, { set: { spot_price: 0.03, ondemand_price: 0.1, baseline_ondemand_price: 0.1 } });
    await agentsRepo.update(a.agentId, { set: { accrued_until: new Date().toISOString() } });
    clock.set('2031-05-11T00:10:00.000Z');
    return a;
  },
  {
    observe: async (w: Agent) => (await savingsRepo.listSnapshots(w.clientId, '2031-05-01', '2031-05-11')).map((s) => [s.date, s.savings.toFixed(4)]),
  },
);

const zombie = jobFlow('a zombie past retention is retired with one warning', ZOMBIE_CLEANUP, async () => {
  clock.set('2031-06-01T10:00:00.000Z');
  const a = await withSwitchDone();
  expect(await instancesRepo.listByAgent(a.agentId, 'ZOMBIE')).toHaveLength(1);
  clock.set('2031-07-03T03:00:00.000Z');
  return a;
});

const POOLS = ['us-east-1a', 'us-east-1b'];
const staged = jobFlow(
  'staged prices consolidated into the 5-minute and hourly series',
  CONSOLIDATION,
  async () => {
    clock.set('2031-08-01T12:00:00.000Z');
    const t = await tenant();
    const instanceType = uniqueInstanceType();
    const points: StagedPoint[] = [];
    for (let m = 0; m < 120; m += 7) {
      for (const az of POOLS) {
        points.push({
          pool_id: `${instanceType}.${az}`,
          instance_type: instanceType,
          region: 'us-east-1',
          az,
          price: 0.03 + (m % 3) * 0.001,
          on_demand_price: 0.096,
          collected_at: new Date(Date.now() - 3 * 3_600_000 + m * MINUTE).toISOString(),
          source_role: 'PRIMARY',
          agent_id: 'agent-1',
          client_id: t.clientId,
          reporter_instance_id: 'i-0123456789abcdef0',
        });
      }
    }
    await pricesRepo.stage(points);
    return { ...t, instanceType };
  },
  {
    observe: async (w: { clientId: string; instanceType: string }) => {
      const series = [];
      for (const az of POOLS) {
        const pool = `${w.instanceType}.${az}`;
        const [buckets, hours] = await Promise.all([
          pricesRepo.listConsolidated(pool, '2031-07-31T00:00:00.000Z', '2031-08-02T00:00:00.000Z'),
          pricesRepo.listCanonical(pool, '2031-07-31T00:00:00.000Z', '2031-08-02T00:00:00.000Z'),
        ]);
        series.push([az, buckets.length, hours.map((h) => [h.hour_start, h.avg_price])]);
      }
      // A crashed run is recorded as failed by the run after it; the newest one completed.
      return { series, newest_run: (await pricesRepo.listRuns(undefined, 1)).items[0]?.status };
    },
  },
);

await faultMatrix([staleAgent, expiredCommand, pendingPromotion, stuckPlaceholder, poolStatistics, daily, zombie, staged] as Flow<never>[]);
