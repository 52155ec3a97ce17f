import { describe, expect, it } from 'vitest';
import { acceptanceProblems } from '../../../functions/decisions/registry.js';
import { terminateWaitSeconds } from '../../../functions/shared/flows/switching.js';
import { DEFAULT_ENGINE_PARAMETERS } from '../../../functions/shared/domain/decision-engine.js';
import { DEFAULT_AGENT_CONFIG, type Agent } from '../../../functions/shared/domain/types.js';

describe('engine registry acceptance check', () => {
  it('accepts the defaults and a partial override', () => {
    expect(acceptanceProblems({})).toEqual([]);
    expect(acceptanceProblems(DEFAULT_ENGINE_PARAMETERS)).toEqual([]);
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

describe('switch command details (API.md §4.1)', () => {
  const agent = (config: Partial<Agent['config']>) => ({ config: { ...DEFAULT_AGENT_CONFIG, ...config } }) as Agent;
  it('terminate_wait_seconds: 0 without auto-terminate, else the configured value with a minimum of 1', () => {
    expect(terminateWaitSeconds(agent({ auto_terminate_enabled: false, terminate_wait_seconds: 300 }))).toBe(0);
    expect(terminateWaitSeconds(agent({ auto_terminate_enabled: true, terminate_wait_seconds: 0 }))).toBe(1);
    expect(terminateWaitSeconds(agent({ auto_terminate_enabled: true, terminate_wait_seconds: 120 }))).toBe(120);
    expect(terminateWaitSeconds(agent({ auto_terminate_enabled: false }), 45)).toBe(45);
  });
});
