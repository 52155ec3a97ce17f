/**
 * The decision engine (API.md §4.6): a pure function from the agent's situation to a decision.
 * No I/O: the decide route, the switch-recommendation route, the pool-risk job and the backtest
 * all build a {@link DecisionInput} from their own data and call {@link DecisionEngine.decide}.
 *
 * The engine is pluggable through data only: {@link engineParametersSchema} describes every
 * tunable value, a model/engine upload is a JSON object validated against it, and
 * {@link createDefaultEngine} turns a parameter set into an engine. No code is ever uploaded.
 */
import * as z from 'zod';
import { type Instant, toEpochMs } from './ids.js';
import { round } from './numbers.js';
import { type RankablePool, rankPools, type ScoredPool, scorePools } from './pool-ranking.js';
import { clamp, DEFAULT_RISK_WEIGHTS, poolRiskScore, type RiskWeights } from './risk.js';
import { DEFAULT_AGENT_CONFIG } from './types.js';

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

const fraction = z.number().min(0).max(1);
const nonNegative = z.number().min(0).finite();
const positive = z.number().positive().finite();

/** Weights of the §4.6 risk formula (the defaults are the formula as written: risk.ts DEFAULT_RISK_WEIGHTS). */
const formula = DEFAULT_RISK_WEIGHTS;
const riskWeightsSchema = z
  .object({
    interruptions: fraction.default(formula.interruptions),
    volatility: fraction.default(formula.volatility),
    price_ratio: fraction.default(formula.price_ratio),
    interruptions_scale: positive.default(formula.interruptions_scale),
    cv_scale: positive.default(formula.cv_scale),
    price_ratio_floor: nonNegative.default(formula.price_ratio_floor),
    price_ratio_span: positive.default(formula.price_ratio_span),
  })
  .strict() satisfies z.ZodType<RiskWeights>;

const thresholdsSchema = z
  .object({
    /** Rule 1: leave a spot pool whose price exceeds this fraction of on-demand. */
    spot_ceiling_ratio: z.number().gt(0).max(1).default(0.8),
    /** Rule 2: minimum saving against on-demand before leaving on-demand (percent). */
    leave_ondemand_min_savings_percent: z.number().min(0).max(100).default(30),
    /** Candidates must have a price no older than this. */
    max_price_age_seconds: positive.default(7200),
  })
  .strict();

const scoringSchema = z
  .object({
    /**
     * Candidates are ranked by `expected_price × (1 + risk_penalty × risk)`: a risky pool must be
     * clearly cheaper to win, because an interruption costs a forced switch.
     */
    risk_penalty: nonNegative.default(0.25),
    /**
     * Expected price = w·current + (1−w)·24 h time-weighted mean: a pool that is cheap only at
     * this instant ranks lower than one that has been cheap all day.
     */
    current_price_weight: fraction.default(0.5),
  })
  .strict();

const hysteresisSchema = z
  .object({
    /**
     * A cost-driven switch needs its saving to hold on the 24 h time-weighted means as well as on
     * the current prices, so a transient dip (or a transient spike of the current pool) does not
     * trigger a switch that the next price change would undo.
     */
    require_sustained_saving: z.boolean().default(true),
    /**
     * Hours we expect to stay in a new pool. The expected gain over this period (the smaller of
     * the current and the sustained price difference, × hours) must repay the switch cost.
     */
    holding_period_hours: positive.default(48),
    /**
     * What one switch costs, in hours of the on-demand price: the overlap of old and new instance
     * (terminate_wait_seconds, 5 min by default), the downtime of the cutover, and the risk that a
     * switch fails or disturbs the workload. 1 h makes small absolute gains on cheap types not
     * worth a switch even when the configured percentage is low.
     */
    switch_cost_ondemand_hours: nonNegative.default(1),
    /**
     * Each switch in the last 7 days raises the saving a cost-driven switch needs by this fraction
     * of min_savings_percent: frequent switching is evidence that prices churn, so a new gap is
     * less likely to last. Keeps the rate low (well under 2 a week) without a hard cap; safety
     * exits are not affected.
     */
    recent_switch_escalation: nonNegative.default(0.5),
  })
  .strict();

