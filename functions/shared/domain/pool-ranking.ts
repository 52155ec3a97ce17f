/**
 * The one ranking of spot pools, used wherever a pool is chosen: the decision engine's candidates
 * (API.md §4.6), a replica's pool and an emergency switch target (§3.6, §3.7), a rebalance's safer
 * pool, and the force-switch / simulate-switch targets (§3.5, §3.8). Pure: callers bring the pools.
 *
 * Every caller filters with the same eligibility rules and orders by one of two objectives:
 * - `safest`: lowest risk, then cheapest — a replica or an emergency target must survive what
 *   threatens the PRIMARY (a pool nobody measured ranks behind measured safe pools);
 * - `best-value`: lowest `expected price × (1 + risk_penalty × risk)`, then cheapest — the engine's
 *   score (expected price = w·current + (1−w)·24 h mean); with no penalty and w = 1 it is simply
 *   the cheapest pool.
 */

import { type Instant, toEpochMs } from './ids.js';
import { positiveOrNull } from './numbers.js';

/** A pool as the ranking reads it (POOL items and the engine's candidates map onto this). */
export interface RankablePool {
  pool_id: string;
  az: string;
  instance_type: string;
  price?: number | null;
  /** Risk in [0, 1]; null or absent when nobody measured it. */
  risk_score?: number | null;
  /** Age of the price; `priced_at` is used when this is absent. Neither means "fresh" (see `undatedIsStale`). */
  price_age_seconds?: number | null;
  priced_at?: Instant | null;
  /** 24 h time-weighted mean price (the sustained price). */
  avg_price_24h?: number | null;
}

export interface ScoredPool<P extends RankablePool = RankablePool> {
  pool: P;
  /** Positive price, or null when unknown. */
  price: number | null;
  risk: number | null;
  ageSeconds: number;
  /** The 24 h mean when known, else the price. */
  sustainedPrice: number | null;
  /** Expected price × (1 + risk penalty × risk); null without a price. */
  score: number | null;
}

export interface Scoring {
  /** Epoch ms the ages are measured at (default: now). */
  now?: number;
  /** Weight of a pool's risk in its score (default 0: the score is the expected price). */
  riskPenalty?: number;
  /** Weight of the current price against the 24 h mean in the expected price (default 1). */
  currentPriceWeight?: number;
  /** Pools without a positive price are left out (the engine cannot compare them). */
  requirePrice?: boolean;
  /** Pools of another instance type are left out. */
  instanceType?: string;
  /** A price without a time is of unknown age: stale (POOL items), instead of fresh (the engine's input). */
  undatedIsStale?: boolean;
}

export interface Ranking {
  order: 'safest' | 'best-value';
  excludePoolIds?: readonly (string | null)[];
  excludeAzs?: readonly string[];
  /** Risk at most this; a pool of unknown risk passes (no evidence of risk) unless `requireKnownRisk`. */
  maxRisk?: number;
  /** Risk strictly below this (a safer pool than the current one); null: no bound. */
  belowRisk?: number | null;
  requireKnownRisk?: boolean;
  /** Price at most this (on-demand, a ceiling); an unpriced pool passes unless `requirePrice`. */
  maxPrice?: number | null;
  requirePrice?: boolean;
  maxPriceAgeSeconds?: number;
}

/** Where a pool of unknown risk ranks in `safest` order: behind measured safe pools, ahead of risky ones. */
const UNKNOWN_RISK_RANK = 0.5;

function ageOf(pool: RankablePool, now: number, undatedIsStale: boolean): number {
  if (typeof pool.price_age_seconds === 'number' && Number.isFinite(pool.price_age_seconds)) return Math.max(pool.price_age_seconds, 0);
  if (pool.priced_at === undefined || pool.priced_at === null) return undatedIsStale ? Number.POSITIVE_INFINITY : 0;
  const at = toEpochMs(pool.priced_at);
  return Number.isFinite(at) ? Math.max((now - at) / 1000, 0) : Number.POSITIVE_INFINITY;
}

/**
 * The figures pools are ranked on. A pool listed twice (e.g. reports from PRIMARY and REPLICA)
 * keeps its fresher listing; scoring 1,000 pools stays linear.
 */
export function scorePools<P extends RankablePool>(pools: readonly P[], scoring: Scoring = {}): ScoredPool<P>[] {
  const now = scoring.now ?? Date.now();
  const penalty = scoring.riskPenalty ?? 0;
  const w = scoring.currentPriceWeight ?? 1;
  const byPool = new Map<string, ScoredPool<P>>();
  for (const pool of pools) {
    if (scoring.instanceType !== undefined && pool.instance_type !== scoring.instanceType) continue;
    const price = positiveOrNull(pool.price);
    if (price === null && scoring.requirePrice) continue;
    const ageSeconds = ageOf(pool, now, scoring.undatedIsStale ?? false);
    const dup = byPool.get(pool.pool_id);
    if (dup && dup.ageSeconds < ageSeconds) continue;
    const risk = typeof pool.risk_score === 'number' && Number.isFinite(pool.risk_score) ? pool.risk_score : null;
    const sustainedPrice = positiveOrNull(pool.avg_price_24h) ?? price;
    const expected = price === null ? null : w * price + (1 - w) * (sustainedPrice ?? price);
    byPool.set(pool.pool_id, {
      pool,
      price,
      risk,
      ageSeconds,
      sustainedPrice,
      score: expected === null ? null : expected * (1 + penalty * (risk ?? 0)),
    });
  }
  return [...byPool.values()];
}

const INF = Number.POSITIVE_INFINITY;
const byId = (a: ScoredPool, b: ScoredPool) => (a.pool.pool_id < b.pool.pool_id ? -1 : a.pool.pool_id > b.pool.pool_id ? 1 : 0);

const ORDERS: Record<Ranking['order'], (a: ScoredPool, b: ScoredPool) => number> = {
  'safest': (a, b) => (a.risk ?? UNKNOWN_RISK_RANK) - (b.risk ?? UNKNOWN_RISK_RANK) || (a.price ?? INF) - (b.price ?? INF) || byId(a, b),
  'best-value': (a, b) => (a.score ?? INF) - (b.score ?? INF) || (a.price ?? INF) - (b.price ?? INF) || byId(a, b),
};

/** The eligible pools, best first. */
export function rankPools<P extends RankablePool>(scored: readonly ScoredPool<P>[], ranking: Ranking): ScoredPool<P>[] {
  const excludedPools = new Set(ranking.excludePoolIds ?? []);
  const excludedAzs = new Set(ranking.excludeAzs ?? []);
  const { maxRisk, belowRisk, maxPrice, maxPriceAgeSeconds } = ranking;
  return scored
    .filter(
      (s) =>
        !excludedPools.has(s.pool.pool_id) &&
        !excludedAzs.has(s.pool.az) &&
        (s.risk === null
          ? !ranking.requireKnownRisk
          : (maxRisk === undefined || s.risk <= maxRisk) && (belowRisk === undefined || belowRisk === null || s.risk < belowRisk)) &&
        (s.price === null ? !ranking.requirePrice : maxPrice === undefined || maxPrice === null || s.price <= maxPrice) &&
        (maxPriceAgeSeconds === undefined || s.ageSeconds <= maxPriceAgeSeconds),
    )
    .sort(ORDERS[ranking.order]);
}
