import { describe, expect, it } from 'vitest';
import { downtimeSeconds, percentile, pricePaid, savingsImpact } from '../../../../functions/shared/domain/switches.js';

describe('switch figures', () => {
  it('savings impact is old − new price; downtime is traffic switch − ready, never negative', () => {
    expect(savingsImpact(pricePaid('ondemand', null, 0.1), pricePaid('spot', 0.03, 0.1))).toBeCloseTo(0.07, 9);
    expect(savingsImpact(pricePaid('spot', null, 0.1), 0.03)).toBeNull();
    expect(downtimeSeconds('2025-01-15T12:00:00Z', '2025-01-15T12:00:07.5Z')).toBe(7.5);
    expect(downtimeSeconds('2025-01-15T12:00:10Z', '2025-01-15T12:00:07Z')).toBe(0);
  });

  it('nearest-rank percentiles', () => {
    expect(percentile([], 95)).toBeNull();
    expect(percentile([5], 50)).toBe(5);
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile(xs, 100)).toBe(100);
  });
});
