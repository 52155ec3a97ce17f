/**
 * Pool risk and price statistics: small pure functions shared by the decision engine, the
 * pool-risk job, the pricing pipeline, the volatility route and the backtest.
 */

/** Weights and scales of the §4.6 risk formula. */
export interface RiskWeights {
  /** Weight of the interruption term (0.5). */
  interruptions: number;
  /** Weight of the volatility term (0.3). */
  volatility: number;
  /** Weight of the price-ratio term (0.2). */
  price_ratio: number;
  /** Interruptions in 30 days that saturate the interruption term (30). */
  interruptions_scale: number;
  /** Coefficient of variation that saturates the volatility term (0.2). */
  cv_scale: number;
  /** spot/on-demand ratio at which the price term starts (0.5). */
  price_ratio_floor: number;
  /** Width of the ratio band over which the price term rises from 0 to 1 (0.5). */
  price_ratio_span: number;
}

/** The weights written in API.md §4.6. */
export const DEFAULT_RISK_WEIGHTS: Readonly<RiskWeights> = Object.freeze({
  interruptions: 0.5,
  volatility: 0.3,
  price_ratio: 0.2,
  interruptions_scale: 30,
  cv_scale: 0.2,
  price_ratio_floor: 0.5,
  price_ratio_span: 0.5,
});

/** Inputs of {@link poolRiskScore}. */
export interface PoolRiskInput {
  /** Interruptions (or their proxy) observed in the pool over the last 30 days. */
  interruptions_30d: number;
  /** Coefficient of variation (stddev/mean) of the pool price over the last 24 h. */
  cv_24h: number;
  /** Current spot price of the pool. */
  spot: number;
  /** On-demand price of the instance type. */
  on_demand: number;
}

/** Clamps `x` into [lo, hi]; NaN becomes `lo`. */
export function clamp(x: number, lo: number, hi: number): number {
  if (Number.isNaN(x)) return lo;
  return Math.min(Math.max(x, lo), hi);
}

/** Divides and saturates at 1; a non-positive scale saturates immediately for any positive value. */
function saturate(value: number, scale: number): number {
  if (!(value > 0)) return 0;
  if (!(scale > 0)) return 1;
  return Math.min(value / scale, 1);
}

/**
 * §4.6 risk formula:
 * `0.5·min(interruptions_30d/30, 1) + 0.3·min(cv_24h/0.2, 1) + 0.2·clamp((spot/on-demand − 0.5)/0.5, 0, 1)`,
 * clamped into [0, 1]. Without a usable on-demand price the price term counts in full (a pool we
 * cannot compare with on-demand is not assumed to be cheap).
 */
export function poolRiskScore(input: PoolRiskInput, weights: RiskWeights = DEFAULT_RISK_WEIGHTS): number {
  const interruptionTerm = saturate(input.interruptions_30d, weights.interruptions_scale);
  const volatilityTerm = saturate(input.cv_24h, weights.cv_scale);
  let priceTerm = 1;
  if (input.on_demand > 0 && Number.isFinite(input.on_demand) && Number.isFinite(input.spot)) {
    const ratio = input.spot / input.on_demand;
    priceTerm =
      weights.price_ratio_span > 0
        ? clamp((ratio - weights.price_ratio_floor) / weights.price_ratio_span, 0, 1)
        : ratio > weights.price_ratio_floor
          ? 1
          : 0;
  }
  const score =
    weights.interruptions * interruptionTerm +
    weights.volatility * volatilityTerm +
    weights.price_ratio * priceTerm;
  return clamp(score, 0, 1);
}

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Population standard deviation (the series is the whole window, not a sample); NaN when empty. */
export function stddev(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const m = mean(values);
  let sq = 0;
  for (const v of values) sq += (v - m) * (v - m);
  return Math.sqrt(sq / values.length);
}

/** Coefficient of variation stddev/mean; 0 when the mean is not positive or the list is empty. */
export function coefficientOfVariation(values: readonly number[]): number {
  const m = mean(values);
  if (!(m > 0)) return 0;
  return stddev(values) / m;
}

/** Volatility category of a coefficient of variation (API.md §3.8). */
export type VolatilityCategory = 'low' | 'medium' | 'high';

/** `low` below 0.05, `medium` below 0.15, `high` otherwise (API.md §3.8). */
export function volatilityCategory(cv: number): VolatilityCategory {
  if (cv < 0.05) return 'low';
  if (cv < 0.15) return 'medium';
  return 'high';
}