const safetySchema = z
  .object({
    /**
     * When rule 1 or an over-risk pool forces us out of spot and a candidate would qualify for
     * leaving on-demand anyway, go straight there: one switch instead of two (spot → on-demand →
     * spot), and the workload never pays on-demand in between.
     */
    direct_spot_fallback: z.boolean().default(true),
    /**
     * A spot pool priced above on-demand is left even when the daily/weekly/min-duration limits
     * would block a model switch: staying costs more than on-demand itself, and an instance
     * bidding the default max price (= on-demand) would be reclaimed anyway.
     */
    urgent_exit_bypasses_limits: z.boolean().default(true),
  })
  .strict();

const confidenceSchema = z
  .object({
    /** Hours of price history for full confidence in a pool's statistics. */
    full_history_hours: positive.default(24),
    /** Confidence of a safety exit (rule 1, risk, emergency, above on-demand). */
    safety_exit: fraction.default(0.9),
  })
  .strict();

/**
 * The engine's tunable parameters. Every field has a default, so `{}` is a valid parameter set
 * and an upload only lists what it changes. Unknown keys are rejected at every level.
 */
export const engineParametersSchema = z
  .object({
    risk_weights: riskWeightsSchema.prefault({}),
    thresholds: thresholdsSchema.prefault({}),
    scoring: scoringSchema.prefault({}),
    hysteresis: hysteresisSchema.prefault({}),
    safety: safetySchema.prefault({}),
    confidence: confidenceSchema.prefault({}),
  })
  .strict();

/** Engine parameters with every default applied. */
export type EngineParameters = z.infer<typeof engineParametersSchema>;
/** Engine parameters as uploaded (any field may be omitted). */
export type EngineParametersInput = z.input<typeof engineParametersSchema>;

let defaults: EngineParameters | undefined;

/**
 * The default parameter set (all schema defaults). Computed on first use: a zod parse compiles the
 * schema, work a function's cold start should not pay before it decides anything.
 */
export function defaultEngineParameters(): EngineParameters {
  return (defaults ??= Object.freeze(engineParametersSchema.parse({})));
}

/** Validates an uploaded parameter object and fills in defaults; throws a ZodError on failure. */
export function parseEngineParameters(input: unknown): EngineParameters {
  return engineParametersSchema.parse(input);
}

/**
 * Canonical JSON of a parameter set (defaults applied, keys sorted), the input of the upload's
 * sha256: two uploads that mean the same parameters hash the same.
 */
