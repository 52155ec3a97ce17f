import { describe, expect, it } from 'vitest';
import { clamp, coefficientOfVariation, DEFAULT_RISK_WEIGHTS, lastIndexAtOrBefore, mean, p50, p95, percentile, poolPriceStatsAt, poolRiskScore, stddev, timeWeightedStats, volatilityCategory } from '../../../../functions/shared/domain/risk.js';

const H = 3_600_000;

describe('poolRiskScore (§4.6)', () => {
  it('is 0 for a calm, cheap pool with no interruptions', () => {
    expect(poolRiskScore({ interruptions_30d: 0, cv_24h: 0, spot: 0.3, on_demand: 1 })).toBe(0);
  });

  it('weights each term as the formula says', () => {
    // 0.5·15/30 + 0.3·0.1/0.2 + 0.2·(0.75−0.5)/0.5 = 0.25 + 0.15 + 0.1
    expect(poolRiskScore({ interruptions_30d: 15, cv_24h: 0.1, spot: 0.75, on_demand: 1 })).toBeCloseTo(
      0.5,
      12,
    );
    expect(poolRiskScore({ interruptions_30d: 3, cv_24h: 0, spot: 0.1, on_demand: 1 })).toBeCloseTo(0.05, 12);
    expect(poolRiskScore({ interruptions_30d: 0, cv_24h: 0.05, spot: 0.1, on_demand: 1 })).toBeCloseTo(
      0.075,
      12,
    );
    expect(poolRiskScore({ interruptions_30d: 0, cv_24h: 0, spot: 0.9, on_demand: 1 })).toBeCloseTo(0.16, 12);
  });

  it('saturates every term and stays within [0, 1]', () => {
    expect(poolRiskScore({ interruptions_30d: 300, cv_24h: 5, spot: 3, on_demand: 1 })).toBe(1);
    expect(poolRiskScore({ interruptions_30d: -4, cv_24h: -1, spot: 0, on_demand: 1 })).toBe(0);
  });

  it('counts the price term in full without a usable on-demand price', () => {
    expect(poolRiskScore({ interruptions_30d: 0, cv_24h: 0, spot: 0.1, on_demand: 0 })).toBeCloseTo(0.2, 12);
  });

  it('accepts other weights', () => {
    const weights = { ...DEFAULT_RISK_WEIGHTS, interruptions: 0, volatility: 1, cv_scale: 0.1 };
    expect(
      poolRiskScore({ interruptions_30d: 30, cv_24h: 0.05, spot: 0.1, on_demand: 1 }, weights),
    ).toBeCloseTo(0.5, 12);
  });
});

describe('basic statistics', () => {
  it('computes mean, population stddev and cv', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(stddev([2, 4, 4, 4, 5, 5, 7, 9])).toBe(2);
    expect(coefficientOfVariation([2, 4, 4, 4, 5, 5, 7, 9])).toBe(0.4);
    expect(coefficientOfVariation([3, 3, 3])).toBe(0);
    expect(coefficientOfVariation([])).toBe(0);
    expect(mean([])).toBeNaN();
  });

  it('categorises volatility at 0.05 and 0.15', () => {
    expect(volatilityCategory(0)).toBe('low');
    expect(volatilityCategory(0.0499)).toBe('low');
    expect(volatilityCategory(0.05)).toBe('medium');
    expect(volatilityCategory(0.1499)).toBe('medium');
    expect(volatilityCategory(0.15)).toBe('high');
  });

  it('interpolates percentiles linearly', () => {
    expect(p50([4, 1, 3, 2])).toBe(2.5);
    expect(p95(Array.from({ length: 20 }, (_, i) => i + 1))).toBeCloseTo(19.05, 12);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([1, 2, 3], 0)).toBe(1);
    expect(percentile([1, 2, 3], 100)).toBe(3);
    expect(percentile([], 50)).toBeNaN();
  });

  it('clamps', () => {
    expect(clamp(5, 0, 1)).toBe(1);
    expect(clamp(-5, 0, 1)).toBe(0);
    expect(clamp(Number.NaN, 0, 1)).toBe(0);
  });
});

