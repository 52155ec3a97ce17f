import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram, percentile } from '../../../bin/support/latency.js';

describe('percentiles', () => {
  it('exact nearest-rank percentile', () => {
    const xs = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 90)).toBe(9);
    expect(percentile(xs, 99)).toBe(10);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([], 50)).toBeNaN();
  });

  it('the histogram agrees with the exact percentile within its relative error', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.05, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 400 }),
        fc.constantFrom(50, 90, 99, 100),
        (xs, p) => {
          const h = new LatencyHistogram(0.01);
          for (const x of xs) h.record(x);
          const exact = percentile(xs, p);
          expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThanOrEqual(0.0101);
        },
      ),
    );
  });

  it('counts, merges and ignores invalid samples', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) (i % 2 ? a : b).record(i);
    a.record(Number.NaN);
    a.record(-1);
    a.merge(b);
    expect(a.count).toBe(100);
    expect(a.min).toBe(1);
    expect(a.max).toBe(100);
    expect(a.mean).toBeCloseTo(50.5);
    expect(Math.abs(a.percentile(50) - 50)).toBeLessThanOrEqual(0.51);
    expect(new LatencyHistogram().percentile(50)).toBeNaN();
  });
});
