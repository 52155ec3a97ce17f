/**
 * Baseline strategies the backtest compares the decision engine with. Each is stateless: it
 * sees a {@link MarketView} (prices known now) and returns the placement to move to, or null.
 */
import type { MarketView, Placement, PoolView, Strategy } from './strategy.js';

/** The cheapest pool priced now (ties: lowest pool id, so runs are deterministic). */
export function cheapestPool(view: MarketView): PoolView | undefined {
  let best: PoolView | undefined;
  for (const p of view.pools) {
    if (!best || p.price < best.price || (p.price === best.price && p.poolId < best.poolId)) best = p;
  }
  return best;
}

/** Price of the current placement (on-demand price when on on-demand or when the pool is unknown). */
export function currentPrice(view: MarketView): number {
  if (view.current.mode === 'ondemand') return view.onDemandPrice;
  const id = view.current.poolId;
  return view.pools.find((p) => p.poolId === id)?.price ?? view.onDemandPrice;
}

/** Never uses spot: the reference every saving is measured against. */
export const alwaysOnDemand: Strategy = {
  name: 'always-ondemand',
  initial: () => ({ mode: 'ondemand' }),
  decide: (view) => (view.current.mode === 'ondemand' ? null : { mode: 'ondemand' }),
};

/**
 * Always in the cheapest pool: switches whenever another pool is strictly cheaper than the
 * current one, whatever the saving, the risk or the switch count.
 */
export const alwaysCheapest: Strategy = {
  name: 'always-cheapest',
  decide(view) {
    const best = cheapestPool(view);
    if (!best) return null;
    if (view.current.mode === 'spot' && best.price >= currentPrice(view)) return null;
    return { mode: 'spot', poolId: best.poolId };
  },
};

/** Thresholds of the older rule set. */
export interface LegacyRulesOptions {
  /** Spot above this fraction of on-demand → on-demand (0.8). */
  ondemandAboveRatio: number;
  /** The cheapest pool must save more than this fraction of the current price (0.3). */
  minSaving: number;
}

/**
 * The older rule set: spot price above 80 % of on-demand → on-demand; a saving of more than 30 %
 * against what the workload pays now (on-demand, or the current pool) → spot in the cheapest pool.
 * It has no risk, limits or hysteresis beyond those two thresholds.
 */
export function legacyRules(
  options: LegacyRulesOptions = { ondemandAboveRatio: 0.8, minSaving: 0.3 },
): Strategy {
  return {
    name: 'legacy-rules',
    decide(view): Placement | null {
      const od = view.onDemandPrice;
      const price = currentPrice(view);
      // The old rules went to on-demand first and only re-entered spot on a later evaluation.
      if (view.current.mode === 'spot' && price > options.ondemandAboveRatio * od)
        return { mode: 'ondemand' };
      const best = cheapestPool(view);
      if (!best) return null;
      if (view.current.mode === 'spot' && best.poolId === view.current.poolId) return null;
      if ((price - best.price) / price > options.minSaving) return { mode: 'spot', poolId: best.poolId };
      return null;
    },
  };
}