export function canonicalEngineParameters(params: EngineParametersInput): string {
  return canonicalJson(engineParametersSchema.parse(params));
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Input and output
// ---------------------------------------------------------------------------------------------

export type PlacementMode = 'spot' | 'ondemand';
export type DecisionTrigger = 'model' | 'manual' | 'emergency';
export type DecisionType = 'stay_spot' | 'stay_ondemand' | 'switch_to_spot' | 'switch_to_ondemand';

/** Pool statistics; all optional: missing ones count as "no evidence of risk". */
export interface PoolStats {
  /** Precomputed risk in [0, 1]. When absent it is computed with the §4.6 formula from the fields below. */
  risk_score?: number | null;
  /** Coefficient of variation of the price over the last 24 h (cv_24h). */
  volatility?: number | null;
  /** Interruptions observed in this pool over the last 30 days. */
  interruptions_30d?: number | null;
  /** Time-weighted mean price over the last 24 h (used for ranking and for sustained savings). */
  avg_price_24h?: number | null;
  /** Hours of price history behind these statistics (confidence only). */
  history_hours?: number | null;
}

/** A spot pool the engine may consider; pools of another instance type are ignored. */
export interface PoolCandidate {
  /** `"<instance_type>.<az>"`. */
  pool_id: string;
  az: string;
  instance_type: string;
  /** Current spot price, USD per instance-hour. */
  price: number;
  /** Age of the price; `priced_at` is used when this is absent. Neither means "fresh". */
  price_age_seconds?: number | null;
  priced_at?: Instant | null;
  stats?: PoolStats | null;
}

/** The §4.5 limits the engine honours. */
export interface DecisionLimits {
  min_savings_percent: number;
  risk_threshold: number;
  max_switches_per_day: number;
  max_switches_per_week: number;
  min_pool_duration_hours: number;
}

/** §4.5 defaults: the limits of an agent whose config was never changed. */
export const DEFAULT_LIMITS: Readonly<DecisionLimits> = Object.freeze({
  min_savings_percent: DEFAULT_AGENT_CONFIG.min_savings_percent,
  risk_threshold: DEFAULT_AGENT_CONFIG.risk_threshold,
  max_switches_per_day: DEFAULT_AGENT_CONFIG.max_switches_per_day,
  max_switches_per_week: DEFAULT_AGENT_CONFIG.max_switches_per_week,
  min_pool_duration_hours: DEFAULT_AGENT_CONFIG.min_pool_duration_hours,
});

/** Everything the engine needs for one decision. */
export interface DecisionInput {
  agent: {
    enabled: boolean;
    /** Does not change the decision; see {@link willAutoExecute}. */
    auto_switch_enabled: boolean;
    /** A switch command is already in flight for this agent. */
    switch_open: boolean;
  };
  current: {
    mode: PlacementMode;
    /** Current spot pool (null on on-demand). */
    pool_id: string | null;
    instance_type: string;
    /** When the instance entered its current pool (or on-demand). */
    since: Instant;
    /** Current spot price if known; otherwise taken from the matching entry of `candidates`. */
    price?: number | null;
  };
  /** Same-type spot pools with prices and statistics; may (and should) include the current pool. */
  candidates: readonly PoolCandidate[];
  on_demand_price: number;
  limits: DecisionLimits;
  /** Start times of recent switches of this agent (at least the last 7 days). */
  recent_switches: readonly Instant[];
  now: Instant;
  /** manual and emergency skip the daily/weekly/min-duration limits; emergency also leaves the current pool. */
  trigger: DecisionTrigger;
  /** Confidence threshold of the active upload: a cost-driven switch below it becomes a stay. */
  confidence_threshold?: number | null;
}

/** The engine's answer: exactly the fields of the decide route (API.md §3.9) except `decision_id`. */
export interface Decision {
  decision_type: DecisionType;
  recommended_action: 'stay' | 'switch';
  recommended_mode: PlacementMode;
  /** Recommended spot pool; null when the recommendation is on-demand. */
  recommended_pool_id: string | null;
  /**
   * Risk of the spot pool the decision is about: the recommended pool when it recommends spot,
   * the pool being left for switch_to_ondemand, 0 for stay_ondemand.
   */
  risk_score: number;
  /** Current hourly price − recommended hourly price (negative when moving to on-demand costs more). */
  expected_savings_per_hour: number;
  /** 0..1. */
  confidence: number;
  /** False when the agent is disabled, a switch is open, or a limit blocks a model switch. */
  allowed: boolean;
  reason: string;
}

/** A decision engine: anything that maps a {@link DecisionInput} to a {@link Decision}. */
export interface DecisionEngine {
  decide(input: DecisionInput): Decision;
}

/**
 * Whether a decision would be executed automatically by the pool-risk job: a model switch that is
 * allowed, for an agent with auto-switch on.
 */
export function willAutoExecute(decision: Decision, input: Pick<DecisionInput, 'agent'>): boolean {
  return decision.recommended_action === 'switch' && decision.allowed && input.agent.auto_switch_enabled;
}

// ---------------------------------------------------------------------------------------------
// The default engine
// ---------------------------------------------------------------------------------------------

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A candidate as the engine compares it: the shared ranking's figures, all known (prices are required). */
type EnginePool = RankablePool & { historyHours: number | null };
type ScoredCandidate = ScoredPool<EnginePool> & { price: number; sustainedPrice: number; risk: number; score: number };

function formatPrice(p: number): string {
  return `$${round(p, 6)}/h`;
}

function percentText(fractionValue: number): string {
  return `${round(fractionValue * 100, 1)}%`;
}

/**
 * Creates the default engine (API.md §4.6 plus hysteresis). Rules, in order:
 *
 * 1. Safety exits from spot (no saving threshold, no hysteresis):
 *    - emergency trigger, spot price above `spot_ceiling_ratio` (80 %) of on-demand, or current
 *      pool risk above `risk_threshold` → move to the best candidate if it saves at least
 *      max(min_savings_percent, 30 %) against on-demand (`direct_spot_fallback`), else on-demand.
 * 2. Cost-driven switch to the best-scoring candidate when its saving against the current price
 *    is at least min_savings_percent (≥ 30 % when leaving on-demand), and — the hysteresis —
 *    the saving also holds on 24 h means, the threshold is raised by 50 % per switch in the last
 *    7 days, and the expected gain over the holding period (48 h) repays the switch cost (1 h of
 *    on-demand).
 * 3. Otherwise stay.
 *
 * Why hysteresis: the §4.6 rules alone compare instantaneous prices, so two pools whose prices
 * cross back and forth make the agent follow every crossing; each switch costs an overlap,
 * a downtime and a chance of failure. Demanding that a saving be durable and worth the switch
 * keeps the rate far below two a week while losing little against always-cheapest.
 *
 * Candidates are same-type pools whose price is at most 2 h old, whose risk is at most
 * `risk_threshold`, and whose price is at most `spot_ceiling_ratio` of on-demand (so never above
 * on-demand). They are ranked by a risk-adjusted expected price. `allowed` follows §4.6; manual
 * and emergency triggers skip the limits, and leaving a pool priced above on-demand skips them
 * too (`urgent_exit_bypasses_limits`). A cost-driven switch whose confidence is below
 * `input.confidence_threshold` becomes a stay.
 */
export function createDefaultEngine(params: EngineParametersInput = defaultEngineParameters()): DecisionEngine {
  const p = engineParametersSchema.parse(params);
  return { decide: (input) => decide(p, input) };
}

function decide(p: EngineParameters, input: DecisionInput): Decision {
  const now = toEpochMs(input.now);
  const od = input.on_demand_price;
  const { limits, current, trigger } = input;
  const riskThreshold = limits.risk_threshold;

  if (!(od > 0) || !Number.isFinite(od)) {
    return finish(input, p, {
      type: current.mode === 'spot' ? 'stay_spot' : 'stay_ondemand',
      pool: current.mode === 'spot' ? current.pool_id : null,
      risk: 0,
      savings: 0,
      confidence: 0,
      reason: 'No on-demand price is known for this instance type; staying.',
      safety: false,
      urgent: false,
    });
  }

  const scored = scoreCandidates(p, input, now);
  const currentPool =
    current.mode === 'spot' ? scored.find((s) => s.pool.pool_id === current.pool_id) : undefined;
  const currentPrice =
    current.mode === 'spot' ? (positiveOrNull(current.price) ?? currentPool?.price ?? null) : od;

  // Candidates (§4.6) plus "never above on-demand": the ceiling also keeps rule 1 from
  // immediately undoing the move.
  const maxAge = p.thresholds.max_price_age_seconds;
  const ceiling = p.thresholds.spot_ceiling_ratio * od;
  const candidates = rankPools(scored, {
    order: 'best-value',
    maxPriceAgeSeconds: maxAge,
    maxRisk: riskThreshold,
    maxPrice: Math.min(ceiling, od),
    excludePoolIds: trigger === 'emergency' && current.mode === 'spot' ? [current.pool_id] : [],
  }) as ScoredCandidate[];
  const best = candidates.find((c) => !(current.mode === 'spot' && c.pool.pool_id === current.pool_id));
  const leaveOdFraction =
    Math.max(limits.min_savings_percent, p.thresholds.leave_ondemand_min_savings_percent) / 100;

  if (current.mode === 'spot') {
    if (currentPrice === null) {
      // Without the current price nothing can be compared; only an emergency forces a move.
      if (trigger !== 'emergency') {
        return finish(input, p, {
          type: 'stay_spot',
          pool: current.pool_id,
          risk: currentPool?.risk ?? 0,
          savings: 0,
          confidence: 0.2,
          reason: 'The current spot price is unknown; staying until a price is reported.',
          safety: false,
          urgent: false,
        });
      }
    }
    const price = currentPrice ?? od;
    const currentRisk = currentPool?.risk ?? riskOf(p, { price, stats: null }, od);
    const aboveOd = currentPrice !== null && currentPrice > od;
    const overCeiling = currentPrice !== null && currentPrice > ceiling;
    const tooRisky = currentRisk > riskThreshold;

    if (trigger === 'emergency' || overCeiling || tooRisky) {
      const why =
        trigger === 'emergency'
          ? 'Emergency: the current pool is being reclaimed'
          : overCeiling
            ? `Spot price ${formatPrice(price)} is ${percentText(price / od)} of on-demand ${formatPrice(od)} (above ${percentText(p.thresholds.spot_ceiling_ratio)})`
            : `Pool risk ${round(currentRisk, 3)} exceeds the threshold ${riskThreshold}`;
      if (best && p.safety.direct_spot_fallback && qualifiesFromOnDemand(p, best, od, leaveOdFraction)) {
        return finish(input, p, {
          type: 'switch_to_spot',
          pool: best.pool.pool_id,
          risk: best.risk,
          savings: price - best.price,
          confidence: p.confidence.safety_exit * dataQuality(p, [best]),
          reason: `${why}; moving to ${best.pool.pool_id} at ${formatPrice(best.price)} (risk ${round(best.risk, 3)}).`,
          safety: true,
          urgent: aboveOd,
        });
      }
      return finish(input, p, {
        type: 'switch_to_ondemand',
        pool: null,
        risk: currentRisk,
        savings: price - od,
        confidence: p.confidence.safety_exit,
        reason: `${why}; no candidate pool qualifies, moving to on-demand.`,
        safety: true,
        urgent: aboveOd,
      });
    }

    // Cost-driven switch between spot pools.
    if (best) {
      const recent = countSince(input.recent_switches, now, 7 * DAY_MS);
      const need = (limits.min_savings_percent / 100) * (1 + p.hysteresis.recent_switch_escalation * recent);
      const savingNow = (price - best.price) / price;
      const currentSustained = currentPool?.sustainedPrice ?? price;
      const savingSustained = p.hysteresis.require_sustained_saving
        ? (currentSustained - best.sustainedPrice) / currentSustained
        : savingNow;
      const gainPerHour = p.hysteresis.require_sustained_saving
        ? Math.min(price - best.price, currentSustained - best.sustainedPrice)
        : price - best.price;
      const gainOverHolding = gainPerHour * p.hysteresis.holding_period_hours;
      const switchCost = p.hysteresis.switch_cost_ondemand_hours * od;
      if (savingNow >= need && savingSustained >= need && gainOverHolding >= switchCost) {
        const margin = Math.min(savingNow, savingSustained) / Math.max(need, 1e-9) - 1;
        return finish(input, p, {
          type: 'switch_to_spot',
          pool: best.pool.pool_id,
          risk: best.risk,
          savings: price - best.price,
          confidence: marginConfidence(margin) * dataQuality(p, [best, currentPool]),
          reason:
            `${best.pool.pool_id} at ${formatPrice(best.price)} saves ${percentText(savingNow)} against the current ` +
            `${formatPrice(price)} (${percentText(savingSustained)} on 24 h means; needed ${percentText(need)}).`,
          safety: false,
          urgent: false,
        });
      }
      return finish(input, p, {
        type: 'stay_spot',
        pool: current.pool_id,
        risk: currentRisk,
        savings: 0,
        confidence:
          stayConfidence(Math.min(savingNow, savingSustained), need) * dataQuality(p, [currentPool]),
        reason:
          savingNow >= need && savingSustained >= need
            ? `Best alternative ${best.pool.pool_id} saves ${formatPrice(gainPerHour)}, which over ${p.hysteresis.holding_period_hours} h does not repay a switch (${formatPrice(switchCost)}·h); staying.`
            : `Best alternative ${best.pool.pool_id} saves ${percentText(savingNow)} now and ${percentText(savingSustained)} on 24 h means; ${percentText(need)} needed; staying.`,
        safety: false,
        urgent: false,
      });
    }
    return finish(input, p, {
      type: 'stay_spot',
      pool: current.pool_id,
      risk: currentRisk,
      savings: 0,
      confidence: 0.8 * dataQuality(p, [currentPool]),
      reason: `The current pool is the best candidate at ${formatPrice(price)} (${percentText(price / od)} of on-demand); staying.`,
      safety: false,
      urgent: false,
    });
  }

  // On-demand: return to spot once a candidate clearly and durably saves enough (§4.6: ≥ 30 %).
  const target = candidates[0];
  if (target && qualifiesFromOnDemand(p, target, od, leaveOdFraction)) {
    const saving =
      1 - Math.max(target.price, p.hysteresis.require_sustained_saving ? target.sustainedPrice : 0) / od;
    return finish(input, p, {
      type: 'switch_to_spot',
      pool: target.pool.pool_id,
      risk: target.risk,
      savings: od - target.price,
      confidence: marginConfidence(saving / Math.max(leaveOdFraction, 1e-9) - 1) * dataQuality(p, [target]),
      reason: `${target.pool.pool_id} at ${formatPrice(target.price)} saves ${percentText(1 - target.price / od)} against on-demand ${formatPrice(od)} (needed ${percentText(leaveOdFraction)}).`,
      safety: false,
      urgent: false,
    });
  }
  return finish(input, p, {
    type: 'stay_ondemand',
    pool: null,
    risk: 0,
    savings: 0,
    confidence: 0.8,
    reason: target
      ? `Best candidate ${target.pool.pool_id} at ${formatPrice(target.price)} saves ${percentText(1 - target.price / od)} against on-demand; ${percentText(leaveOdFraction)} needed (also on 24 h means); staying on on-demand.`
      : 'No candidate spot pool (fresh price, risk within threshold, below the on-demand ceiling); staying on on-demand.',
    safety: false,
    urgent: false,
  });
}

/** Whether `c` saves `need` against on-demand, on current and (if required) sustained prices. */
function qualifiesFromOnDemand(p: EngineParameters, c: ScoredCandidate, od: number, need: number): boolean {
  const savingNow = 1 - c.price / od;
  const sustained = p.hysteresis.require_sustained_saving ? 1 - c.sustainedPrice / od : savingNow;
  return Math.min(savingNow, sustained) >= need;
}

/** Switches in the `windowMs` before `now`. */
function countSince(times: readonly Instant[], now: number, windowMs: number): number {
  let n = 0;
  for (const s of times) {
    const t = toEpochMs(s);
    if (Number.isFinite(t) && t <= now && now - t < windowMs) n++;
  }
  return n;
}

function positiveOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && x > 0 && Number.isFinite(x) ? x : null;
}

