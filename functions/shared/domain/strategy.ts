/**
 * What a replayable placement strategy sees and answers (the backtest core and the baseline
 * strategies both build on these, without importing each other).
 */

/** Where the workload runs. */
export type Placement = { mode: 'ondemand' } | { mode: 'spot'; poolId: string };

/** A pool as seen at one decision point. */
export interface PoolView {
  poolId: string;
  az: string;
  /** Price in force now. */
  price: number;
  /** Timestamp of the row that set the price. */
  pricedAt: number;
  /** The rows known now (at or before `now`), oldest first. */
  history(): { times: Float64Array; prices: Float64Array };
}

/** What a strategy sees at a decision point. */
export interface MarketView {
  now: number;
  region: string;
  instanceType: string;
  onDemandPrice: number;
  /** Pools with a known price now, sorted by pool id. */
  pools: readonly PoolView[];
  current: Placement & { since: number };
  /** Times of this workload's previous switches. */
  switchTimes: readonly number[];
  /** True while the last switch's cutover (downtime) is still running. */
  switchOpen: boolean;
}

/** A replayable strategy: returns the placement to move to, or null to stay. */
export interface Strategy {
  name: string;
  decide(view: MarketView): Placement | null;
  /** Placement at the window start; default: the cheapest pool, or on-demand if none is priced. */
  initial?(view: MarketView): Placement;
}
