import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { analysePoolRisk } from '../../../functions/jobs/pool-risk-analysis/job.js';
import { consolidatePrices } from '../../../functions/jobs/pricing-consolidation/job.js';
import { putIfAbsent } from '../../../functions/shared/db/conditions.js';
import { incidentsRepo } from '../../../functions/shared/db/incidents-repo.js';
import { instanceItem } from '../../../functions/shared/db/instances-repo.js';
import { pricesRepo, type StagedPoint } from '../../../functions/shared/db/prices-repo.js';
import type { Incident } from '../../../functions/shared/domain/incidents.js';
import { poolRiskScore, timeWeightedStats } from '../../../functions/shared/domain/risk.js';
import { newInstance } from '../../../functions/shared/domain/instances.js';
import type { Instance } from '../../../functions/shared/domain/types.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

const HOUR = 3_600_000;
const TYPE = `zp${randomBytes(3).toString('hex')}.large`;
const REGION = `zz-test-${randomBytes(2).toString('hex')}`;
const POOL_A = `${TYPE}.${REGION}a`;
const POOL_B = `${TYPE}.${REGION}b`;
const NOW = Date.parse('2042-01-01T00:00:00.000Z') + Math.floor(Math.random() * 300) * 24 * HOUR;

const staged = (pool: string, t: number, price: number): StagedPoint => ({
  pool_id: pool,
  instance_type: TYPE,
  region: REGION,
  az: pool.slice(pool.lastIndexOf('.') + 1),
  price,
  on_demand_price: 0.1,
  collected_at: new Date(t).toISOString(),
  source_role: 'PRIMARY',
  agent_id: 'a',
  client_id: 'c',
  reporter_instance_id: 'i-1',
});

function incident(instanceId: string, detectedAt: string): Incident {
  return {
    id: randomUUID(),
    agent_id: randomUUID(),
    client_id: randomUUID(),
    instance_id: instanceId,
    signal_type: 'termination',
    sources: ['eventbridge'],
    detected_at: detectedAt,
    deadline: null,
    action_taken: null,
    replica_id: null,
    command_id: null,
    outcome: 'open',
    failover_time_ms: null,
    resolved_at: null,
    instance_role: 'PRIMARY',
    instance_action: 'terminate',
    origin: 'test',
    event_ids: [],
    reports: 1,
    handled_at: null,
    handling_lease_until: null,
    awaiting_replica_id: null,
    target_pool_id: null,
    target_mode: null,
    message: null,
    new_instance_id: null,
    risk_score: null,
    created_at: detectedAt,
    version: 1,
  };
}

function spotInstance(poolId: string): Instance {
  const az = poolId.slice(poolId.lastIndexOf('.') + 1);
  const fields = { id: randomInstanceId(), client_id: randomUUID(), agent_id: randomUUID(), instance_type: TYPE, region: REGION, az };
  return newInstance({ ...fields, mode: 'spot', pool_id: poolId, role: 'PRIMARY', last_seen_at: null }, new Date(NOW - 40 * 24 * HOUR).toISOString());
}

