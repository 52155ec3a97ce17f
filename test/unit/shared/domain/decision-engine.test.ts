import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEngineParameters, createDefaultEngine, defaultEngineParameters, DEFAULT_LIMITS, type DecisionInput, engineParametersSchema, type PoolCandidate, parseEngineParameters, willAutoExecute } from '../../../../functions/shared/domain/decision-engine.js';
import { toEpochMs } from '../../../../functions/shared/domain/ids.js';

const NOW = Date.parse('2025-01-15T12:00:00Z');
const H = 3_600_000;
const TYPE = 'm5.large';

function pool(az: string, price: number, extra: Partial<PoolCandidate> = {}): PoolCandidate {
  return {
    pool_id: `${TYPE}.us-east-1${az}`,
    az: `us-east-1${az}`,
    instance_type: TYPE,
    price,
    price_age_seconds: 60,
    stats: { volatility: 0.01, interruptions_30d: 0, avg_price_24h: price, history_hours: 24 },
    ...extra,
  };
}

/** On spot in pool a at 0.035 (on-demand 0.1) for 10 h, default limits, no recent switches. */
function input(overrides: Partial<DecisionInput> = {}): DecisionInput {
  return {
    agent: { enabled: true, auto_switch_enabled: true, switch_open: false },
    current: { mode: 'spot', pool_id: `${TYPE}.us-east-1a`, instance_type: TYPE, since: NOW - 10 * H },
    candidates: [pool('a', 0.035), pool('b', 0.034), pool('c', 0.05)],
    on_demand_price: 0.1,
    limits: { ...DEFAULT_LIMITS },
    recent_switches: [],
    now: NOW,
    trigger: 'model',
    ...overrides,
  };
}

const engine = createDefaultEngine();

describe('engine parameters', () => {
  it('fills every default from an empty object', () => {
    const p = parseEngineParameters({});
    expect(p).toEqual(defaultEngineParameters());
    expect(p.risk_weights).toEqual({
      interruptions: 0.5,
      volatility: 0.3,
      price_ratio: 0.2,
      interruptions_scale: 30,
      cv_scale: 0.2,
      price_ratio_floor: 0.5,
      price_ratio_span: 0.5,
    });
    expect(p.thresholds).toEqual({
      spot_ceiling_ratio: 0.8,
      leave_ondemand_min_savings_percent: 30,
      max_price_age_seconds: 7200,
    });
  });

  it('keeps given values and defaults the rest of a group', () => {
    const p = parseEngineParameters({ hysteresis: { holding_period_hours: 12 } });
    expect(p.hysteresis.holding_period_hours).toBe(12);
    expect(p.hysteresis.require_sustained_saving).toBe(true);
  });

  it('rejects unknown keys at every level', () => {
    expect(engineParametersSchema.safeParse({ bogus: 1 }).success).toBe(false);
    expect(engineParametersSchema.safeParse({ scoring: { bogus: 1 } }).success).toBe(false);
    expect(
      engineParametersSchema.safeParse({ risk_weights: { interruptions: 0.5, extra: true } }).success,
    ).toBe(false);
  });

  it('rejects out-of-range values', () => {
    expect(engineParametersSchema.safeParse({ thresholds: { spot_ceiling_ratio: 1.5 } }).success).toBe(false);
    expect(engineParametersSchema.safeParse({ risk_weights: { volatility: -0.1 } }).success).toBe(false);
    expect(engineParametersSchema.safeParse({ hysteresis: { holding_period_hours: 0 } }).success).toBe(false);
    expect(engineParametersSchema.safeParse({ scoring: 'x' }).success).toBe(false);
  });

  it('has a canonical form independent of key order and explicit defaults', () => {
    const a = canonicalEngineParameters({});
    const b = canonicalEngineParameters({ scoring: { current_price_weight: 0.5, risk_penalty: 0.25 } });
    expect(a).toBe(b);
    expect(canonicalEngineParameters({ scoring: { risk_penalty: 1 } })).not.toBe(a);
    expect(a.startsWith('{"confidence":')).toBe(true);
  });
});

describe('decide: output shape', () => {
  it('returns exactly the decide route fields', () => {
    const d = engine.decide(input());
    expect(Object.keys(d).sort()).toEqual(
      [
        'allowed',
        'confidence',
        'decision_type',
        'expected_savings_per_hour',
        'reason',
        'recommended_action',
        'recommended_mode',
        'recommended_pool_id',
        'risk_score',
      ].sort(),
    );
  });
});

