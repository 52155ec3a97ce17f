import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeSpotPriceHistoryCommand, type DescribeSpotPriceHistoryCommandInput, type DescribeSpotPriceHistoryCommandOutput, EC2Client, type _InstanceType } from '@aws-sdk/client-ec2';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { backfillSpotPrices, planRequests } from '../../../functions/jobs/pricing-consolidation/backfill.js';
import { ddb, tableName } from '../../../functions/shared/db/client.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { pricesRepo } from '../../../functions/shared/db/prices-repo.js';
import { BUCKET_MS, bucketOf, HOUR_MS } from '../../../functions/shared/domain/consolidation.js';
import { readSpotPriceFile, type SpotPriceRow } from '../../../functions/shared/domain/price-history.js';
import { timeWeightedStats } from '../../../functions/shared/domain/risk.js';
import { mockAwsClients } from '../../support/aws-mocks.js';

const { ec2 } = mockAwsClients({ ec2: EC2Client });

const suffix = () => randomBytes(3).toString('hex');

async function rawItems(pk: string) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

type Record5 = { InstanceType: string; AvailabilityZone: string; SpotPrice: string; Timestamp: Date };

/** Emulates DescribeSpotPriceHistory paging: `MaxResults` per page, the next offset as NextToken. */
function servePages(records: Record5[], lastToken: '' | null = '') {
  return (input: DescribeSpotPriceHistoryCommandInput): DescribeSpotPriceHistoryCommandOutput => {
    const offset = input.NextToken ? Number(input.NextToken.replace('page-', '')) : 0;
    const size = input.MaxResults ?? 1000;
    const rows = records
      .filter((r) => r.AvailabilityZone === input.AvailabilityZone && input.InstanceTypes?.includes(r.InstanceType as never))
      .slice(offset, offset + size);
    const more = offset + size < records.filter((r) => r.AvailabilityZone === input.AvailabilityZone).length;
    return {
      $metadata: {},
      SpotPriceHistory: rows.map((r) => ({ ...r, InstanceType: r.InstanceType as _InstanceType, ProductDescription: 'Linux/UNIX' })),
      NextToken: more ? `page-${offset + size}` : (lastToken as string),
    };
  };
}

