import { DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { describe, expect, it } from 'vitest';
import { createAwsMarketSource, onDemandPriceOf, TYPES_PER_REQUEST } from '../../../../functions/shared/market/aws-market-source.js';
import type { SpotPriceChange } from '../../../../functions/shared/market/port.js';
import { mockAwsClients } from '../../../support/aws-mocks.js';

/** The market's AWS implementation sends exactly these requests (aws-sdk-client-mock, no AWS account). */
const { ec2, pricing } = mockAwsClients({ ec2: EC2Client, pricing: PricingClient });

const start = new Date('2026-01-10T06:00:00.000Z');
const end = new Date('2026-01-10T12:00:00.000Z');

describe('spot prices: EC2 DescribeSpotPriceHistory', () => {
  it('asks region-wide for Linux/UNIX records of the types, pages with NextToken, and hands over clean changes', async () => {
    ec2
      .on(DescribeSpotPriceHistoryCommand)
      .resolvesOnce({
        SpotPriceHistory: [
          { InstanceType: 'm5.large', AvailabilityZone: 'us-east-1a', ProductDescription: 'Linux/UNIX', SpotPrice: '0.038400', Timestamp: new Date('2026-01-10T05:12:00Z') },
          { InstanceType: 'm5.large', AvailabilityZone: 'us-east-1b', ProductDescription: 'Linux/UNIX', SpotPrice: '0.0401', Timestamp: new Date('2026-01-10T07:00:00Z') },
          // Not a price: dropped.
          { InstanceType: 'm5.large', AvailabilityZone: 'us-east-1c', ProductDescription: 'Linux/UNIX', SpotPrice: '0', Timestamp: new Date('2026-01-10T07:00:00Z') },
          { InstanceType: 'm5.large', AvailabilityZone: 'us-east-1c', ProductDescription: 'Windows', SpotPrice: '0.09', Timestamp: new Date('2026-01-10T07:00:00Z') },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        SpotPriceHistory: [{ InstanceType: 'c5.large', AvailabilityZone: 'us-east-1a', ProductDescription: 'Linux/UNIX', SpotPrice: '0.031', Timestamp: new Date('2026-01-10T08:00:00Z') }],
        NextToken: '',
      });
    const pages: SpotPriceChange[][] = [];
    const source = createAwsMarketSource();
    const out = await source.spotPriceHistory({ region: 'us-east-1', instanceTypes: ['m5.large', 'c5.large', 'm5.large'], start, end }, async (p) => {
      pages.push(p);
    });
    expect(out).toEqual({ pages: 2, records: 5 });
    const calls = ec2.commandCalls(DescribeSpotPriceHistoryCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { InstanceTypes: ['c5.large', 'm5.large'], ProductDescriptions: ['Linux/UNIX'], StartTime: start, EndTime: end, MaxResults: 1000 },
      { InstanceTypes: ['c5.large', 'm5.large'], ProductDescriptions: ['Linux/UNIX'], StartTime: start, EndTime: end, MaxResults: 1000, NextToken: 'page-2' },
    ]);
    expect(await ec2.call(0).thisValue.config.region()).toBe('us-east-1');
    expect(pages).toEqual([
      [
        { instance_type: 'm5.large', az: 'us-east-1a', price: 0.0384, at: Date.parse('2026-01-10T05:12:00Z') },
        { instance_type: 'm5.large', az: 'us-east-1b', price: 0.0401, at: Date.parse('2026-01-10T07:00:00Z') },
      ],
      [{ instance_type: 'c5.large', az: 'us-east-1a', price: 0.031, at: Date.parse('2026-01-10T08:00:00Z') }],
    ]);
  });

  it(`splits long type lists into series of ${TYPES_PER_REQUEST}, and narrows to one AZ when asked (a backfill)`, async () => {
    ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [] });
    const types = Array.from({ length: TYPES_PER_REQUEST + 3 }, (_, i) => `t${String(i).padStart(2, '0')}.large`);
    await createAwsMarketSource().spotPriceHistory({ region: 'sa-east-1', az: 'sa-east-1a', instanceTypes: types, start, end, pageSize: 50 }, async () => {});
    const calls = ec2.commandCalls(DescribeSpotPriceHistoryCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.InstanceTypes?.length)).toEqual([TYPES_PER_REQUEST, 3]);
    expect(calls.every((c) => c.AvailabilityZone === 'sa-east-1a' && c.MaxResults === 50)).toBe(true);
  });
});

describe('on-demand prices: the Price List Query API', () => {
  const product = (instanceType: string, usd: string) =>
    JSON.stringify({
      product: { attributes: { instanceType, regionCode: 'us-east-1', operatingSystem: 'Linux' } },
      terms: { OnDemand: { 'ABC.JRTCKXETXF': { priceDimensions: { 'ABC.JRTCKXETXF.6YS6EN2CT7': { unit: 'Hrs', pricePerUnit: { USD: usd } } } } } },
    });

  it('sends one GetProducts per type with the exact filters, from us-east-1, and reads the hourly USD price', async () => {
    pricing.on(GetProductsCommand).callsFake((input: { Filters: { Field: string; Value: string }[] }) => {
      const type = input.Filters.find((f) => f.Field === 'instanceType')?.Value ?? '';
      return { PriceList: type === 'm5.large' ? [product('m5.large', '0.0960000000')] : [] };
    });
    const prices = await createAwsMarketSource().onDemandPrices('eu-west-1', ['m5.large', 'x9.nothing']);
    expect([...prices]).toEqual([['m5.large', 0.096]]);
    const calls = pricing.commandCalls(GetProductsCommand).map((c) => c.args[0].input);
    expect(calls[0]).toEqual({
      ServiceCode: 'AmazonEC2',
      FormatVersion: 'aws_v1',
      Filters: [
        { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'eu-west-1' },
        { Type: 'TERM_MATCH', Field: 'instanceType', Value: 'm5.large' },
        { Type: 'TERM_MATCH', Field: 'operatingSystem', Value: 'Linux' },
        { Type: 'TERM_MATCH', Field: 'tenancy', Value: 'Shared' },
        { Type: 'TERM_MATCH', Field: 'preInstalledSw', Value: 'NA' },
        { Type: 'TERM_MATCH', Field: 'capacitystatus', Value: 'Used' },
        { Type: 'TERM_MATCH', Field: 'licenseModel', Value: 'No License required' },
      ],
      MaxResults: 10,
    });
    expect(calls).toHaveLength(2);
    expect(await pricing.call(0).thisValue.config.region()).toBe('us-east-1');
  });

  it('ignores documents without an hourly positive price', () => {
    expect(onDemandPriceOf(product('m5.large', '0.0000000000'))).toBeUndefined();
    expect(onDemandPriceOf('not json')).toBeUndefined();
    expect(onDemandPriceOf(product('c5.large', '0.085'))).toEqual({ instanceType: 'c5.large', price: 0.085 });
  });
});
