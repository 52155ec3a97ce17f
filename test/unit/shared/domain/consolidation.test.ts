import { describe, expect, it } from 'vitest';
import { BUCKET_MS, type ConsolidationOptions, consolidate, HOUR_MS, type PricePoint } from '../../../../functions/shared/domain/consolidation.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const min = (m: number) => T0 + m * 60_000;
const POOL = 'm5.large.us-east-1a';

const pt = (o: Partial<PricePoint> & { time: number; price: number }): PricePoint => ({
  pool_id: POOL,
  on_demand_price: 0.096,
  source: 'PRIMARY',
  reporter: 'i-a',
  ...o,
});

const run = (points: PricePoint[], o: Partial<ConsolidationOptions> = {}) =>
  consolidate(points, { windowStart: T0, windowEnd: T0 + 24 * HOUR_MS, ...o });

const bucketAt = (r: ReturnType<typeof run>, m: number, pool = POOL) =>
  r.buckets.find((b) => b.pool_id === pool && b.bucket_start === min(m));

describe('consolidation core: buckets and dedupe', () => {
  it('groups points into 5-minute buckets aligned on the clock', () => {
    const r = run([pt({ time: min(0) + 1000, price: 0.04 }), pt({ time: min(4) + 59_000, price: 0.04, reporter: 'i-b' }), pt({ time: min(5), price: 0.05 })]);
    expect(r.buckets.map((b) => [b.bucket_start - T0, b.price, b.samples])).toEqual([
      [0, 0.04, 2],
      [BUCKET_MS, 0.05, 1],
    ]);
  });

  it('keeps one point per reporter per bucket (its latest) and counts the rest as duplicates', () => {
    const r = run([
      pt({ time: min(1), price: 0.01 }),
      pt({ time: min(3), price: 0.03 }), // same reporter, same bucket, later: wins
      pt({ time: min(3), price: 0.03 }), // exact duplicate
      pt({ time: min(2), price: 0.05, reporter: 'i-b' }),
    ]);
    expect(r.stats.duplicates_removed).toBe(2);
    expect(bucketAt(r, 0)).toMatchObject({ price: 0.04, samples: 2 }); // median of 0.03 and 0.05
  });

  it('keeps the bucket median (odd and even counts)', () => {
    const odd = run([0.1, 0.5, 0.2].map((price, i) => pt({ time: min(1), price, reporter: `i-${i}` })));
    expect(bucketAt(odd, 0)?.price).toBe(0.2);
    const even = run([0.1, 0.5, 0.2, 0.3].map((price, i) => pt({ time: min(1), price, reporter: `i-${i}` })));
    expect(bucketAt(even, 0)?.price).toBe(0.25);
  });
});

describe('consolidation core: PRIMARY over REPLICA over EC2_API', () => {
  it('a bucket with any PRIMARY point discards its REPLICA points', () => {
    const r = run([
      pt({ time: min(1), price: 0.9, source: 'REPLICA', reporter: 'i-r1' }),
      pt({ time: min(2), price: 0.8, source: 'REPLICA', reporter: 'i-r2' }),
      pt({ time: min(3), price: 0.04, source: 'PRIMARY', reporter: 'i-p' }),
    ]);
    expect(bucketAt(r, 0)).toMatchObject({ price: 0.04, source: 'PRIMARY', samples: 1 });
    expect(r.stats.lower_rank_discarded).toBe(2);
  });

  it('a bucket without PRIMARY points keeps the REPLICA median', () => {
    const r = run([
      pt({ time: min(1), price: 0.06, source: 'REPLICA', reporter: 'i-r1' }),
      pt({ time: min(2), price: 0.08, source: 'REPLICA', reporter: 'i-r2' }),
    ]);
    expect(bucketAt(r, 0)).toMatchObject({ price: 0.07, source: 'REPLICA', samples: 2 });
  });

  it('EC2_API records rank below every agent report', () => {
    const r = run([
      pt({ time: min(1), price: 0.5, source: 'EC2_API', reporter: 'ec2-api' }),
      pt({ time: min(2), price: 0.06, source: 'REPLICA', reporter: 'i-r1' }),
    ]);
    expect(bucketAt(r, 0)).toMatchObject({ price: 0.06, source: 'REPLICA' });
  });
});

