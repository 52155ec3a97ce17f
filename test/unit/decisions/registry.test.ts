import { describe, expect, it } from 'vitest';
import { acceptanceProblems } from '../../../functions/decisions/registry.js';
import { defaultEngineParameters } from '../../../functions/shared/domain/decision-engine.js';

describe('engine registry acceptance check', () => {
  it('accepts the defaults and a partial override', () => {
    expect(acceptanceProblems({})).toEqual([]);
    expect(acceptanceProblems(defaultEngineParameters())).toEqual([]);
    expect(acceptanceProblems({ scoring: { risk_penalty: 0.5 }, hysteresis: { holding_period_hours: 24 } })).toEqual([]);
  });

  it('rejects parameters that do not parse (unknown keys, out-of-range values)', () => {
    expect(acceptanceProblems({ nope: 1 }).length).toBeGreaterThan(0);
    expect(acceptanceProblems({ risk_weights: { interruptions: 2 } }).join(' ')).toContain('risk_weights.interruptions');
  });

  it('rejects a risk model that calls a daily-interrupted, volatile pool safe', () => {
    const problems = acceptanceProblems({ risk_weights: { interruptions: 0, volatility: 0, price_ratio: 0 } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('interrupted, volatile current pool');
  });
});
