import { describe, expect, it } from 'vitest';
import { effectiveRebalancePolicy } from '../../../../functions/shared/domain/incidents.js';

describe('rebalance policy', () => {
  it('explicit policy wins; otherwise prewarm with auto-switch on, monitor with it off', () => {
    expect(effectiveRebalancePolicy({ auto_switch_enabled: true })).toBe('prewarm');
    expect(effectiveRebalancePolicy({ auto_switch_enabled: false, rebalance_policy: null })).toBe('monitor');
    expect(effectiveRebalancePolicy({ auto_switch_enabled: false, rebalance_policy: 'switch' })).toBe('switch');
    expect(effectiveRebalancePolicy({ auto_switch_enabled: true, rebalance_policy: 'ignore' })).toBe('ignore');
  });
});
