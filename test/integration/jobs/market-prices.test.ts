import { DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { beforeAll, describe, expect, it } from 'vitest';
import { MARKET_LOOKBACK_MS, refreshMarketPrices } from '../../../functions/jobs/market-prices/job.js';
import { JOBS } from '../../../functions/jobs/job-table.js';
import { pricesRepo } from '../../../functions/shared/db/prices-repo.js';
import { queryAll } from '../../../functions/shared/db/conditions.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { createAwsMarketSource } from '../../../functions/shared/market/aws-market-source.js';
import { createReplayMarket, type ReplayMarket } from '../../../bin/support/market-replay.js';
import { useIsolatedTable } from '../../support/isolated-table.js';
import { mockAwsClients } from '../../support/aws-mocks.js';

/**
 * The market-prices job: the control plane's own source of truth for spot prices. Against the AWS
 * implementation (EC2 and the Price List API mocked with aws-sdk-client-mock, exact commands
 * pinned) and against the local replay of bin/data/.
 */
useIsolatedTable();

const { ec2, pricing } = mockAwsClients({ ec2: EC2Client, pricing: PricingClient });

const HOUR = 3_600_000;
const NOW = new Date('2031-06-01T12:00:00.000Z');
const od = (type: string, usd: string) =>
  JSON.stringify({
    product: { attributes: { instanceType: type } },
    terms: { OnDemand: { T: { priceDimensions: { D: { unit: 'Hrs', pricePerUnit: { USD: usd } } } } } },
  });

describe('market-prices job (AWS source)', () => {
  it('is scheduled every 30 minutes with exactly the AWS actions it calls', () => {
    expect(JOBS.find((j) => j.name === 'market-prices')).toMatchObject({
      schedule: 'rate(30 minutes)',
      awsActions: ['ec2:DescribeSpotPriceHistory', 'pricing:GetProducts'],
    });
  });

  it('prices every pool of a watched type from EC2 (priced_at = now), stages the changes, reads on-demand once a day', async () => {
    await pricesRepo.watchMarket('eu-west-1', 'm9g.large');
    ec2.on(DescribeSpotPriceHistoryCommand).resolves({
      SpotPriceHistory: [
        // The price in force 6 h ago, then a change.
        { InstanceType: 'm9g.large', AvailabilityZone: 'eu-west-1a', ProductDescription: 'Linux/UNIX', SpotPrice: '0.0400', Timestamp: new Date(NOW.getTime() - 9 * HOUR) },
        { InstanceType: 'm9g.large', AvailabilityZone: 'eu-west-1a', ProductDescription: 'Linux/UNIX', SpotPrice: '0.0420', Timestamp: new Date(NOW.getTime() - 2 * HOUR) },
        { InstanceType: 'm9g.large', AvailabilityZone: 'eu-west-1b', ProductDescription: 'Linux/UNIX', SpotPrice: '0.0350', Timestamp: new Date(NOW.getTime() - 7 * HOUR) },
      ],
    });
    pricing.on(GetProductsCommand).resolves({ PriceList: [od('m9g.large', '0.1070000000')] });
    const source = createAwsMarketSource();

    const summary = await refreshMarketPrices(NOW, { source });
    expect(summary).toMatchObject({ source: 'ec2', regions: 1, instance_types: 1, records: 3, points_staged: 5, pools_priced: 2, on_demand_read: 1 });
    expect(ec2.commandCalls(DescribeSpotPriceHistoryCommand).map((c) => c.args[0].input)).toEqual([
      {
        InstanceTypes: ['m9g.large'],
        ProductDescriptions: ['Linux/UNIX'],
        StartTime: new Date(NOW.getTime() - MARKET_LOOKBACK_MS),
        EndTime: NOW,
        MaxResults: 1000,
      },
    ]);
    expect(await ec2.call(0).thisValue.config.region()).toBe('eu-west-1');
    expect(pricing.commandCalls(GetProductsCommand)).toHaveLength(1);

    const pools = await pricesRepo.listPools({ region: 'eu-west-1', instanceType: 'm9g.large' });
    expect(pools.map((p) => [p.pool_id, p.price, p.priced_at, p.on_demand_price, p.market_source])).toEqual([
      ['m9g.large.eu-west-1a', 0.042, NOW.toISOString(), 0.107, 'ec2'],
      ['m9g.large.eu-west-1b', 0.035, NOW.toISOString(), 0.107, 'ec2'],
    ]);
    const staged = await queryAll<Record<string, unknown>>({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.stagedPrice('m9g.large.eu-west-1a', '', '').PK } });
    // The two changes, and the price in force now.
    expect(staged.map((s) => [s.collected_at, s.source_role, s.reporter_instance_id, s.price])).toEqual([
      [new Date(NOW.getTime() - 9 * HOUR).toISOString(), 'EC2_API', 'ec2-api', 0.04],
      [new Date(NOW.getTime() - 2 * HOUR).toISOString(), 'EC2_API', 'ec2-api', 0.042],
      [NOW.toISOString(), 'EC2_API', 'ec2-api', 0.042],
    ]);

    // Half an hour later: the known pools are refreshed (idempotently), on-demand is not read again.
    const later = new Date(NOW.getTime() + HOUR / 2);
    const again = await refreshMarketPrices(later, { source });
    expect(again).toMatchObject({ pools_priced: 2, on_demand_read: 0 });
    expect(pricing.commandCalls(GetProductsCommand)).toHaveLength(1);
    expect((await pricesRepo.getPool('m9g.large.eu-west-1a'))?.priced_at).toBe(later.toISOString());
    // A day later the on-demand list price is read again.
    const tomorrow = await refreshMarketPrices(new Date(NOW.getTime() + 25 * HOUR), { source });
    expect(tomorrow).toMatchObject({ on_demand_read: 1 });
  });
});

describe('market-prices job (local replay of bin/data/)', () => {
  let market: ReplayMarket;
  beforeAll(async () => {
    market = await createReplayMarket({ now: NOW.getTime() });
  });

  it("replays the real history on today's clock: the anchor is day 7 of the month, and it wraps around", () => {
    // 4 days before NOW at midnight ↔ 2021-04-08T00:00Z in the us-east-1 file.
    expect(new Date(market.anchor).toISOString()).toBe('2031-05-28T00:00:00.000Z');
    const pool = 'm5.large.us-east-1a';
    const price = market.priceAt(pool, market.anchor);
    expect(price).toBeGreaterThan(0.01);
    expect(price).toBeLessThan(0.096);
    // One month (30 days for April) later the same instant of the data comes back.
    expect(market.priceAt(pool, market.anchor + 30 * 24 * HOUR)).toBe(price);
    expect(market.poolsOf('us-east-1', 'm5.large')).toContain(pool);
    expect(market.onDemand('us-east-1', 'm5.large')).toBe(0.096);
  });

  it('prices the watched types like EC2 would, and the pools agree with the replay', async () => {
    await pricesRepo.watchMarket('us-east-1', 'c5.large');
    const summary = await refreshMarketPrices(NOW, { source: market });
    expect(summary).toMatchObject({ source: 'replay' });
    const pools = await pricesRepo.listPools({ region: 'us-east-1', instanceType: 'c5.large' });
    expect(pools.map((p) => p.pool_id)).toEqual(market.poolsOf('us-east-1', 'c5.large'));
    for (const p of pools) {
      expect(p.price).toBe(market.priceAt(p.pool_id, NOW.getTime()));
      expect(p.on_demand_price).toBe(0.085);
      expect(p.market_source).toBe('replay');
    }
  });
});