describe('pool-risk-analysis job', () => {
  it('writes volatility, 24 h stats, interruptions from incidents and the §4.6 risk onto POOL items', async () => {
    // Pool A swings every hour between two prices; pool B is flat.
    const points: StagedPoint[] = [];
    for (let t = NOW - 25 * HOUR; t < NOW; t += 5 * 60_000) {
      points.push(staged(POOL_A, t + 1000, Math.floor((t - NOW) / HOUR) % 2 === 0 ? 0.05 : 0.07));
      points.push(staged(POOL_B, t + 1000, 0.04));
    }
    await pricesRepo.stage(points);
    await consolidatePrices(new Date(NOW), { windowStart: new Date(NOW - 26 * HOUR), pools: [POOL_A, POOL_B], trigger: 'manual' });
    for (const [pool, price] of [
      [POOL_A, 0.09],
      [POOL_B, 0.04],
    ] as const) {
      await pricesRepo.recordMarketPrice({
        pool_id: pool,
        instance_type: TYPE,
        region: REGION,
        az: pool.slice(pool.lastIndexOf('.') + 1),
        price,
        on_demand_price: 0.1,
        priced_at: new Date(NOW - 60_000).toISOString(),
        source: 'test',
      });
    }
    // Two interruptions in pool A within 30 days (one reported twice), one older than 30 days.
    for (const [daysAgo, times] of [
      [2, 2],
      [10, 1],
      [31, 1],
    ] as const) {
      const instance = spotInstance(POOL_A);
      await putIfAbsent(instanceItem(instance));
      const detected = new Date(NOW - daysAgo * 24 * HOUR);
      for (let i = 0; i < times; i++) {
        await incidentsRepo.openOrAttach(incident(instance.id, detected.toISOString()), { source: 'agent' }, detected);
      }
    }

    const summary = await analysePoolRisk(new Date(NOW), { pools: [POOL_A, POOL_B], steps: [] });
    expect(summary).toMatchObject({ pools: 2, updated: 2, skipped: 0 });

    const a = await pricesRepo.getPool(POOL_A);
    const b = await pricesRepo.getPool(POOL_B);
    expect(a?.interruptions_30d).toBe(2);
    expect(b).toMatchObject({ interruptions_30d: 0, volatility: 0, avg_price_24h: 0.04, price_stddev_24h: 0, history_hours: 24 });
    expect(b?.stats_at).toBe(new Date(NOW).toISOString());

    // Independent check of pool A: the 5-minute series as a step function, then the latest price.
    const series = await pricesRepo.listConsolidated(POOL_A, new Date(NOW - 30 * HOUR).toISOString(), new Date(NOW).toISOString());
    const times = [...series.map((s) => Date.parse(s.bucket_start)), NOW - 60_000];
    const prices = [...series.map((s) => s.price), 0.09];
    const expected = timeWeightedStats(times, prices, NOW - 24 * HOUR, NOW);
    expect(a?.volatility).toBeCloseTo(expected?.cv ?? Number.NaN, 6);
    expect(a?.avg_price_24h).toBeCloseTo(expected?.mean ?? Number.NaN, 8);
    expect(a?.price_stddev_24h).toBeCloseTo(expected?.stddev ?? Number.NaN, 8);
    expect(a?.volatility).toBeGreaterThan(0.1);
    expect(a?.risk_score).toBeCloseTo(poolRiskScore({ interruptions_30d: 2, cv_24h: expected?.cv ?? 0, spot: 0.09, on_demand: 0.1 }), 4);
    expect(b?.risk_score).toBeCloseTo(poolRiskScore({ interruptions_30d: 0, cv_24h: 0, spot: 0.04, on_demand: 0.1 }), 4);

    // An older run never overwrites newer statistics.
    await analysePoolRisk(new Date(NOW - HOUR), { pools: [POOL_A], steps: [] });
    expect((await pricesRepo.getPool(POOL_A))?.stats_at).toBe(new Date(NOW).toISOString());

    // Admin pool statistics read the same POOL items.
    const stats = await invoke<Record<string, unknown>>('admin', 'GET', '/api/admin/pools/statistics', {
      token: TEST_ADMIN_TOKEN,
      query: { region: REGION },
    });
    expect(stats.status).toBe(200);
    expect(stats.json).toMatchObject({
      total_pools: 2,
      active_pools: 0, // priced in 2042, not within 24 h of the real clock
      regions: [{ region: REGION, pools: 2, average_price: 0.065 }],
    });
    const highRisk = (stats.json.high_risk_pools as { pool_id: string; risk_score: number }[]).map((p) => p.pool_id);
    expect(highRisk).toEqual((a?.risk_score ?? 0) > 0.7 ? [POOL_A] : []);
    const byType = await invoke<{ total_pools: number }>('admin', 'GET', '/api/admin/pools/statistics', {
      token: TEST_ADMIN_TOKEN,
      query: { region: REGION, instance_type: 'no.such' },
    });
    expect(byType.json.total_pools).toBe(0);
  });

  it('runs every after-stats step even when one fails, then fails the run', async () => {
    const ran: string[] = [];
    await expect(
      analysePoolRisk(new Date(NOW), {
        pools: [],
        steps: [
          ['auto_switch', async () => {
            ran.push('auto_switch');
            throw new Error('engine down');
          }],
          ['pricing_alerts', async () => {
            ran.push('pricing_alerts');
            return { evaluated: 0 };
          }],
        ],
      }),
    ).rejects.toThrow('auto_switch: engine down');
    expect(ran).toEqual(['auto_switch', 'pricing_alerts']);
  });
});
