/**
 * Backtest core: replays spot price history for one workload per instance type and measures
 * what a strategy would have cost. Pure and synchronous; reading files is the CLI's job.
 *
 * Simulation model (documented choices):
 * - Prices are step functions: each row holds from its timestamp until the pool's next row.
 * - Decision points: every price change of the workload's pools (the agent reports prices every
 *   5 min, so a change is visible almost at once) plus a fixed cadence (15 min by default, the
 *   pool-risk job's schedule) so that time-based rules (min pool duration, 24 h means) are
 *   re-evaluated between price changes.
 * - No look-ahead: a strategy sees only rows at or before `now` (histories are cut with
 *   `subarray`, so later rows are not even reachable).
 * - Start: every spot strategy starts in the pool that is cheapest at the window start (on
 *   always-ondemand: on-demand); the initial launch is not a switch.
 * - A switch at time t: the new placement is billed from t; the old instance keeps running (and
 *   is billed at its own, possibly changing, price) for `overlapSeconds` (terminate_wait_seconds,
 *   300 s by default); the cutover's downtime is charged at the on-demand price (lost service is
 *   valued at what the capacity costs on demand). The workload counts as being in the new
 *   placement from t: the old instance is then a ZOMBIE that serves no traffic (API.md §4.2).
 * - savings = 1 − cost / (on-demand price × window hours), summed over workloads;
 *   switches/week = switches / workloads / window weeks; hours above on-demand = total hours
 *   (over all workloads) placed in a spot pool whose price in force exceeds the on-demand price.
 */
import { alwaysCheapest, alwaysOnDemand, legacyRules } from './baseline-strategies.js';
import { type DecisionEngine, type DecisionLimits, DEFAULT_LIMITS, type PoolCandidate } from './decision-engine.js';
import type { OnDemandPrices, PoolHistory } from './price-history.js';
import { lastIndexAtOrBefore, poolPriceStatsAt } from './risk.js';
import type { MarketView, Placement, PoolView, Strategy } from './strategy.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One workload: an instance type in a region, with its pools and on-demand price. */
export interface Workload {
  region: string;
  instanceType: string;
  onDemandPrice: number;
  pools: readonly PoolHistory[];
}

/** The replayed time window (epoch ms, end exclusive). */
export interface ReplayWindow {
  start: number;
  end: number;
}

export interface SimulationOptions {
  /** Decision cadence in minutes besides price changes; 0 = price changes only. */
  decisionIntervalMinutes: number;
  /** Old and new instance both run (and are billed) this long after a switch. */
  overlapSeconds: number;
  /** Service lost per switch, charged at the on-demand price. */
  downtimeSeconds: number;
  /** Keep a per-switch log in the results. */
  recordSwitches: boolean;
}

export const DEFAULT_SIMULATION_OPTIONS: Readonly<SimulationOptions> = Object.freeze({
  decisionIntervalMinutes: 15,
  overlapSeconds: 300,
  downtimeSeconds: 60,
  recordSwitches: false,
});

export interface SwitchRecord {
  time: number;
  from: string;
  to: string;
  fromPrice: number;
  toPrice: number;
}

export interface WorkloadResult {
  strategy: string;
  region: string;
  instanceType: string;
  onDemandPrice: number;
  hours: number;
  /** Total cost including switch overlap and downtime charges. */
  cost: number;
  /** Cost of running on-demand for the whole window. */
  onDemandCost: number;
  switches: number;
  hoursAboveOnDemand: number;
  hoursOnDemand: number;
  /** Part of `cost` from old instances still running after a switch. */
  overlapCost: number;
  /** Part of `cost` charged for downtime. */
  downtimeCost: number;
  switchLog: SwitchRecord[];
}

function placementKey(p: Placement): string {
  return p.mode === 'spot' ? p.poolId : 'ondemand';
}

function samePlacement(a: Placement, b: Placement): boolean {
  return placementKey(a) === placementKey(b);
}

