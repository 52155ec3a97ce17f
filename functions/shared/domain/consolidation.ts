/**
 * Pricing consolidation (API.md §6) as a pure function: staged price points → one consolidated
 * point per pool per 5-minute bucket → the canonical hourly series per pool.
 *
 * Rules, in order, per pool:
 * 1. Points are grouped into 5-minute buckets (UTC, aligned on epoch multiples of 5 min).
 * 2. Duplicates are dropped: one reporter counts once per bucket, with its latest point (a retried
 *    report, or two reports of one agent 5 minutes apart landing in one bucket through jitter).
 * 3. Precedence: PRIMARY > REPLICA > EC2_API. A bucket that has a point of a better class discards
 *    the points of worse classes. EC2_API points come from the DescribeSpotPriceHistory backfill and
 *    rank below every agent report, so a backfill never overrides what the fleet observed.
 * 4. Each bucket keeps the median of its remaining points (risk.ts `p50`).
 * 5. Gaps between two observed buckets are filled, marked `is_interpolated`:
 *    - after an agent point (PRIMARY/REPLICA, a *sample*): linear interpolation, only when the two
 *      observed buckets are at most 6 h apart; longer gaps stay empty;
 *    - after an EC2_API point (a price *change record*: the price holds until the next change, see
 *      EC2-SIGNALS.md §7): the price is held until the next observed bucket, and after the last one
 *      until `holdUntil` (the backfill's EndTime, up to which the API vouches for the price).
 *      Linear interpolation would invent prices between two change records.
 * 6. Canonical hour: average, minimum, maximum and last of the hour's buckets (observed and filled;
 *    equal-width buckets, so the plain mean is the time-weighted mean), the latest known on-demand
 *    price, and the pool's interruptions in that hour.
 *
 * Only buckets and hours inside the window are returned; points before the window serve as anchors
 * (carry-in) for the first gap. The window start is aligned down to the hour so every canonical hour
 * is computed from all of its buckets. Output depends only on the input (order-independent): the
 * same staging gives the same items, which is what makes rerunning the job harmless.
 */
import { p50 } from './risk.js';

export const BUCKET_MS = 5 * 60_000;
export const HOUR_MS = 3_600_000;
/** API.md §6: gaps of up to 6 h are filled by linear interpolation. */
export const MAX_INTERPOLATION_GAP_MS = 6 * HOUR_MS;

export type PriceSource = 'PRIMARY' | 'REPLICA' | 'EC2_API';

/** Lower wins (rule 3). */
export const SOURCE_RANK: Readonly<Record<PriceSource, number>> = Object.freeze({
  PRIMARY: 0,
  REPLICA: 1,
  EC2_API: 2,
});
const SOURCES_BY_RANK: readonly PriceSource[] = ['PRIMARY', 'REPLICA', 'EC2_API'];

/** One staged observation. */
export interface PricePoint {
  pool_id: string;
  /** Epoch milliseconds of the observation (`collected_at`, or the EC2 record's `Timestamp`). */
  time: number;
  price: number;
  on_demand_price: number | null;
  source: PriceSource;
  /** Who observed it (reporting instance id; `ec2-api` for the backfill): the dedupe identity. */
  reporter: string;
}

export interface ConsolidationOptions {
  /** Epoch ms; aligned down to the hour. */
  windowStart: number;
  /** Epoch ms, exclusive. */
  windowEnd: number;
  /** Interruption times per pool (epoch ms), for the canonical `interruptions` count. */
  interruptions?: ReadonlyMap<string, readonly number[]>;
  /** After a pool's last EC2_API point, its price holds until this time (exclusive). */
  holdUntil?: number;
  /** Longest gap between observed buckets that linear interpolation fills (default 6 h). */
  maxGapMs?: number;
}

export type FillMethod = 'linear' | 'hold';

/** One 5-minute point of the consolidated series. */
export interface ConsolidatedBucket {
  pool_id: string;
  /** Epoch ms of the bucket start. */
  bucket_start: number;
  price: number;
  on_demand_price: number | null;
  is_interpolated: boolean;
  /** How an interpolated bucket was filled; null for an observed one. */
  fill: FillMethod | null;
  /** The winning class of an observed bucket; for a filled one, the class of its left anchor. */
  source: PriceSource;
  /** Points the median was taken over (0 for a filled bucket). */
  samples: number;
}

/** One hour of the canonical series. */
export interface CanonicalHour {
  pool_id: string;
  /** Epoch ms of the hour start. */
  hour_start: number;
  avg_price: number;
  min_price: number;
  max_price: number;
  /** Price of the hour's latest bucket. */
  last_price: number;
  on_demand_price: number | null;
  interruptions: number;
  /** Buckets of the hour that have a price (at most 12). */
  buckets: number;
  interpolated_buckets: number;
}