describe('consolidation core: gaps', () => {
  it('fills a gap of up to 6 h by linear interpolation, marked is_interpolated', () => {
    const r = run([pt({ time: min(0), price: 0.04 }), pt({ time: min(60), price: 0.052 })]);
    const filled = r.buckets.filter((b) => b.is_interpolated);
    expect(filled).toHaveLength(11);
    expect(bucketAt(r, 30)).toMatchObject({ price: 0.046, is_interpolated: true, fill: 'linear', samples: 0 });
    expect(bucketAt(r, 5)?.price).toBeCloseTo(0.041, 10);
    expect(r.stats.points_interpolated).toBe(11);
    expect(r.stats.buckets_observed).toBe(2);
  });

  it('fills a gap of exactly 6 h but not one longer', () => {
    const sixHours = run([pt({ time: min(0), price: 0.04 }), pt({ time: min(360), price: 0.04 })]);
    expect(sixHours.stats.points_interpolated).toBe(71);
    const longer = run([pt({ time: min(0), price: 0.04 }), pt({ time: min(365), price: 0.04 })]);
    expect(longer.stats.points_interpolated).toBe(0);
    expect(longer.buckets).toHaveLength(2);
  });

  it('holds an EC2 price-change record until the next record, and the last one until holdUntil', () => {
    const r = run(
      [
        pt({ time: min(0), price: 0.03, source: 'EC2_API', reporter: 'ec2-api' }),
        pt({ time: min(600), price: 0.05, source: 'EC2_API', reporter: 'ec2-api' }), // 10 h later: still held
      ],
      { windowEnd: T0 + 12 * HOUR_MS, holdUntil: T0 + 11 * HOUR_MS },
    );
    expect(bucketAt(r, 300)).toMatchObject({ price: 0.03, fill: 'hold', is_interpolated: true });
    expect(bucketAt(r, 595)?.price).toBe(0.03);
    expect(bucketAt(r, 655)).toMatchObject({ price: 0.05, fill: 'hold' });
    expect(bucketAt(r, 660)).toBeUndefined(); // holdUntil is exclusive
    expect(r.buckets).toHaveLength(132);
  });

  it('uses points before the window as anchors but emits only buckets inside it', () => {
    const r = run([pt({ time: min(-60), price: 0.04 }), pt({ time: min(60), price: 0.06 })], {
      windowStart: T0,
      windowEnd: T0 + 2 * HOUR_MS,
    });
    expect(r.buckets[0]?.bucket_start).toBe(T0);
    expect(r.buckets[0]?.price).toBeCloseTo(0.05, 10);
    expect(r.buckets.every((b) => b.bucket_start >= T0 && b.bucket_start < T0 + 2 * HOUR_MS)).toBe(true);
  });

  it('aligns the window start down to the hour', () => {
    const r = run([pt({ time: min(10), price: 0.04 })], { windowStart: min(40) });
    expect(r.window_start).toBe(T0);
    expect(r.buckets).toHaveLength(1);
  });
});

describe('consolidation core: canonical hours', () => {
  it('aggregates avg/min/max/last, on-demand and interruptions per hour', () => {
    const points = [0.04, 0.05, 0.06, 0.02].map((price, i) =>
      pt({ time: min(i * 15 + 1), price, on_demand_price: i === 3 ? 0.1 : 0.096 }),
    );
    points.push(pt({ time: min(61), price: 0.07 }));
    const r = run(points, { interruptions: new Map([[POOL, [min(30), min(200)]]]) });
    const first = r.hours[0];
    expect(first).toMatchObject({ hour_start: T0, min_price: 0.02, max_price: 0.06, last_price: 0.05333333 }); // bucket 55 on the 45→60 line
    expect(first?.buckets).toBe(12);
    expect(first?.interpolated_buckets).toBe(8);
    expect(first?.on_demand_price).toBe(0.1);
    expect(first?.interruptions).toBe(1);
    const values = r.buckets.filter((b) => b.bucket_start < T0 + HOUR_MS).map((b) => b.price);
    expect(first?.avg_price).toBeCloseTo(values.reduce((a, b) => a + b, 0) / 12, 8);
    expect(r.hours[1]).toMatchObject({ hour_start: T0 + HOUR_MS, buckets: 1, interruptions: 0 });
  });
});

describe('consolidation core: determinism and idempotence', () => {
  const points: PricePoint[] = [];
  for (let i = 0; i < 400; i++) {
    points.push(
      pt({
        pool_id: i % 3 === 0 ? 'c5.large.us-east-1b' : POOL,
        time: T0 + ((i * 7919) % (20 * HOUR_MS / 60_000)) * 60_000,
        price: 0.03 + ((i * 31) % 17) / 1000,
        source: i % 5 === 0 ? 'REPLICA' : 'PRIMARY',
        reporter: `i-${i % 4}`,
      }),
    );
  }

  it('gives the same result whatever the input order', () => {
    const a = run(points);
    const shuffled = [...points].sort((x, y) => ((x.price * 1e6 + x.time) % 97) - ((y.price * 1e6 + y.time) % 97));
    const b = run(shuffled);
    expect(b).toEqual(a);
  });

  it('is idempotent: consolidating staged points twice (or with their duplicates) yields the same series', () => {
    const once = run(points);
    const twice = run([...points, ...points]);
    expect(twice.buckets).toEqual(once.buckets);
    expect(twice.hours).toEqual(once.hours);
    expect(twice.stats.duplicates_removed).toBe(once.stats.duplicates_removed + points.length);
  });

  it('buckets are unique per (pool, bucket) and sorted', () => {
    const r = run(points);
    const keys = r.buckets.map((b) => `${b.pool_id}|${b.bucket_start}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(keys);
  });
});