/**
 * Percentile with linear interpolation between closest ranks (the common "type 7" definition);
 * `p` in [0, 100]. NaN for an empty list.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (clamp(p, 0, 100) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

/** Median (50th percentile). */
export function p50(values: readonly number[]): number {
  return percentile(values, 50);
}

/** 95th percentile. */
export function p95(values: readonly number[]): number {
  return percentile(values, 95);
}

/** Time-weighted statistics of a step-function price series over a window. */
export interface StepSeriesStats {
  /** Time-weighted mean price. */
  mean: number;
  /** Time-weighted (population) standard deviation. */
  stddev: number;
  /** stddev / mean (0 when the mean is not positive). */
  cv: number;
  min: number;
  max: number;
  /** Price in force at the end of the window. */
  last: number;
  /** Hours of the window covered by known prices (less than the window when the series starts late). */
  covered_hours: number;
  /** Price rows (changes) whose timestamp falls inside the covered window. */
  changes: number;
}

/**
 * Index of the last element of the ascending `times` (first `count` elements) that is `<= t`, or −1.
 */
export function lastIndexAtOrBefore(
  times: ArrayLike<number>,
  t: number,
  count: number = times.length,
): number {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Duration for which row `k` (of rows up to `end`) holds inside [from, to]. */
function heldWithin(times: ArrayLike<number>, k: number, end: number, from: number, to: number): number {
  const start = Math.max(times[k] as number, from);
  const stop = k < end ? Math.min(times[k + 1] as number, to) : to;
  return stop - start;
}

/**
 * Time-weighted statistics of a step function over `[from, to]` (epoch milliseconds): each price
 * holds from its timestamp until the next one, the last one until `to`. The price in force at
 * `from` is the last row at or before `from`; if the series starts after `from`, only the covered
 * part counts. Rows after `to` are ignored, so callers can pass a full history without look-ahead.
 * Returns null when no price is known inside the window.
 *
 * Time weighting matters because price rows are change records: a price that held for 20 h
 * must weigh more than one that held for 5 minutes.
 */
export function timeWeightedStats(
  times: ArrayLike<number>,
  prices: ArrayLike<number>,
  from: number,
  to: number,
): StepSeriesStats | null {
  const n = Math.min(times.length, prices.length);
  if (n === 0 || !(to > from)) return null;
  const end = lastIndexAtOrBefore(times, to, n);
  if (end < 0) return null;
  let first = lastIndexAtOrBefore(times, from, n);
  if (first < 0) first = 0;
  let weight = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let changes = 0;
  for (let k = first; k <= end; k++) {
    if ((times[k] as number) > from) changes++;
    const dt = heldWithin(times, k, end, from, to);
    if (dt <= 0) continue;
    const p = prices[k] as number;
    weight += dt;
    sum += p * dt;
    if (p < min) min = p;
    if (p > max) max = p;
  }
  const last = prices[end] as number;
  if (weight === 0) {
    // The only known price starts exactly at `to`: a zero-length window at that price.
    return { mean: last, stddev: 0, cv: 0, min: last, max: last, last, covered_hours: 0, changes };
  }
  const m = sum / weight;
  // Second pass rather than E[x²]−E[x]², so a constant series gives exactly 0.
  let sq = 0;
  for (let k = first; k <= end; k++) {
    const dt = heldWithin(times, k, end, from, to);
    if (dt <= 0) continue;
    const d = (prices[k] as number) - m;
    sq += d * d * dt;
  }
  const sd = Math.sqrt(sq / weight);
  return {
    mean: m,
    stddev: sd,
    cv: m > 0 ? sd / m : 0,
    min,
    max,
    last,
    covered_hours: weight / 3_600_000,
    changes,
  };
}

/** The price statistics the decision engine reads for a pool (see `PoolStats` in decision-engine.ts). */
export interface PoolPriceStats {
  /** Coefficient of variation over the window (the §4.6 `cv_24h` for a 24 h window). */
  volatility: number;
  /** Time-weighted mean price over the window. */
  avg_price_24h: number;
  /** Hours of the window covered by known prices. */
  history_hours: number;
}

/**
 * Statistics of a pool's step-function price history as of `now`, over the `windowHours` before
 * it (24 h by default): what the pool-risk job and the backtest hand to the engine. Rows after
 * `now` are ignored. Null when no price is known by `now`.
 */
export function poolPriceStatsAt(
  times: ArrayLike<number>,
  prices: ArrayLike<number>,
  now: number,
  windowHours = 24,
): PoolPriceStats | null {
  const s = timeWeightedStats(times, prices, now - windowHours * 3_600_000, now);
  if (!s) return null;
  return { volatility: s.cv, avg_price_24h: s.mean, history_hours: s.covered_hours };
}