describe('DescribeSpotPriceHistory backfill', () => {
  it('plans one request series per AZ with its instance types sorted', () => {
    expect(
      planRequests([
        { pool_id: 'm5.large.us-east-1b', instance_type: 'm5.large', az: 'us-east-1b', region: 'us-east-1' },
        { pool_id: 'c5.large.us-east-1a', instance_type: 'c5.large', az: 'us-east-1a', region: 'us-east-1' },
        { pool_id: 'a1.large.us-east-1a', instance_type: 'a1.large', az: 'us-east-1a', region: 'us-east-1' },
      ]),
    ).toEqual([
      { region: 'us-east-1', az: 'us-east-1a', instanceTypes: ['a1.large', 'c5.large'] },
      { region: 'us-east-1', az: 'us-east-1b', instanceTypes: ['m5.large'] },
    ]);
  });

  it('sends exactly the paginated requests, stages EC2_API points, prices the pools and consolidates', async () => {
    const typeA = `zb${suffix()}.large`;
    const typeB = `zb${suffix()}.xlarge`;
    const start = new Date('2040-03-01T00:00:00.000Z');
    const end = new Date('2040-03-01T06:00:00.000Z');
    const now = new Date('2040-03-02T00:00:00.000Z');
    const t = (minutes: number) => new Date(start.getTime() + minutes * 60_000);
    const records: Record5[] = [
      { InstanceType: typeA, AvailabilityZone: 'us-east-1a', SpotPrice: '0.031000', Timestamp: t(-90) }, // carry-in
      { InstanceType: typeB, AvailabilityZone: 'us-east-1a', SpotPrice: '0.062000', Timestamp: t(-30) },
      { InstanceType: typeA, AvailabilityZone: 'us-east-1a', SpotPrice: '0.033000', Timestamp: t(121) },
      { InstanceType: typeA, AvailabilityZone: 'us-east-1b', SpotPrice: '0.040000', Timestamp: t(-5) },
      { InstanceType: 'other.large', AvailabilityZone: 'us-east-1b', SpotPrice: '9.000000', Timestamp: t(10) },
    ];
    ec2.on(DescribeSpotPriceHistoryCommand, { AvailabilityZone: 'us-east-1a' }).callsFake(servePages(records, ''));
    ec2.on(DescribeSpotPriceHistoryCommand, { AvailabilityZone: 'us-east-1b' }).callsFake(servePages(records, null));
    const pools = [
      { pool_id: `${typeA}.us-east-1a`, instance_type: typeA, az: 'us-east-1a', region: 'us-east-1', on_demand_price: null },
      { pool_id: `${typeB}.us-east-1a`, instance_type: typeB, az: 'us-east-1a', region: 'us-east-1', on_demand_price: 0.192 },
      { pool_id: `${typeA}.us-east-1b`, instance_type: typeA, az: 'us-east-1b', region: 'us-east-1', on_demand_price: null },
    ];

    const summary = await backfillSpotPrices(now, {
      start,
      end,
      pools,
      pageSize: 2,
      onDemandPrices: { 'us-east-1': { [typeA]: 0.096 } },
    });

    const base = { ProductDescriptions: ['Linux/UNIX'], StartTime: start, EndTime: end, MaxResults: 2 };
    expect(ec2.commandCalls(DescribeSpotPriceHistoryCommand).map((c) => c.args[0].input)).toStrictEqual([
      { AvailabilityZone: 'us-east-1a', InstanceTypes: [typeA, typeB].sort(), ...base },
      { AvailabilityZone: 'us-east-1a', InstanceTypes: [typeA, typeB].sort(), ...base, NextToken: 'page-2' },
      { AvailabilityZone: 'us-east-1b', InstanceTypes: [typeA], ...base },
    ]);
    expect(summary).toMatchObject({ pages: 3, records: 4, points_staged: 4, pools_with_records: 3, request_series: 2 });

    const staged = await rawItems(keys.stagedPrice(`${typeA}.us-east-1a`, '', '').PK);
    expect(staged.map((s) => [s.collected_at, s.price, s.source_role, s.reporter_instance_id, s.on_demand_price])).toEqual([
      [t(-90).toISOString(), 0.031, 'EC2_API', 'ec2-api', 0.096],
      [t(121).toISOString(), 0.033, 'EC2_API', 'ec2-api', 0.096],
    ]);
    // TTL counts from the backfill, not from the (old) record timestamps.
    expect(staged[0]?.ttl).toBe(Math.floor(now.getTime() / 1000) + 14 * 86_400);

    // The POOL item carries the price in force at EndTime.
    expect(await pricesRepo.getPool(`${typeA}.us-east-1a`)).toMatchObject({ price: 0.033, priced_at: end.toISOString(), on_demand_price: 0.096 });

    // Consolidated: held from the carry-in record, changed at 02:00 (bucket of 02:01), held to EndTime.
    const series = await pricesRepo.listConsolidated(`${typeA}.us-east-1a`, start.toISOString(), end.toISOString());
    expect(series).toHaveLength(72);
    expect(series.filter((b) => b.price === 0.031)).toHaveLength(24);
    expect(series.find((b) => b.bucket_start === t(120).toISOString())).toMatchObject({ price: 0.033, is_interpolated: false, source: 'EC2_API' });
    expect(series.every((b) => b.bucket_start === t(120).toISOString() || (b.is_interpolated && b.fill === 'hold'))).toBe(true);
    const consolidation = summary.consolidation as Record<string, unknown>;
    expect(consolidation).toMatchObject({ trigger: 'backfill', window_start: start.toISOString(), window_end: end.toISOString() });
  });

  it('on real price history (us-east-1, April 2021): the canonical series matches the step function of the records', async () => {
    const dataDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/data');
    const rows = (await readSpotPriceFile(resolve(dataDir, 'spot-prices-us-east-1-2021-04.jsonl.gz'))).filter(
      (r) => r.instanceType === 'm5.xlarge' && r.availabilityZone === 'us-east-1c',
    );
    const type = `zr${suffix()}.xlarge`; // the real records, under a type of this test's own
    const poolId = `${type}.us-east-1c`;
    const start = new Date('2021-04-08T00:00:00.000Z');
    const end = new Date('2021-04-15T00:00:00.000Z');
    const now = new Date('2021-04-20T00:00:00.000Z');
    // What the API returns: the window's changes plus the last change before StartTime.
    const before = rows.filter((r) => r.time < start.getTime());
    const inWindow = rows.filter((r) => r.time >= start.getTime() && r.time < end.getTime());
    const served: SpotPriceRow[] = [...before.slice(-1), ...inWindow];
    expect(inWindow.length).toBeGreaterThan(10);
    const records = served.map((r) => ({
      InstanceType: type,
      AvailabilityZone: r.availabilityZone,
      SpotPrice: r.spotPrice.toFixed(6),
      Timestamp: new Date(r.time),
    }));
    ec2.on(DescribeSpotPriceHistoryCommand).callsFake(servePages(records));
    const pools = [{ pool_id: poolId, instance_type: type, az: 'us-east-1c', region: 'us-east-1', on_demand_price: 0.192 }];

    const summary = await backfillSpotPrices(now, { start, end, pools, pageSize: 10 });
    expect(summary.records).toBe(records.length);
    expect(ec2.commandCalls(DescribeSpotPriceHistoryCommand)).toHaveLength(Math.ceil(records.length / 10));

    const hours = await pricesRepo.listCanonical(poolId, start.toISOString(), end.toISOString());
    expect(hours).toHaveLength(7 * 24);
    expect(hours.every((h) => h.buckets === 12 && h.on_demand_price === 0.192)).toBe(true);

    // Independent expectation 1: each 5-minute bucket carries the last record whose bucket is not after it.
    const times = served.map((r) => r.time);
    const prices = served.map((r) => r.spotPrice);
    const priceAtBucket = (b: number) => {
      let p = Number.NaN;
      for (let i = 0; i < times.length; i++) if (bucketOf(times[i] as number) <= b) p = prices[i] as number;
      return p;
    };
    const spread = Math.max(...prices) - Math.min(...prices);
    for (const h of hours) {
      const hourStart = Date.parse(h.hour_start);
      const buckets = Array.from({ length: 12 }, (_, k) => priceAtBucket(hourStart + k * BUCKET_MS));
      expect(h.avg_price).toBeCloseTo(buckets.reduce((a, b) => a + b, 0) / 12, 8);
      expect(h.min_price).toBe(Math.min(...buckets));
      expect(h.max_price).toBe(Math.max(...buckets));
      expect(h.last_price).toBe(buckets[11]);
      // Independent expectation 2: the exact time-weighted mean of the step function over the hour
      // differs only by the 5-minute quantisation of change times.
      const exact = timeWeightedStats(times, prices, hourStart, hourStart + HOUR_MS);
      expect(Math.abs(h.avg_price - (exact?.mean ?? Number.NaN))).toBeLessThanOrEqual(spread * (BUCKET_MS / HOUR_MS) + 1e-9);
    }
    const week = timeWeightedStats(times, prices, start.getTime(), end.getTime());
    const weekAvg = hours.reduce((a, h) => a + h.avg_price, 0) / hours.length;
    expect(weekAvg / (week?.mean ?? Number.NaN)).toBeCloseTo(1, 3);

    // Running the backfill again leaves the series identical.
    const state = async () => ({
      five: await rawItems(keys.consolidatedPrice(poolId, '').PK),
      hour: await rawItems(keys.canonicalPrice(poolId, '').PK),
    });
    const first = await state();
    await backfillSpotPrices(now, { start, end, pools, pageSize: 10 });
    expect(await state()).toEqual(first);
  });
});