describe('lastIndexAtOrBefore', () => {
  const times = [10, 20, 30];
  it('finds the row in force', () => {
    expect(lastIndexAtOrBefore(times, 5)).toBe(-1);
    expect(lastIndexAtOrBefore(times, 10)).toBe(0);
    expect(lastIndexAtOrBefore(times, 29)).toBe(1);
    expect(lastIndexAtOrBefore(times, 99)).toBe(2);
    expect(lastIndexAtOrBefore(times, 99, 2)).toBe(1);
  });
});

describe('timeWeightedStats (step function)', () => {
  const times = [0, 1 * H, 3 * H];
  const prices = [1, 2, 4];

  it('weights each price by how long it held', () => {
    const s = timeWeightedStats(times, prices, 0, 4 * H);
    // 1 h at 1, 2 h at 2, 1 h at 4
    expect(s).not.toBeNull();
    expect(s?.mean).toBeCloseTo(2.25, 12);
    expect(s?.stddev).toBeCloseTo(Math.sqrt(1.1875), 12);
    expect(s?.cv).toBeCloseTo(Math.sqrt(1.1875) / 2.25, 12);
    expect(s?.min).toBe(1);
    expect(s?.max).toBe(4);
    expect(s?.last).toBe(4);
    expect(s?.covered_hours).toBe(4);
    expect(s?.changes).toBe(2);
  });

  it('starts with the price in force at the window start', () => {
    const s = timeWeightedStats(times, prices, 0.5 * H, 2 * H);
    // 0.5 h at 1, 1 h at 2
    expect(s?.mean).toBeCloseTo(2.5 / 1.5, 12);
    expect(s?.max).toBe(2);
    expect(s?.changes).toBe(1);
  });

  it('ignores rows after the window end (no look-ahead)', () => {
    const s = timeWeightedStats([...times, 5 * H], [...prices, 100], 0, 4 * H);
    expect(s?.mean).toBeCloseTo(2.25, 12);
    expect(s?.max).toBe(4);
  });

  it('covers only the known part when the series starts late', () => {
    const s = timeWeightedStats([2 * H], [0.5], 0, 4 * H);
    expect(s?.mean).toBe(0.5);
    expect(s?.covered_hours).toBe(2);
    expect(s?.stddev).toBe(0);
  });

  it('returns exactly 0 dispersion for a constant series', () => {
    const s = timeWeightedStats([0, H, 2 * H], [0.0337, 0.0337, 0.0337], 0, 5 * H);
    expect(s?.stddev).toBe(0);
    expect(s?.cv).toBe(0);
  });

  it('returns null when nothing is known in the window', () => {
    expect(timeWeightedStats(times, prices, -2 * H, -H)).toBeNull();
    expect(timeWeightedStats([], [], 0, H)).toBeNull();
    expect(timeWeightedStats(times, prices, H, H)).toBeNull();
  });
});

describe('poolPriceStatsAt', () => {
  it('summarises the 24 h before now for the engine', () => {
    const times = [-30 * H, -12 * H, -6 * H, 2 * H];
    const prices = [9, 1, 3, 100];
    // window [-24 h, 0]: 12 h at 9, 6 h at 1, 6 h at 3; the row after now is ignored
    const s = poolPriceStatsAt(times, prices, 0);
    expect(s?.avg_price_24h).toBeCloseTo((12 * 9 + 6 + 18) / 24, 12);
    expect(s?.history_hours).toBe(24);
    expect(s?.volatility).toBeGreaterThan(0);
    expect(poolPriceStatsAt(times, prices, -40 * H)).toBeNull();
    expect(poolPriceStatsAt([0], [2], 6 * H, 2)).toEqual({
      volatility: 0,
      avg_price_24h: 2,
      history_hours: 2,
    });
  });
});
