/**
 * Latency statistics for benchmarks and the load test, pure.
 * - `percentile`: exact nearest-rank percentile of a sample (small samples).
 * - `LatencyHistogram`: constant-memory log-bucketed histogram for long runs; every recorded value
 *   lands in a bucket whose bounds are within `relativeError` of each other, so a quantile read
 *   from it is within that relative error of the exact nearest-rank value.
 */

/** Nearest-rank percentile (p in 0–100) of `values`; NaN for an empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export class LatencyHistogram {
  private readonly buckets = new Map<number, number>();
  private readonly logBase: number;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  /** Values below `floor` (ms) share the first bucket. */
  constructor(
    private readonly relativeError = 0.01,
    private readonly floor = 0.01,
  ) {
    this.logBase = Math.log1p(2 * relativeError);
  }

  private indexOf(ms: number): number {
    return ms <= this.floor ? 0 : Math.ceil(Math.log(ms / this.floor) / this.logBase);
  }

  /** The value reported for a bucket: the midpoint of its bounds (within relativeError of both). */
  private valueOf(index: number): number {
    if (index === 0) return this.floor;
    const upper = this.floor * Math.exp(index * this.logBase);
    const lower = this.floor * Math.exp((index - 1) * this.logBase);
    return (upper + lower) / 2;
  }

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const i = this.indexOf(ms);
    this.buckets.set(i, (this.buckets.get(i) ?? 0) + 1);
    this.count++;
    this.sum += ms;
    this.min = Math.min(this.min, ms);
    this.max = Math.max(this.max, ms);
  }

  merge(other: LatencyHistogram): void {
    for (const [i, n] of other.buckets) this.buckets.set(i, (this.buckets.get(i) ?? 0) + n);
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  get mean(): number {
    return this.count ? this.sum / this.count : Number.NaN;
  }

  /** Nearest-rank percentile (p in 0–100), clamped to the observed min and max; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.min(this.count, Math.max(1, Math.ceil((p / 100) * this.count)));
    let seen = 0;
    for (const i of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(i) as number;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, this.valueOf(i)));
    }
    return this.max;
  }
}