function riskOf(
  p: EngineParameters,
  pool: { price: number; stats: PoolStats | null | undefined },
  od: number,
): number {
  const given = pool.stats?.risk_score;
  if (typeof given === 'number' && Number.isFinite(given)) return clamp(given, 0, 1);
  return poolRiskScore(
    {
      interruptions_30d: pool.stats?.interruptions_30d ?? 0,
      cv_24h: pool.stats?.volatility ?? 0,
      spot: pool.price,
      on_demand: od,
    },
    p.risk_weights,
  );
}

/** The candidates scored by the shared pool ranking (pools/risk.ts formula for a missing risk). */
function scoreCandidates(p: EngineParameters, input: DecisionInput, now: number): ScoredCandidate[] {
  const pools: EnginePool[] = input.candidates.map((c) => {
    const hh = c.stats?.history_hours;
    return {
      pool_id: c.pool_id,
      az: c.az,
      instance_type: c.instance_type,
      price: c.price,
      price_age_seconds: typeof c.price_age_seconds === 'number' && Number.isFinite(c.price_age_seconds) ? c.price_age_seconds : null,
      priced_at: c.priced_at ?? null,
      avg_price_24h: c.stats?.avg_price_24h ?? null,
      risk_score: positiveOrNull(c.price) === null ? null : riskOf(p, { price: c.price, stats: c.stats }, input.on_demand_price),
      historyHours: typeof hh === 'number' && Number.isFinite(hh) ? hh : null,
    };
  });
  return scorePools(pools, {
    now,
    instanceType: input.current.instance_type,
    requirePrice: true,
    riskPenalty: p.scoring.risk_penalty,
    currentPriceWeight: p.scoring.current_price_weight,
  }) as ScoredCandidate[];
}

