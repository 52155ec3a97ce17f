import { type PoolItem, pricesRepo } from './db/prices-repo.js';
import { MAX_INTERPOLATION_GAP_MS } from './domain/consolidation.js';
import { type StepSeriesStats, timeWeightedStats } from './domain/risk.js';

/**
 * A pool's recent price as a step series, for statistics (pool-risk job, pool-volatility route):
 * the consolidated 5-minute buckets (each holds until the next), then the POOL item's latest
 * observed price when it is newer than the last bucket, so the statistics stay fresh between
 * consolidation runs (every 12 h). Buckets from before the window are read as carry-in.
 */
export async function poolSeries(
  pool: Pick<PoolItem, 'pool_id' | 'price' | 'priced_at'>,
  fromMs: number,
  toMs: number,
): Promise<{ times: number[]; prices: number[] }> {
  const buckets = await pricesRepo.listConsolidatedPrices(
    pool.pool_id,
    new Date(fromMs - MAX_INTERPOLATION_GAP_MS).toISOString(),
    new Date(toMs).toISOString(),
  );
  const times: number[] = [];
  const prices: number[] = [];
  for (const b of buckets) {
    times.push(Date.parse(b.bucket_start));
    prices.push(b.price);
  }
  const latestAt = pool.priced_at ? Date.parse(pool.priced_at) : Number.NaN;
  if (typeof pool.price === 'number' && latestAt <= toMs && !(latestAt <= (times[times.length - 1] ?? Number.NEGATIVE_INFINITY))) {
    times.push(latestAt);
    prices.push(pool.price);
  }
  return { times, prices };
}

/** Time-weighted mean, stddev and cv of a pool's price over [to − windowHours, to]; null without data. */
export async function poolWindowStats(
  pool: Pick<PoolItem, 'pool_id' | 'price' | 'priced_at'>,
  windowHours: number,
  toMs: number,
): Promise<StepSeriesStats | null> {
  const fromMs = toMs - windowHours * 3_600_000;
  const { times, prices } = await poolSeries(pool, fromMs, toMs);
  return timeWeightedStats(times, prices, fromMs, toMs);
}
