/**
 * Benchmark: pricing consolidation throughput (points per second).
 *
 * 1. The pure core (functions/shared/domain/consolidation.ts) at 10 k, 100 k and 1 M staged points.
 *    Workload: one 13 h job window (12 h + the 1 h overlap) of a growing fleet — every pool has 5
 *    reporters every 5 minutes (4 PRIMARY, 1 REPLICA, ±60 s jitter), 1 % retried reports
 *    (duplicates) and one 2 h outage per pool (filled by interpolation); the number of pools grows
 *    with the point count (16 → 1,501 pools). Each size: the median of several timed runs after a
 *    warm-up; `growth` compares the throughput with the 10 k run (1.0 = linear scaling).
 * 2. The job against DynamoDB Local at 10 k points: staging (BatchWrite), then the job run (Query
 *    by day + core + BatchWrite of PRICE5M/PRICEH). DynamoDB Local is far slower than DynamoDB, so
 *    this bounds the I/O cost from above rather than predicting it.
 *
 * Progress goes to stderr; the figures are returned.
 */
import { randomBytes } from 'node:crypto';
import { consolidate, type PricePoint } from '../../functions/shared/domain/consolidation.js';
import { progress as benchProgress, rng, round } from './bench-env.js';

const HOUR = 3_600_000;
const BUCKET = 300_000;
const WINDOW_HOURS = 13;
const REPORTERS = 5;
const OUTAGE_BUCKETS = 24;
const T0 = Date.parse('2030-01-01T00:00:00.000Z');

const progress = (message: string): void => benchProgress(`consolidation: ${message}`);

/** About `target` staged points for a 13 h window (see the header). */
export function workload(target: number, seed = 1, typePrefix = 'm5'): PricePoint[] {
  const r = rng(seed);
  const buckets = (WINDOW_HOURS * HOUR) / BUCKET;
  const perPool = (buckets - OUTAGE_BUCKETS) * REPORTERS * 1.01;
  const pools = Math.max(1, Math.ceil(target / perPool));
  const points: PricePoint[] = [];
  for (let p = 0; p < pools; p++) {
    const poolId = `${typePrefix}.bench${Math.floor(p / 6)}.us-east-1${'abcdef'[p % 6]}`;
    const base = 0.02 + r() * 0.1;
    const outageStart = Math.floor(r() * (buckets - 30));
    for (let b = 0; b < buckets && points.length < target; b++) {
      if (b >= outageStart && b < outageStart + OUTAGE_BUCKETS) continue; // 2 h without reports
      const price = Math.round(base * (1 + 0.1 * Math.sin(b / 20) + 0.02 * r()) * 1e6) / 1e6;
      for (let k = 0; k < REPORTERS && points.length < target; k++) {
        const point: PricePoint = {
          pool_id: poolId,
          time: T0 + b * BUCKET + Math.floor(BUCKET / 2 + (r() - 0.5) * 120_000),
          price: Math.round(price * (1 + (r() - 0.5) * 0.002) * 1e6) / 1e6,
          on_demand_price: 0.096,
          source: k === REPORTERS - 1 ? 'REPLICA' : 'PRIMARY',
          reporter: `i-${p}-${k}`,
        };
        points.push(point);
        if (r() < 0.01 && points.length < target) points.push({ ...point }); // a retried report
      }
    }
  }
  return points;
}

function timeCore(points: PricePoint[], runs: number) {
  const times: number[] = [];
  let result: ReturnType<typeof consolidate> | undefined;
  for (let i = 0; i < runs; i++) {
    const input = points.slice(); // the core sorts per-pool arrays it builds itself; the input is untouched
    const started = performance.now();
    result = consolidate(input, { windowStart: T0, windowEnd: T0 + WINDOW_HOURS * HOUR });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] as number, result: result as ReturnType<typeof consolidate> };
}

async function dynamoRun(points: number) {
  const { pricesRepo } = await import('../../functions/shared/db/prices-repo.js');
  const { consolidatePrices } = await import('../../functions/jobs/pricing-consolidation/job.js');
  const prefix = `zb${randomBytes(3).toString('hex')}`;
  const generated = workload(points, 7, prefix);
  const staged = generated.map((p) => ({
    pool_id: p.pool_id,
    instance_type: p.pool_id.slice(0, p.pool_id.lastIndexOf('.')),
    region: 'us-east-1',
    az: p.pool_id.slice(p.pool_id.lastIndexOf('.') + 1),
    price: p.price,
    on_demand_price: p.on_demand_price,
    collected_at: new Date(p.time).toISOString(),
    source_role: p.source,
    agent_id: null,
    client_id: null,
    reporter_instance_id: p.reporter,
  }));
  progress(`DynamoDB Local: staging ${staged.length} points`);
  let started = performance.now();
  await pricesRepo.stage(staged);
  const stageMs = performance.now() - started;
  progress(`DynamoDB Local: running the job over ${new Set(staged.map((s) => s.pool_id)).size} pools`);
  started = performance.now();
  const summary = await consolidatePrices(new Date(T0 + WINDOW_HOURS * HOUR), {
    windowStart: new Date(T0),
    trigger: 'manual',
    pools: [...new Set(staged.map((s) => s.pool_id))],
  });
  const jobMs = performance.now() - started;
  const written = Number(summary.buckets_written) + Number(summary.hours_written);
  return {
    points: staged.length,
    stage_ms: Math.round(stageMs),
    stage_points_per_s: Math.round(staged.length / (stageMs / 1000)),
    job_ms: Math.round(jobMs),
    job_points_per_s: Math.round(Number(summary.points_read) / (jobMs / 1000)),
    items_written: written,
    items_written_per_s: Math.round(written / (jobMs / 1000)),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  progress('warm-up (JIT)');
  timeCore(workload(100_000, 99), 3);
  const rows: Record<string, unknown>[] = [];
  let baseline = 0;
  for (const [size, runs] of [
    [10_000, 9],
    [100_000, 5],
    [1_000_000, 3],
  ] as const) {
    const points = workload(size, size);
    progress(`core: ${points.length} points, ${runs} runs`);
    const { ms, result } = timeCore(points, runs);
    const perSecond = points.length / (ms / 1000);
    if (baseline === 0) baseline = perSecond;
    rows.push({
      points: points.length,
      pools: new Set(points.map((p) => p.pool_id)).size,
      median_ms: round(ms, 1),
      points_per_s: Math.round(perSecond),
      growth_vs_10k: round(perSecond / baseline, 2),
      buckets_out: result.buckets.length,
      interpolated: result.stats.points_interpolated,
      duplicates_removed: result.stats.duplicates_removed,
      replica_discarded: result.stats.lower_rank_discarded,
      hours_out: result.hours.length,
    });
  }
  let dynamodb: Record<string, unknown> | string;
  if (process.env.DYNAMODB_ENDPOINT && process.env.TABLE_NAME) {
    dynamodb = await dynamoRun(10_000);
  } else {
    dynamodb = 'skipped: no DYNAMODB_ENDPOINT/TABLE_NAME (run through npm run bench)';
  }
  return { core: rows, dynamodb_local_10k: dynamodb };
}

// Standalone: `npx tsx bin/bench/consolidation.ts` (core only unless a DynamoDB Local env is set).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)));
}