describe('decide: staying and cost-driven switches (rule 2)', () => {
  it('stays when no candidate saves min_savings_percent', () => {
    const d = engine.decide(input());
    expect(d).toMatchObject({
      decision_type: 'stay_spot',
      recommended_action: 'stay',
      recommended_mode: 'spot',
      recommended_pool_id: 'm5.large.us-east-1a',
      expected_savings_per_hour: 0,
      allowed: true,
    });
    expect(d.reason).toContain('needed');
  });

  it('switches to a candidate that saves enough now and on 24 h means', () => {
    const d = engine.decide(input({ candidates: [pool('a', 0.04), pool('b', 0.03), pool('c', 0.05)] }));
    expect(d).toMatchObject({
      decision_type: 'switch_to_spot',
      recommended_action: 'switch',
      recommended_mode: 'spot',
      recommended_pool_id: 'm5.large.us-east-1b',
      expected_savings_per_hour: 0.01,
      allowed: true,
    });
    expect(d.confidence).toBeGreaterThan(0.5);
    expect(d.confidence).toBeLessThanOrEqual(1);
    expect(d.risk_score).toBeCloseTo(0.015, 6);
  });

  it('respects a higher min_savings_percent', () => {
    const limits = { ...input().limits, min_savings_percent: 30 };
    const d = engine.decide(input({ limits, candidates: [pool('a', 0.04), pool('b', 0.03)] }));
    expect(d.decision_type).toBe('stay_spot');
  });

  it('hysteresis: ignores a saving that has not lasted (24 h means)', () => {
    const dip = pool('b', 0.03, {
      stats: { volatility: 0.01, interruptions_30d: 0, avg_price_24h: 0.039, history_hours: 24 },
    });
    const d = engine.decide(input({ candidates: [pool('a', 0.04), dip] }));
    expect(d.decision_type).toBe('stay_spot');
    const without = createDefaultEngine({ hysteresis: { require_sustained_saving: false } });
    expect(without.decide(input({ candidates: [pool('a', 0.04), dip] })).decision_type).toBe(
      'switch_to_spot',
    );
  });

  it('hysteresis: needs more saving after recent switches', () => {
    const candidates = [pool('a', 0.04), pool('b', 0.033)]; // 17.5 % saving
    expect(engine.decide(input({ candidates })).decision_type).toBe('switch_to_spot');
    // one switch in the last week: 15 % × 1.5 = 22.5 % needed
    const d = engine.decide(input({ candidates, recent_switches: [NOW - 3 * 24 * H] }));
    expect(d.decision_type).toBe('stay_spot');
    // a switch older than a week does not count
    expect(engine.decide(input({ candidates, recent_switches: [NOW - 8 * 24 * H] })).decision_type).toBe(
      'switch_to_spot',
    );
  });

  it('hysteresis: the gain over the holding period must repay the switch cost', () => {
    const limits = { ...input().limits, min_savings_percent: 1 };
    const candidates = [pool('a', 0.035), pool('b', 0.0345)]; // saves 0.0005/h; 48 h → 0.024 < 0.1·1 h
    expect(engine.decide(input({ limits, candidates })).decision_type).toBe('stay_spot');
    const cheapSwitch = createDefaultEngine({ hysteresis: { switch_cost_ondemand_hours: 0.1 } });
    expect(cheapSwitch.decide(input({ limits, candidates })).decision_type).toBe('switch_to_spot');
  });

  it('prefers a calmer pool when prices are close (risk-adjusted score)', () => {
    const risky = pool('b', 0.029, {
      stats: { volatility: 0.15, interruptions_30d: 0, avg_price_24h: 0.029, history_hours: 24 },
    });
    const calm = pool('c', 0.03);
    const d = engine.decide(input({ candidates: [pool('a', 0.04), risky, calm] }));
    expect(d.recommended_pool_id).toBe('m5.large.us-east-1c');
  });
});

