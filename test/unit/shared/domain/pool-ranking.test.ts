import { describe, expect, it } from 'vitest';
import { type RankablePool, rankPools, scorePools } from '../../../../functions/shared/domain/pool-ranking.js';

const NOW = Date.parse('2025-01-15T12:00:00Z');
const pool = (az: string, price: number | null, risk: number | null, extra: Partial<RankablePool> = {}): RankablePool => ({
  pool_id: `m5.large.us-east-1${az}`,
  az: `us-east-1${az}`,
  instance_type: 'm5.large',
  price,
  risk_score: risk,
  priced_at: new Date(NOW - 60_000).toISOString(),
  ...extra,
});
const ids = (ranked: { pool: RankablePool }[]) => ranked.map((r) => r.pool.pool_id.slice(-1));

describe('pool ranking', () => {
  const pools = [pool('a', 0.01, 0.0), pool('b', 0.02, 0.2), pool('c', 0.05, 0.1), pool('d', 0.04, 0.1), pool('e', 0.001, 0.9), pool('f', null, null)];

  it('safest: lowest risk, then cheapest; a pool nobody measured ranks behind measured safe pools', () => {
    expect(ids(rankPools(scorePools(pools, { now: NOW }), { order: 'safest' }))).toEqual(['a', 'd', 'c', 'b', 'f', 'e']);
    expect(ids(rankPools(scorePools(pools, { now: NOW }), { order: 'safest', excludePoolIds: ['m5.large.us-east-1a'], maxRisk: 0.3 }))).toEqual([
      'd',
      'c',
      'b',
      'f',
    ]);
  });

  it('best-value: expected price × (1 + penalty × risk); without a penalty simply the cheapest', () => {
    const scored = scorePools(pools, { now: NOW, requirePrice: true });
    expect(ids(rankPools(scored, { order: 'best-value' }))).toEqual(['e', 'a', 'b', 'd', 'c']);
    const penalised = scorePools(pools, { now: NOW, requirePrice: true, riskPenalty: 10 });
    expect(ids(rankPools(penalised, { order: 'best-value', maxRisk: 0.3 }))).toEqual(['a', 'b', 'd', 'c']);
  });

  it('applies one set of eligibility rules: AZs, known and lower risk, price ceiling, freshness', () => {
    const scored = scorePools(
      [...pools, pool('g', 0.015, 0.05, { priced_at: new Date(NOW - 3 * 3_600_000).toISOString() }), pool('h', 0.016, 0.05, { priced_at: null })],
      { now: NOW, undatedIsStale: true },
    );
    const ranked = rankPools(scored, {
      order: 'safest',
      excludeAzs: ['us-east-1a'],
      requireKnownRisk: true,
      belowRisk: 0.2,
      maxPrice: 0.045,
      maxPriceAgeSeconds: 7200,
    });
    expect(ids(ranked)).toEqual(['d']);
  });

  it('keeps the fresher of two listings of a pool, and weighs the 24 h mean into the expected price', () => {
    const scored = scorePools(
      [pool('a', 0.05, 0.1, { price_age_seconds: 600 }), pool('a', 0.03, 0.1, { price_age_seconds: 60, avg_price_24h: 0.05 })],
      { now: NOW, currentPriceWeight: 0.5 },
    );
    expect(scored).toHaveLength(1);
    expect(scored[0]).toMatchObject({ price: 0.03, sustainedPrice: 0.05, ageSeconds: 60 });
    expect(scored[0]?.score).toBeCloseTo(0.04, 10);
  });
});