/** Sorted, de-duplicated decision times in [start, end): price changes plus the cadence. */
function decisionTimes(workload: Workload, window: ReplayWindow, intervalMinutes: number): Float64Array {
  const set = new Set<number>([window.start]);
  for (const pool of workload.pools) {
    for (const t of pool.times) if (t > window.start && t < window.end) set.add(t);
  }
  if (intervalMinutes > 0) {
    const step = intervalMinutes * 60_000;
    for (let t = window.start + step; t < window.end; t += step) set.add(t);
  }
  return Float64Array.from(set).sort();
}

/**
 * Replays one workload under one strategy over `window`. Exact for step-function prices: every
 * price change is an event, so prices are constant between consecutive events.
 */
export function simulateWorkload(
  workload: Workload,
  strategy: Strategy,
  window: ReplayWindow,
  options: Partial<SimulationOptions> = {},
  times?: Float64Array,
): WorkloadResult {
  const opts: SimulationOptions = { ...DEFAULT_SIMULATION_OPTIONS, ...options };
  const od = workload.onDemandPrice;
  const events = times ?? decisionTimes(workload, window, opts.decisionIntervalMinutes);
  const pools = [...workload.pools].sort((a, b) => (a.poolId < b.poolId ? -1 : a.poolId > b.poolId ? 1 : 0));
  const idx = pools.map(() => -1);
  const byId = new Map(pools.map((p, i) => [p.poolId, i]));

  const priceOf = (p: Placement): number => {
    if (p.mode === 'ondemand') return od;
    const i = byId.get(p.poolId);
    const k = i === undefined ? -1 : (idx[i] as number);
    // A pool without a known price cannot be placed in; guard anyway by billing on-demand.
    return i === undefined || k < 0 ? od : ((pools[i] as PoolHistory).prices[k] as number);
  };

  let placement: Placement = { mode: 'ondemand' };
  let since = window.start;
  const switchTimes: number[] = [];
  const zombies: { placement: Placement; until: number }[] = [];
  const result: WorkloadResult = {
    strategy: strategy.name,
    region: workload.region,
    instanceType: workload.instanceType,
    onDemandPrice: od,
    hours: (window.end - window.start) / HOUR_MS,
    cost: 0,
    onDemandCost: (od * (window.end - window.start)) / HOUR_MS,
    switches: 0,
    hoursAboveOnDemand: 0,
    hoursOnDemand: 0,
    overlapCost: 0,
    downtimeCost: 0,
    switchLog: [],
  };

  for (let e = 0; e < events.length; e++) {
    const t = events[e] as number;
    const tNext = e + 1 < events.length ? (events[e + 1] as number) : window.end;
    for (let i = 0; i < pools.length; i++) {
      const pool = pools[i] as PoolHistory;
      let k = idx[i] as number;
      while (k + 1 < pool.times.length && (pool.times[k + 1] as number) <= t) k++;
      idx[i] = k;
    }
    const lastSwitch = switchTimes.length > 0 ? (switchTimes[switchTimes.length - 1] as number) : null;
    const view: MarketView = {
      now: t,
      region: workload.region,
      instanceType: workload.instanceType,
      onDemandPrice: od,
      pools: buildPoolViews(pools, idx),
      current: { ...placement, since },
      switchTimes,
      switchOpen: lastSwitch !== null && t < lastSwitch + opts.downtimeSeconds * 1000,
    };
    if (e === 0) {
      placement = strategy.initial ? strategy.initial(view) : defaultInitial(view);
      since = t;
    } else {
      const target = strategy.decide(view);
      if (target && !samePlacement(target, placement) && isPlaceable(target, view)) {
        const fromPrice = priceOf(placement);
        zombies.push({ placement, until: t + opts.overlapSeconds * 1000 });
        const downtime = (od * opts.downtimeSeconds) / 3600;
        result.downtimeCost += downtime;
        result.cost += downtime;
        result.switches++;
        switchTimes.push(t);
        if (opts.recordSwitches) {
          result.switchLog.push({
            time: t,
            from: placementKey(placement),
            to: placementKey(target),
            fromPrice,
            toPrice: priceOf(target),
          });
        }
        placement = target;
        since = t;
      }
    }

    // Accrue the segment [t, tNext): all prices are constant inside it.
    const hours = (tNext - t) / HOUR_MS;
    const price = priceOf(placement);
    result.cost += price * hours;
    if (placement.mode === 'ondemand') result.hoursOnDemand += hours;
    else if (price > od) result.hoursAboveOnDemand += hours;
    for (let z = zombies.length - 1; z >= 0; z--) {
      const zombie = zombies[z] as { placement: Placement; until: number };
      const overlap = Math.min(zombie.until, tNext) - t;
      if (overlap > 0) {
        const c = (priceOf(zombie.placement) * overlap) / HOUR_MS;
        result.overlapCost += c;
        result.cost += c;
      }
      if (zombie.until <= tNext) zombies.splice(z, 1);
    }
  }
  return result;
}

