import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accrualAmounts, splitByUtcDay } from '../../../../functions/shared/domain/savings.js';

const H = 3_600_000;
const T0 = Date.parse('2025-01-14T22:00:00Z');

describe('savings ledger maths', () => {
  it('splits a period at UTC midnight', () => {
    expect(splitByUtcDay(T0, T0 + 5 * H)).toEqual([
      { day: '2025-01-14', hours: 2 },
      { day: '2025-01-15', hours: 3 },
    ]);
    expect(splitByUtcDay(T0, T0)).toEqual([]);
    expect(splitByUtcDay(T0 + H, T0)).toEqual([]);
  });

  it('never loses or invents time when splitting', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 24 * H }), fc.integer({ min: 0, max: 5 * 24 * H }), (offset, length) => {
        const parts = splitByUtcDay(T0 + offset, T0 + offset + length);
        const hours = parts.reduce((a, p) => a + p.hours, 0);
        expect(hours).toBeCloseTo(length / H, 9);
        expect(new Set(parts.map((p) => p.day)).size).toBe(parts.length);
      }),
    );
  });

  it('accrues (on-demand − paid) × hours on spot, zero savings on on-demand, hours only when unpriced', () => {
    const spot = accrualAmounts(2, 'spot', 0.03, 0.1);
    expect(spot.savings).toBeCloseTo(0.14, 12);
    expect(spot.actual_cost).toBeCloseTo(0.06, 12);
    expect(spot.ondemand_cost).toBeCloseTo(0.2, 12);
    expect(spot.spot_hours).toBe(2);
    expect(spot.ondemand_hours).toBe(0);
    const od = accrualAmounts(1.5, 'ondemand', 0.1, 0.1);
    expect(od.savings).toBe(0);
    expect(od.ondemand_hours).toBe(1.5);
    const unpriced = accrualAmounts(1, 'spot', null, 0.1);
    expect(unpriced).toMatchObject({ savings: 0, actual_cost: 0, spot_hours: 1, unpriced_hours: 1 });
    // A spot price above on-demand costs money: negative savings are recorded, not hidden.
    expect(accrualAmounts(1, 'spot', 0.12, 0.1).savings).toBeCloseTo(-0.02, 12);
  });
});