export interface ConsolidationStats {
  points_read: number;
  duplicates_removed: number;
  /** Points discarded because their bucket had a point of a better class (rule 3). */
  lower_rank_discarded: number;
  /** Observed buckets inside the window. */
  buckets_observed: number;
  /** Filled buckets inside the window (ConsolidationJob `points_interpolated`). */
  points_interpolated: number;
  hours: number;
  pools: number;
}

export interface ConsolidationResult {
  /** The aligned window actually covered. */
  window_start: number;
  window_end: number;
  /** Sorted by pool, then time. */
  buckets: ConsolidatedBucket[];
  /** Sorted by pool, then time. */
  hours: CanonicalHour[];
  stats: ConsolidationStats;
}

/** Derived prices are rounded to 8 decimals: EC2 quotes 6, medians and means add at most a few. */
export const roundPrice = (x: number): number => Math.round(x * 1e8) / 1e8;

export const bucketOf = (time: number): number => Math.floor(time / BUCKET_MS) * BUCKET_MS;
export const hourOf = (time: number): number => Math.floor(time / HOUR_MS) * HOUR_MS;

/** Total order over points, so the result never depends on input order. */
function comparePoints(a: PricePoint, b: PricePoint): number {
  return (
    a.time - b.time ||
    SOURCE_RANK[a.source] - SOURCE_RANK[b.source] ||
    (a.reporter < b.reporter ? -1 : a.reporter > b.reporter ? 1 : 0) ||
    a.price - b.price ||
    (a.on_demand_price ?? -1) - (b.on_demand_price ?? -1)
  );
}

/** The observed buckets of one pool (rules 1–4), ascending. */
interface Observed {
  starts: number[];
  prices: number[];
  onDemand: (number | null)[];
  sources: PriceSource[];
  samples: number[];
}

function observeBuckets(points: PricePoint[], stats: ConsolidationStats): Observed {
  points.sort(comparePoints);
  const out: Observed = { starts: [], prices: [], onDemand: [], sources: [], samples: [] };
  const seen = new Set<string>();
  let i = 0;
  while (i < points.length) {
    const bucket = bucketOf((points[i] as PricePoint).time);
    let j = i;
    while (j < points.length && bucketOf((points[j] as PricePoint).time) === bucket) j++;
    // Rule 2: walk the bucket newest first; the first point of each reporter is the one kept.
    seen.clear();
    const kept: PricePoint[] = [];
    for (let k = j - 1; k >= i; k--) {
      const p = points[k] as PricePoint;
      if (seen.has(p.reporter)) {
        stats.duplicates_removed++;
        continue;
      }
      seen.add(p.reporter);
      kept.push(p);
    }
    // Rule 3: the best class present wins the bucket.
    let best = 3;
    for (const p of kept) best = Math.min(best, SOURCE_RANK[p.source]);
    const prices: number[] = [];
    let onDemand: number | null = null;
    for (const p of kept) {
      if (SOURCE_RANK[p.source] !== best) {
        stats.lower_rank_discarded++;
        continue;
      }
      prices.push(p.price);
      // `kept` is newest first: the first on-demand price met is the latest one.
      if (onDemand === null && p.on_demand_price !== null) onDemand = p.on_demand_price;
    }
    out.starts.push(bucket);
    out.prices.push(roundPrice(prices.length === 1 ? (prices[0] as number) : p50(prices)));
    out.onDemand.push(onDemand);
    out.sources.push(SOURCES_BY_RANK[best] as PriceSource);
    out.samples.push(prices.length);
    i = j;
  }
  return out;
}

/** Accumulates the buckets of one hour into a canonical hour. */
class HourAccumulator {
  hour = Number.NaN;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private last = 0;
  private onDemand: number | null = null;
  private count = 0;
  private filled = 0;

  constructor(
    private readonly poolId: string,
    private readonly interruptions: readonly number[],
    private readonly out: CanonicalHour[],
  ) {}

  add(b: ConsolidatedBucket): void {
    const hour = hourOf(b.bucket_start);
    if (hour !== this.hour) {
      this.flush();
      this.hour = hour;
    }
    this.sum += b.price;
    if (b.price < this.min) this.min = b.price;
    if (b.price > this.max) this.max = b.price;
    this.last = b.price;
    if (b.on_demand_price !== null) this.onDemand = b.on_demand_price;
    this.count++;
    if (b.is_interpolated) this.filled++;
  }