/** A pool at one decision point. A class, not closures: views are built at every event. */
class PoolSnapshot implements PoolView {
  readonly poolId: string;
  readonly az: string;
  readonly price: number;
  readonly pricedAt: number;
  readonly #pool: PoolHistory;
  readonly #known: number;

  constructor(pool: PoolHistory, k: number) {
    this.poolId = pool.poolId;
    this.az = pool.az;
    this.price = pool.prices[k] as number;
    this.pricedAt = pool.times[k] as number;
    this.#pool = pool;
    this.#known = k + 1;
  }

  history(): { times: Float64Array; prices: Float64Array } {
    return {
      times: this.#pool.times.subarray(0, this.#known),
      prices: this.#pool.prices.subarray(0, this.#known),
    };
  }
}

function buildPoolViews(pools: readonly PoolHistory[], idx: readonly number[]): PoolView[] {
  const views: PoolView[] = [];
  for (let i = 0; i < pools.length; i++) {
    const k = idx[i] as number;
    if (k >= 0) views.push(new PoolSnapshot(pools[i] as PoolHistory, k));
  }
  return views;
}

function isPlaceable(p: Placement, view: MarketView): boolean {
  return p.mode === 'ondemand' || view.pools.some((v) => v.poolId === p.poolId);
}

function defaultInitial(view: MarketView): Placement {
  let best: PoolView | undefined;
  for (const p of view.pools) if (!best || p.price < best.price) best = p;
  return best && best.price <= view.onDemandPrice
    ? { mode: 'spot', poolId: best.poolId }
    : { mode: 'ondemand' };
}

// ---------------------------------------------------------------------------------------------
// The decision engine as a strategy
// ---------------------------------------------------------------------------------------------

export interface EngineStrategyOptions {
  name: string;
  limits: DecisionLimits;
  /** Window of the volatility and mean statistics (24 h: cv_24h in §4.6). */
  statsWindowHours: number;
  /** Window of the interruption proxy (30 days). */
  interruptionWindowDays: number;
}

/**
 * Number of times the price rose from at or below `ceiling` to above it within (from, to]: the
 * backtest's interruption proxy. The history has no interruption records; an instance bidding
 * the default max price (the on-demand price) is reclaimed each time the price crosses it.
 */
export function crossingsAbove(
  times: ArrayLike<number>,
  prices: ArrayLike<number>,
  ceiling: number,
  from: number,
  to: number,
): number {
  let k = Math.max(lastIndexAtOrBefore(times, from), 0);
  let n = 0;
  for (; k < times.length && (times[k] as number) <= to; k++) {
    if ((times[k] as number) <= from || k === 0) continue;
    if ((prices[k] as number) > ceiling && (prices[k - 1] as number) <= ceiling) n++;
  }
  return n;
}

/**
 * Wraps a {@link DecisionEngine} as a backtest strategy. Pool statistics are derived from the
 * prices seen so far: time-weighted 24 h mean and coefficient of variation, and the interruption
 * proxy of {@link crossingsAbove}. Prices are passed with age 0: a change record's price is the
 * price in force, exactly as fresh as the agent's 5-minute reports in the live system.
 */
