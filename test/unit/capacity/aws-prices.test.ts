import { describe, expect, it } from 'vitest';
import { DYNAMODB_WRU, HOURS_PER_MONTH, PRICES, addCosts, priceUsage } from '../../../bin/bench/aws-prices.js';

describe('cost model at list prices', () => {
  it('every price names its AWS pricing page and the date it took effect', () => {
    for (const [name, p] of Object.entries(PRICES)) {
      expect(p.source, name).toMatch(/^https:\/\/aws\.amazon\.com\/.+\/pricing\//);
      expect(p.publishedOn, name).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.usd, name).toBeGreaterThan(0);
    }
  });

  it("the old heartbeat's figure: 10 write units per heartbeat every 30 s ≈ $0.55 per agent-month", () => {
    const heartbeats = (HOURS_PER_MONTH * 3600) / 30;
    expect(heartbeats).toBe(87_600);
    expect(heartbeats * 10 * DYNAMODB_WRU.usd).toBeCloseTo(0.5475, 4);
  });

  it('prices each part: HTTP API and Lambda requests, GB-seconds at the memory, read and write units', () => {
    const million = 1_000_000;
    const c = priceUsage({
      httpRequests: million,
      lambdaInvocations: million,
      lambdaBilledMs: million * 10,
      lambdaMemoryMb: 512,
      readUnits: million,
      writeUnits: million,
    });
    expect(c.httpApi).toBeCloseTo(1.0, 9);
    expect(c.lambdaRequests).toBeCloseTo(0.2, 9);
    // 10,000 s at 0.5 GB = 5,000 GB-s.
    expect(c.lambdaDuration).toBeCloseTo(5_000 * 0.0000133334, 9);
    expect(c.dynamoReads).toBeCloseTo(0.125, 9);
    expect(c.dynamoWrites).toBeCloseTo(0.625, 9);
    expect(c.total).toBeCloseTo(1 + 0.2 + 0.066667 + 0.125 + 0.625, 5);
    const twice = addCosts([c, c]);
    expect(twice.total).toBeCloseTo(2 * c.total, 9);
    const jobRun = { httpRequests: 0, lambdaInvocations: 1, lambdaBilledMs: 0, lambdaMemoryMb: 512, readUnits: 0, writeUnits: 0 };
    expect(priceUsage(jobRun).httpApi).toBe(0);
  });
});