  flush(): void {
    if (this.count > 0) {
      let interruptions = 0;
      for (const t of this.interruptions) if (t >= this.hour && t < this.hour + HOUR_MS) interruptions++;
      this.out.push({
        pool_id: this.poolId,
        hour_start: this.hour,
        avg_price: roundPrice(this.sum / this.count),
        min_price: this.min,
        max_price: this.max,
        last_price: this.last,
        on_demand_price: this.onDemand,
        interruptions,
        buckets: this.count,
        interpolated_buckets: this.filled,
      });
    }
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
    this.onDemand = null;
    this.count = 0;
    this.filled = 0;
  }
}

/**
 * Runs rules 1–6 over `points` (any order, any pools) and returns the consolidated buckets and
 * canonical hours of the window. Pure and deterministic.
 */
export function consolidate(points: Iterable<PricePoint>, options: ConsolidationOptions): ConsolidationResult {
  const windowStart = hourOf(options.windowStart);
  const windowEnd = options.windowEnd;
  const maxGap = options.maxGapMs ?? MAX_INTERPOLATION_GAP_MS;
  const stats: ConsolidationStats = {
    points_read: 0,
    duplicates_removed: 0,
    lower_rank_discarded: 0,
    buckets_observed: 0,
    points_interpolated: 0,
    hours: 0,
    pools: 0,
  };
  const byPool = new Map<string, PricePoint[]>();
  for (const p of points) {
    stats.points_read++;
    if (!Number.isFinite(p.time) || !Number.isFinite(p.price) || p.price < 0) continue;
    let list = byPool.get(p.pool_id);
    if (!list) {
      list = [];
      byPool.set(p.pool_id, list);
    }
    list.push(p);
  }

  const buckets: ConsolidatedBucket[] = [];
  const hours: CanonicalHour[] = [];
  for (const poolId of [...byPool.keys()].sort()) {
    const obs = observeBuckets(byPool.get(poolId) as PricePoint[], stats);
    const interruptions = options.interruptions?.get(poolId) ?? [];
    const acc = new HourAccumulator(poolId, interruptions, hours);
    const before = buckets.length;
    const emit = (b: ConsolidatedBucket) => {
      buckets.push(b);
      acc.add(b);
      if (b.is_interpolated) stats.points_interpolated++;
      else stats.buckets_observed++;
    };
    /** Fills buckets in (from, to) exclusive of both observed ends, clipped to the window. */
    const fill = (i: number, to: number, method: FillMethod) => {
      const from = obs.starts[i] as number;
      const v0 = obs.prices[i] as number;
      const v1 = method === 'linear' ? (obs.prices[i + 1] as number) : v0;
      const onDemand = obs.onDemand[i] ?? (method === 'linear' ? (obs.onDemand[i + 1] ?? null) : null);
      const first = Math.max(from + BUCKET_MS, windowStart);
      const stop = Math.min(to, windowEnd);
      for (let t = first; t < stop; t += BUCKET_MS) {
        emit({
          pool_id: poolId,
          bucket_start: t,
          price: method === 'linear' ? roundPrice(v0 + ((v1 - v0) * (t - from)) / (to - from)) : v0,
          on_demand_price: onDemand,
          is_interpolated: true,
          fill: method,
          source: obs.sources[i] as PriceSource,
          samples: 0,
        });
      }
    };
    const n = obs.starts.length;
    for (let i = 0; i < n; i++) {
      const start = obs.starts[i] as number;
      if (start >= windowStart && start < windowEnd) {
        emit({
          pool_id: poolId,
          bucket_start: start,
          price: obs.prices[i] as number,
          on_demand_price: obs.onDemand[i] ?? null,
          is_interpolated: false,
          fill: null,
          source: obs.sources[i] as PriceSource,
          samples: obs.samples[i] as number,
        });
      }
      const isChangeRecord = obs.sources[i] === 'EC2_API';
      if (i + 1 < n) {
        const next = obs.starts[i + 1] as number;
        if (next - start <= BUCKET_MS || next <= windowStart) continue;
        if (isChangeRecord) fill(i, next, 'hold');
        else if (next - start <= maxGap) fill(i, next, 'linear');
      } else if (isChangeRecord && options.holdUntil !== undefined && options.holdUntil > start) {
        fill(i, options.holdUntil, 'hold');
      }
    }
    acc.flush();
    if (buckets.length > before) stats.pools++;
  }
  stats.hours = hours.length;
  return { window_start: windowStart, window_end: windowEnd, buckets, hours, stats };
}