describe('decide: candidates', () => {
  const current = pool('a', 0.04);

  it('ignores stale prices (older than 2 h)', () => {
    const stale = pool('b', 0.02, {
      price_age_seconds: undefined,
      priced_at: new Date(NOW - 3 * H).toISOString(),
    });
    expect(engine.decide(input({ candidates: [current, stale] })).decision_type).toBe('stay_spot');
    const fresh = pool('b', 0.02, {
      price_age_seconds: undefined,
      priced_at: new Date(NOW - 1 * H).toISOString(),
    });
    expect(engine.decide(input({ candidates: [current, fresh] })).decision_type).toBe('switch_to_spot');
  });

  it('ignores pools above the risk threshold', () => {
    const risky = pool('b', 0.02, { stats: { risk_score: 0.31, avg_price_24h: 0.02 } });
    expect(engine.decide(input({ candidates: [current, risky] })).decision_type).toBe('stay_spot');
    const limits = { ...input().limits, risk_threshold: 0.35 };
    expect(engine.decide(input({ limits, candidates: [current, risky] })).decision_type).toBe(
      'switch_to_spot',
    );
  });

  it('computes risk from raw statistics when no risk_score is given', () => {
    // 0.5·30/30 = 0.5 > 0.3
    const interrupted = pool('b', 0.02, { stats: { interruptions_30d: 30, avg_price_24h: 0.02 } });
    expect(engine.decide(input({ candidates: [current, interrupted] })).decision_type).toBe('stay_spot');
  });

  it('ignores pools of another instance type', () => {
    const other = { ...pool('b', 0.01), instance_type: 'm5.xlarge', pool_id: 'm5.xlarge.us-east-1b' };
    expect(engine.decide(input({ candidates: [current, other] })).decision_type).toBe('stay_spot');
  });
});

describe('decide: safety exits (rule 1)', () => {
  it('goes straight to a qualifying candidate when spot exceeds 80 % of on-demand', () => {
    const d = engine.decide(input({ candidates: [pool('a', 0.085), pool('b', 0.04)] }));
    expect(d).toMatchObject({
      decision_type: 'switch_to_spot',
      recommended_pool_id: 'm5.large.us-east-1b',
      expected_savings_per_hour: 0.045,
      allowed: true,
    });
  });

  it('goes to on-demand when no candidate qualifies', () => {
    const d = engine.decide(input({ candidates: [pool('a', 0.085), pool('b', 0.075)] }));
    expect(d).toMatchObject({
      decision_type: 'switch_to_ondemand',
      recommended_action: 'switch',
      recommended_mode: 'ondemand',
      recommended_pool_id: null,
      expected_savings_per_hour: -0.015,
    });
    expect(d.risk_score).toBeGreaterThan(0);
  });

  it('goes to on-demand as §4.6 writes it when direct fallback is off', () => {
    const strict = createDefaultEngine({ safety: { direct_spot_fallback: false } });
    const d = strict.decide(input({ candidates: [pool('a', 0.085), pool('b', 0.04)] }));
    expect(d.decision_type).toBe('switch_to_ondemand');
  });

  it('leaves a pool that is too risky', () => {
    const risky = pool('a', 0.035, { stats: { risk_score: 0.6 } });
    expect(engine.decide(input({ candidates: [risky, pool('b', 0.036)] }))).toMatchObject({
      decision_type: 'switch_to_spot',
      recommended_pool_id: 'm5.large.us-east-1b',
    });
    expect(engine.decide(input({ candidates: [risky] })).decision_type).toBe('switch_to_ondemand');
  });

  it('leaves the current pool on an emergency even when it is the cheapest', () => {
    const d = engine.decide(input({ trigger: 'emergency', candidates: [pool('a', 0.03), pool('b', 0.04)] }));
    expect(d).toMatchObject({ decision_type: 'switch_to_spot', recommended_pool_id: 'm5.large.us-east-1b' });
    const alone = engine.decide(input({ trigger: 'emergency', candidates: [pool('a', 0.03)] }));
    expect(alone.decision_type).toBe('switch_to_ondemand');
  });

  it('never stays in or moves to a pool priced above on-demand', () => {
    const d = engine.decide(input({ candidates: [pool('a', 0.12)] }));
    expect(d.decision_type).toBe('switch_to_ondemand');
    const fromOd = engine.decide(
      input({
        current: { mode: 'ondemand', pool_id: null, instance_type: TYPE, since: 0 },
        candidates: [pool('b', 0.11)],
      }),
    );
    expect(fromOd.decision_type).toBe('stay_ondemand');
  });
});

