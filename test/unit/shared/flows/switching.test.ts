import { describe, expect, it } from 'vitest';
import { terminateWaitSeconds } from '../../../../functions/shared/flows/switching.js';
import { DEFAULT_AGENT_CONFIG, type Agent } from '../../../../functions/shared/domain/types.js';

describe('switch command details (API.md §4.1)', () => {
  const agent = (config: Partial<Agent['config']>) => ({ config: { ...DEFAULT_AGENT_CONFIG, ...config } }) as Agent;
  it('terminate_wait_seconds: 0 without auto-terminate, else the configured value with a minimum of 1', () => {
    expect(terminateWaitSeconds(agent({ auto_terminate_enabled: false, terminate_wait_seconds: 300 }))).toBe(0);
    expect(terminateWaitSeconds(agent({ auto_terminate_enabled: true, terminate_wait_seconds: 0 }))).toBe(1);
    expect(terminateWaitSeconds(agent({ auto_terminate_enabled: true, terminate_wait_seconds: 120 }))).toBe(120);
    expect(terminateWaitSeconds(agent({ auto_terminate_enabled: false }), 45)).toBe(45);
  });
});
