/**
 * Benchmark: one engine decision over 1,000 candidate pools (API.md §4.6 ranking), timed per
 * decision. Two variants: pools with precomputed statistics (risk_score from the pool-risk job)
 * and pools whose risk the engine computes with the §4.6 formula. Progress → stderr; figures are
 * returned (µs per decision: p50, p99, mean, max; decisions per second).
 */
import {
  createDefaultEngine,
  DEFAULT_LIMITS,
  type DecisionInput,
  type PoolCandidate,
} from '../../functions/shared/domain/decision-engine.js';
import { postJson, rng } from './bench-env.js';

const POOLS = 1_000;
const WARMUP = 200;
const ITERATIONS = 3_000;
const TYPE = 'm5.large';
const NOW = Date.parse('2025-01-15T12:00:00Z');

function pools(withStats: boolean, seed: number): PoolCandidate[] {
  const r = rng(seed);
  return Array.from({ length: POOLS }, (_, i) => {
    const price = 0.02 + r() * 0.08;
    return {
      pool_id: `${TYPE}.bench-${i}`,
      az: `bench-${i}`,
      instance_type: TYPE,
      price,
      price_age_seconds: Math.floor(r() * 9_000), // some older than 2 h: filtered out
      stats: withStats
        ? { risk_score: r() * 0.6, avg_price_24h: price * (0.9 + r() * 0.2), history_hours: 24 }
        : { volatility: r() * 0.3, interruptions_30d: Math.floor(r() * 10), avg_price_24h: price },
    };
  });
}

function input(candidates: PoolCandidate[]): DecisionInput {
  return {
    agent: { enabled: true, auto_switch_enabled: true, switch_open: false },
    current: { mode: 'spot', pool_id: candidates[0]?.pool_id ?? null, instance_type: TYPE, since: NOW - 10 * 3_600_000, price: 0.06 },
    candidates,
    on_demand_price: 0.1,
    limits: { ...DEFAULT_LIMITS },
    recent_switches: [NOW - 30 * 3_600_000],
    now: NOW,
    trigger: 'model',
  };
}

function measure(label: string, withStats: boolean): Record<string, number> {
  const engine = createDefaultEngine();
  const inputs = [1, 2, 3, 4].map((seed) => input(pools(withStats, seed)));
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += engine.decide(inputs[i % inputs.length] as DecisionInput).confidence;
  const us: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const x = inputs[i % inputs.length] as DecisionInput;
    const t0 = performance.now();
    sink += engine.decide(x).confidence;
    us.push((performance.now() - t0) * 1000);
  }
  us.sort((a, b) => a - b);
  const at = (p: number) => us[Math.min(us.length - 1, Math.ceil((p / 100) * us.length) - 1)] ?? 0;
  const mean = us.reduce((a, b) => a + b, 0) / us.length;
  const out = {
    pools: POOLS,
    iterations: ITERATIONS,
    p50_us: Math.round(at(50) * 10) / 10,
    p99_us: Math.round(at(99) * 10) / 10,
    mean_us: Math.round(mean * 10) / 10,
    max_us: Math.round((us.at(-1) ?? 0) * 10) / 10,
    decisions_per_second: Math.round(1e6 / mean),
  };
  process.stderr.write(`decisions/${label}: p50 ${out.p50_us} µs, p99 ${out.p99_us} µs over ${POOLS} pools (checksum ${sink.toFixed(1)})\n`);
  return out;
}

/**
 * Full stack (only inside `npm run bench`, which provides DynamoDB Local and the admin token):
 * POST /api/agents/{aid}/decide through the local gateway with 1,000 POOL items of the agent's
 * type — auth, the GSI1 pool query, the PRIMARY, recent switches, the engine and the stored decision.
 */
async function fullStack(adminToken: string): Promise<Record<string, number>> {
  const { startLocalGatewayForBench } = await import('./gateway.js');
  const { pricesRepo } = await import('../../functions/shared/db/prices-repo.js');
  const type = 'bench9.xlarge';
  const at = new Date().toISOString();
  const r = rng(7);
  for (let i = 0; i < POOLS; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, POOLS - i) }, async (_, j) => {
        const n = i + j;
        const poolId = `${type}.us-east-1-bench${n}`;
        const price = 0.02 + r() * 0.08;
        await pricesRepo.recordMarketPrice({
          pool_id: poolId,
          instance_type: type,
          region: 'us-east-1',
          az: `us-east-1-bench${n}`,
          price,
          on_demand_price: 0.1,
          priced_at: at,
          source: 'bench',
        });
        await pricesRepo.updatePoolStats(poolId, {
          risk_score: r() * 0.6,
          volatility: r() * 0.2,
          avg_price_24h: price,
          price_stddev_24h: 0,
          interruptions_30d: 0,
          history_hours: 24,
          stats_at: at,
        });
      }),
    );
  }
  const gateway = await startLocalGatewayForBench();
  try {
    const call = (path: string, token: string, body: unknown) => postJson(gateway.baseUrl, path, token, body);
    const created = await call('/api/admin/clients/create', adminToken, { name: `bench-decisions-${Date.now()}` });
    const token = (created.client as { token: string }).token;
    const reg = await call('/api/agents/register', token, {
      logical_agent_id: 'bench-decisions',
      instance_id: 'i-benchdecide0001',
      instance_type: type,
      region: 'us-east-1',
      az: 'us-east-1-bench0',
      mode: 'spot',
    });
    const path = `/api/agents/${reg.agent_id as string}/decide`;
    for (let i = 0; i < 20; i++) await call(path, token, {});
    const ms: number[] = [];
    const total = 200;
    process.stderr.write(`decisions/full-stack: ${total} decide calls over ${POOLS} stored pools\n`);
    for (let i = 0; i < total; i++) {
      const t0 = performance.now();
      await call(path, token, {});
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const at_ = (p: number) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)] ?? 0;
    return {
      pools: POOLS,
      requests: total,
      p50_ms: Math.round(at_(50) * 10) / 10,
      p99_ms: Math.round(at_(99) * 10) / 10,
      mean_ms: Math.round((ms.reduce((a, b) => a + b, 0) / ms.length) * 10) / 10,
    };
  } finally {
    await gateway.close();
  }
}

export async function run(adminToken?: string): Promise<Record<string, unknown>> {
  process.stderr.write(`decisions: ranking ${POOLS} pools per decision, ${ITERATIONS} decisions per variant\n`);
  return {
    rank_1000_pools_precomputed_risk: measure('precomputed-risk', true),
    rank_1000_pools_formula_risk: measure('formula-risk', false),
    ...(adminToken && process.env.DYNAMODB_ENDPOINT ? { decide_route_1000_stored_pools: await fullStack(adminToken) } : {}),
  };
}

// `tsx bin/bench/decisions.ts` runs the engine part alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)));
}