/** Confidence from how far a saving clears its threshold: 0.5 at the threshold, 1 at twice it. */
function marginConfidence(margin: number): number {
  return 0.5 + 0.5 * clamp(margin, 0, 1);
}

/** Confidence in staying: high when the best alternative is far from the threshold. */
function stayConfidence(saving: number, need: number): number {
  if (!(need > 0)) return 0.5;
  return 0.5 + 0.5 * clamp(1 - saving / need, 0, 1);
}

/** Less history behind the statistics means less confidence (down to 50 %). */
function dataQuality(p: EngineParameters, pools: readonly (ScoredCandidate | undefined)[]): number {
  let q = 1;
  for (const s of pools) {
    if (!s || s.pool.historyHours === null) continue;
    q = Math.min(q, 0.5 + 0.5 * clamp(s.pool.historyHours / p.confidence.full_history_hours, 0, 1));
  }
  return q;
}

interface Draft {
  type: DecisionType;
  pool: string | null;
  risk: number;
  savings: number;
  confidence: number;
  reason: string;
  /** A safety exit (not subject to the confidence threshold). */
  safety: boolean;
  /** Leaving a pool priced above on-demand (may bypass limits). */
  urgent: boolean;
}

/** Applies `allowed`, the confidence threshold, and rounding. */
function finish(input: DecisionInput, p: EngineParameters, draft: Draft): Decision {
  const now = toEpochMs(input.now);
  let d = draft;
  const isSwitch = d.type === 'switch_to_spot' || d.type === 'switch_to_ondemand';
  const threshold = input.confidence_threshold;
  if (isSwitch && !d.safety && typeof threshold === 'number' && d.confidence < threshold) {
    d = {
      ...d,
      type: input.current.mode === 'spot' ? 'stay_spot' : 'stay_ondemand',
      pool: input.current.mode === 'spot' ? input.current.pool_id : null,
      savings: 0,
      reason: `${d.reason} Confidence ${round(d.confidence, 3)} is below the threshold ${threshold}; staying.`,
    };
  }

  const blockers: string[] = [];
  if (!input.agent.enabled) blockers.push('the agent is disabled');
  if (input.agent.switch_open) blockers.push('a switch is already open');
  const bypass = d.urgent && p.safety.urgent_exit_bypasses_limits;
  if (input.trigger === 'model' && !bypass) {
    const { limits } = input;
    const day = countSince(input.recent_switches, now, DAY_MS);
    const week = countSince(input.recent_switches, now, 7 * DAY_MS);
    if (day >= limits.max_switches_per_day)
      blockers.push(`daily switch limit reached (${day}/${limits.max_switches_per_day})`);
    if (week >= limits.max_switches_per_week)
      blockers.push(`weekly switch limit reached (${week}/${limits.max_switches_per_week})`);
    const since = toEpochMs(input.current.since);
    const inPoolHours = (now - since) / HOUR_MS;
    if (Number.isFinite(since) && inPoolHours < limits.min_pool_duration_hours) {
      blockers.push(
        `in the current ${input.current.mode === 'spot' ? 'pool' : 'mode'} for ${round(inPoolHours, 2)} h, less than ${limits.min_pool_duration_hours} h`,
      );
    }
  }
  const allowed = blockers.length === 0;
  const recommendedMode: PlacementMode =
    d.type === 'stay_spot' || d.type === 'switch_to_spot' ? 'spot' : 'ondemand';
  return {
    decision_type: d.type,
    recommended_action: d.type === 'switch_to_spot' || d.type === 'switch_to_ondemand' ? 'switch' : 'stay',
    recommended_mode: recommendedMode,
    recommended_pool_id: recommendedMode === 'spot' ? d.pool : null,
    risk_score: round(clamp(d.risk, 0, 1), 4),
    expected_savings_per_hour: round(d.savings, 6),
    confidence: round(clamp(d.confidence, 0, 1), 3),
    allowed,
    reason: allowed ? d.reason : `${d.reason} Not allowed: ${blockers.join('; ')}.`,
  };
}