describe('decide: from on-demand', () => {
  const onDemand = { mode: 'ondemand' as const, pool_id: null, instance_type: TYPE, since: NOW - 10 * H };

  it('needs at least 30 % saving to leave on-demand', () => {
    expect(engine.decide(input({ current: onDemand, candidates: [pool('b', 0.075)] })).decision_type).toBe(
      'stay_ondemand',
    );
    const d = engine.decide(input({ current: onDemand, candidates: [pool('b', 0.06), pool('c', 0.05)] }));
    expect(d).toMatchObject({
      decision_type: 'switch_to_spot',
      recommended_pool_id: 'm5.large.us-east-1c',
      expected_savings_per_hour: 0.05,
      // the risk of the recommended pool: 0.3·0.01/0.2
      risk_score: 0.015,
    });
  });

  it('uses min_savings_percent when it is higher than 30 %', () => {
    const limits = { ...input().limits, min_savings_percent: 60 };
    expect(
      engine.decide(input({ current: onDemand, limits, candidates: [pool('c', 0.05)] })).decision_type,
    ).toBe('stay_ondemand');
  });

  it('never picks a pool above the 80 % ceiling, even with no saving required', () => {
    const eager = createDefaultEngine({ thresholds: { leave_ondemand_min_savings_percent: 0 } });
    const limits = { ...input().limits, min_savings_percent: 0 };
    expect(
      eager.decide(input({ current: onDemand, limits, candidates: [pool('b', 0.09)] })).decision_type,
    ).toBe('stay_ondemand');
    expect(
      eager.decide(input({ current: onDemand, limits, candidates: [pool('b', 0.079)] })).decision_type,
    ).toBe('switch_to_spot');
  });

  it('stays on on-demand without candidates', () => {
    const d = engine.decide(input({ current: onDemand, candidates: [] }));
    expect(d).toMatchObject({ decision_type: 'stay_ondemand', recommended_mode: 'ondemand', risk_score: 0 });
  });
});

describe('decide: allowed', () => {
  const cheaper = [pool('a', 0.04), pool('b', 0.03)];

  it('is false for a disabled agent or an open switch, whatever the trigger', () => {
    const disabled = engine.decide(
      input({
        candidates: cheaper,
        trigger: 'manual',
        agent: { enabled: false, auto_switch_enabled: true, switch_open: false },
      }),
    );
    expect(disabled.allowed).toBe(false);
    expect(disabled.reason).toContain('disabled');
    const open = engine.decide(
      input({ candidates: cheaper, agent: { enabled: true, auto_switch_enabled: true, switch_open: true } }),
    );
    expect(open.allowed).toBe(false);
  });

  it('is false when the daily or weekly limit is reached', () => {
    const limits = { ...input().limits, max_switches_per_day: 1 };
    const day = engine.decide(
      input({ limits, candidates: [pool('a', 0.05), pool('b', 0.02)], recent_switches: [NOW - 12 * H] }),
    );
    expect(day.decision_type).toBe('switch_to_spot');
    expect(day.allowed).toBe(false);
    expect(day.reason).toContain('daily switch limit');
    const weekLimits = { ...input().limits, max_switches_per_week: 2 };
    const week = engine.decide(
      input({
        limits: weekLimits,
        candidates: [pool('a', 0.05), pool('b', 0.02)],
        recent_switches: [new Date(NOW - 2 * 24 * H).toISOString(), NOW - 5 * 24 * H],
      }),
    );
    expect(week.allowed).toBe(false);
    expect(week.reason).toContain('weekly switch limit');
  });

  it('is false within min_pool_duration_hours, unless manual or emergency', () => {
    const current = { ...input().current, since: NOW - 1 * H };
    expect(engine.decide(input({ current, candidates: cheaper })).allowed).toBe(false);
    expect(engine.decide(input({ current, candidates: cheaper, trigger: 'manual' })).allowed).toBe(true);
    expect(engine.decide(input({ current, candidates: cheaper, trigger: 'emergency' })).allowed).toBe(true);
  });

  it('lets the model leave a pool priced above on-demand despite the limits', () => {
    const current = { ...input().current, since: NOW - 0.5 * H };
    const d = engine.decide(input({ current, candidates: [pool('a', 0.12), pool('b', 0.03)] }));
    expect(d).toMatchObject({ decision_type: 'switch_to_spot', allowed: true });
    const strict = createDefaultEngine({ safety: { urgent_exit_bypasses_limits: false } });
    expect(strict.decide(input({ current, candidates: [pool('a', 0.12), pool('b', 0.03)] })).allowed).toBe(
      false,
    );
  });

  it('drives willAutoExecute together with auto_switch_enabled', () => {
    const i = input({ candidates: cheaper });
    const d = engine.decide(i);
    expect(willAutoExecute(d, i)).toBe(true);
    expect(willAutoExecute(d, { agent: { ...i.agent, auto_switch_enabled: false } })).toBe(false);
  });
});

