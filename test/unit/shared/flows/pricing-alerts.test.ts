import { describe, expect, it } from 'vitest';
import { crosses, metricOf } from '../../../../functions/shared/flows/pricing-alerts.js';

describe('pricing alert conditions', () => {
  const pool = { pool_id: 'p', price: 0.03, on_demand_price: 0.04, risk_score: 0.8, interruptions_30d: 4 };
  it('compare each alert type with its pool metric', () => {
    expect(crosses('spot_price_above', 0.02, pool)).toBe(true);
    expect(crosses('spot_price_below', 0.02, pool)).toBe(false);
    expect(metricOf('savings_below_percent', pool)).toBeCloseTo(25);
    expect(crosses('savings_below_percent', 30, pool)).toBe(true);
    expect(crosses('pool_risk_above', 0.8, pool)).toBe(false);
    expect(crosses('interruption_rate_above', 3, pool)).toBe(true);
    expect(crosses('savings_below_percent', 30, { pool_id: 'p', price: 0.03 })).toBe(false); // no on-demand price
  });
});