export function engineStrategy(
  engine: DecisionEngine,
  options: Partial<EngineStrategyOptions> = {},
): Strategy {
  const opts: EngineStrategyOptions = {
    name: 'default',
    limits: DEFAULT_LIMITS,
    statsWindowHours: 24,
    interruptionWindowDays: 30,
    ...options,
  };
  return {
    name: opts.name,
    decide(view) {
      const now = view.now;
      const candidates: PoolCandidate[] = view.pools.map((pool) => {
        const h = pool.history();
        const stats = poolPriceStatsAt(h.times, h.prices, now, opts.statsWindowHours);
        return {
          pool_id: pool.poolId,
          az: pool.az,
          instance_type: view.instanceType,
          price: pool.price,
          price_age_seconds: 0,
          stats: {
            volatility: stats?.volatility ?? 0,
            avg_price_24h: stats?.avg_price_24h ?? pool.price,
            history_hours: stats?.history_hours ?? 0,
            interruptions_30d: crossingsAbove(
              h.times,
              h.prices,
              view.onDemandPrice,
              now - opts.interruptionWindowDays * DAY_MS,
              now,
            ),
          },
        };
      });
      const d = engine.decide({
        agent: { enabled: true, auto_switch_enabled: true, switch_open: view.switchOpen },
        current: {
          mode: view.current.mode,
          pool_id: view.current.mode === 'spot' ? view.current.poolId : null,
          instance_type: view.instanceType,
          since: view.current.since,
        },
        candidates,
        on_demand_price: view.onDemandPrice,
        limits: opts.limits,
        recent_switches: view.switchTimes,
        now,
        trigger: 'model',
      });
      if (d.recommended_action !== 'switch' || !d.allowed) return null;
      if (d.recommended_mode === 'ondemand') return { mode: 'ondemand' };
      return d.recommended_pool_id ? { mode: 'spot', poolId: d.recommended_pool_id } : null;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running a whole file
// ---------------------------------------------------------------------------------------------

/** The four strategies of the report, in report order. */
export function standardStrategies(
  engine: DecisionEngine,
  limits: DecisionLimits = DEFAULT_LIMITS,
): Strategy[] {
  return [engineStrategy(engine, { name: 'default', limits }), alwaysOnDemand, alwaysCheapest, legacyRules()];
}

export interface SkippedWorkload {
  region: string;
  instanceType: string;
  reason: string;
}

/** One workload per (region, instance type); types without an on-demand price are skipped. */
export function buildWorkloads(
  pools: ReadonlyMap<string, PoolHistory>,
  onDemand: OnDemandPrices,
): { workloads: Workload[]; skipped: SkippedWorkload[] } {
  const groups = new Map<string, PoolHistory[]>();
  for (const pool of pools.values()) {
    const key = `${pool.region}\u0000${pool.instanceType}`;
    const list = groups.get(key) ?? [];
    list.push(pool);
    groups.set(key, list);
  }
  const workloads: Workload[] = [];
  const skipped: SkippedWorkload[] = [];
  for (const key of [...groups.keys()].sort()) {
    const list = groups.get(key)!;
    const first = list[0] as PoolHistory;
    const price = onDemand[first.region]?.[first.instanceType];
    if (price === undefined) {
      skipped.push({ region: first.region, instanceType: first.instanceType, reason: 'no on-demand price' });
      continue;
    }
    workloads.push({
      region: first.region,
      instanceType: first.instanceType,
      onDemandPrice: price,
      pools: list,
    });
  }
  return { workloads, skipped };
}

function utcMonthStartAtOrAfter(t: number): number {
  const d = new Date(t);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return start === t ? t : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * The window to replay. Price files hold whole UTC months plus, per pool, the last row before
 * the month (its "carry-in" price), so the window runs from the first month boundary after the
 * earliest row to the first boundary at or after the last row when those boundaries are within
 * 24 h of the data (the largest gap between rows of a pool); otherwise from the moment every
 * pool has a price to the last row.
 */
export function replayWindow(pools: Iterable<PoolHistory>): ReplayWindow {
  let earliest = Number.POSITIVE_INFINITY;
  let latest = Number.NEGATIVE_INFINITY;
  let allPriced = Number.NEGATIVE_INFINITY;
  for (const p of pools) {
    if (p.times.length === 0) continue;
    const first = p.times[0] as number;
    const last = p.times[p.times.length - 1] as number;
    earliest = Math.min(earliest, first);
    latest = Math.max(latest, last);
    allPriced = Math.max(allPriced, first);
  }
  if (!Number.isFinite(earliest)) throw new Error('no price rows');
  const startBoundary = utcMonthStartAtOrAfter(earliest);
  const endBoundary = utcMonthStartAtOrAfter(latest);
  const start = startBoundary - earliest <= DAY_MS && startBoundary < latest ? startBoundary : allPriced;
  const end = endBoundary - latest <= DAY_MS && endBoundary > start ? endBoundary : latest;
  if (!(end > start)) throw new Error('price history too short to replay');
  return { start, end };
}

/** Aggregate figures for one strategy over all workloads. */
export interface StrategySummary {
  name: string;
  /** 1 − cost / always-on-demand cost, in percent. */
  savings_percent: number;
  /** Switches per workload per week. */
  switches_per_week: number;
  /** Hours (summed over workloads) in a spot pool priced above on-demand. */
  hours_above_ondemand: number;
  /** Largest switches-per-week of any single workload. */
  max_switches_per_week: number;
  switches: number;
  cost: number;
  ondemand_cost: number;
  hours_ondemand: number;
}

export interface BacktestReport {
  window: ReplayWindow;
  workloads: number;
  skipped: SkippedWorkload[];
  strategies: StrategySummary[];
  /** Per strategy, per workload. */
  details: WorkloadResult[];
}

export interface BacktestProgress {
  index: number;
  total: number;
  workload: Workload;
  results: WorkloadResult[];
}

/** Summarises per-workload results of one strategy. */
export function summarise(
  name: string,
  results: readonly WorkloadResult[],
  window: ReplayWindow,
): StrategySummary {
  const weeks = (window.end - window.start) / (7 * DAY_MS);
  let cost = 0;
  let odCost = 0;
  let switches = 0;
  let above = 0;
  let hoursOd = 0;
  let maxPerWeek = 0;
  for (const r of results) {
    cost += r.cost;
    odCost += r.onDemandCost;
    switches += r.switches;
    above += r.hoursAboveOnDemand;
    hoursOd += r.hoursOnDemand;
    maxPerWeek = Math.max(maxPerWeek, r.switches / weeks);
  }
  return {
    name,
    savings_percent: odCost > 0 ? (1 - cost / odCost) * 100 : 0,
    switches_per_week: results.length > 0 ? switches / results.length / weeks : 0,
    hours_above_ondemand: above,
    max_switches_per_week: maxPerWeek,
    switches,
    cost,
    ondemand_cost: odCost,
    hours_ondemand: hoursOd,
  };
}

/**
 * Replays every workload under every strategy. `onProgress` is called after each workload (for
 * the CLI's progress lines).
 */
export function runBacktest(
  workloads: readonly Workload[],
  strategies: readonly Strategy[],
  window: ReplayWindow,
  options: Partial<SimulationOptions> = {},
  onProgress?: (p: BacktestProgress) => void,
): BacktestReport {
  const opts: SimulationOptions = { ...DEFAULT_SIMULATION_OPTIONS, ...options };
  const details: WorkloadResult[] = [];
  workloads.forEach((workload, index) => {
    const times = decisionTimes(workload, window, opts.decisionIntervalMinutes);
    const results = strategies.map((s) => simulateWorkload(workload, s, window, opts, times));
    details.push(...results);
    onProgress?.({ index, total: workloads.length, workload, results });
  });
  return {
    window,
    workloads: workloads.length,
    skipped: [],
    strategies: strategies.map((s) =>
      summarise(
        s.name,
        details.filter((d) => d.strategy === s.name),
        window,
      ),
    ),
    details,
  };
}