describe('decide: confidence threshold and degenerate input', () => {
  it('turns a cost-driven switch below the threshold into a stay', () => {
    const candidates = [pool('a', 0.04), pool('b', 0.033)];
    const d = engine.decide(input({ candidates }));
    expect(d.decision_type).toBe('switch_to_spot');
    const held = engine.decide(input({ candidates, confidence_threshold: Math.min(d.confidence + 0.01, 1) }));
    expect(held.decision_type).toBe('stay_spot');
    expect(held.reason).toContain('below the threshold');
  });

  it('stays without an on-demand price', () => {
    const d = engine.decide(input({ on_demand_price: 0, candidates: [pool('a', 0.04), pool('b', 0.01)] }));
    expect(d).toMatchObject({ decision_type: 'stay_spot', confidence: 0 });
  });

  it('uses current.price when the current pool is not among the candidates', () => {
    const current = { ...input().current, price: 0.09 };
    const d = engine.decide(input({ current, candidates: [pool('b', 0.03)] }));
    expect(d).toMatchObject({ decision_type: 'switch_to_spot', expected_savings_per_hour: 0.06 });
  });

  it('reads timestamps without an offset as UTC', () => {
    expect(toEpochMs('2025-01-15T12:00:00')).toBe(NOW);
    expect(toEpochMs('2025-01-15T13:00:00+01:00')).toBe(NOW);
    expect(toEpochMs(new Date(NOW))).toBe(NOW);
  });
});

describe('decide: invariants (property-based)', () => {
  const poolArb = fc.record({
    az: fc.constantFrom('a', 'b', 'c', 'd'),
    price: fc.double({ min: 0.001, max: 0.2, noNaN: true }),
    avg: fc.double({ min: 0.001, max: 0.2, noNaN: true }),
    cv: fc.double({ min: 0, max: 0.4, noNaN: true }),
    interruptions: fc.integer({ min: 0, max: 40 }),
  });

  it('never recommends a spot pool priced above on-demand, and switches only between distinct placements', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(poolArb, { maxLength: 4, selector: (p) => p.az }),
        fc.boolean(),
        fc.constantFrom('model', 'manual', 'emergency'),
        (pools, onSpot, trigger) => {
          const candidates = pools.map((p) =>
            pool(p.az, p.price, {
              stats: { volatility: p.cv, interruptions_30d: p.interruptions, avg_price_24h: p.avg },
            }),
          );
          const current = onSpot
            ? {
                mode: 'spot' as const,
                pool_id: `${TYPE}.us-east-1a`,
                instance_type: TYPE,
                since: NOW - 5 * H,
              }
            : { mode: 'ondemand' as const, pool_id: null, instance_type: TYPE, since: NOW - 5 * H };
          const d = engine.decide(
            input({ current, candidates, trigger: trigger as DecisionInput['trigger'] }),
          );
          expect(d.confidence).toBeGreaterThanOrEqual(0);
          expect(d.confidence).toBeLessThanOrEqual(1);
          expect(d.risk_score).toBeGreaterThanOrEqual(0);
          expect(d.risk_score).toBeLessThanOrEqual(1);
          if (d.recommended_mode === 'spot') {
            const chosen = candidates.find((c) => c.pool_id === d.recommended_pool_id);
            if (chosen) {
              // a switch target is below the 80 % ceiling; a pool we stay in is at most on-demand
              expect(chosen.price).toBeLessThanOrEqual(d.recommended_action === 'switch' ? 0.08 : 0.1);
            } else {
              // only an unpriced current pool may be kept without a listing
              expect(d.decision_type).toBe('stay_spot');
            }
          } else {
            expect(d.recommended_pool_id).toBeNull();
          }
          if (d.recommended_action === 'switch') {
            expect(d.decision_type === 'switch_to_spot' || d.decision_type === 'switch_to_ondemand').toBe(
              true,
            );
            if (onSpot && d.recommended_mode === 'spot') {
              expect(d.recommended_pool_id).not.toBe(`${TYPE}.us-east-1a`);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
