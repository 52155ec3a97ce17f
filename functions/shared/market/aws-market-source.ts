import {
  DescribeSpotPriceHistoryCommand,
  type DescribeSpotPriceHistoryCommandInput,
  EC2Client,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { GetProductsCommand, type GetProductsCommandInput, PricingClient } from '@aws-sdk/client-pricing';
import { traced } from '../observability.js';
import type { MarketPriceSource, SpotPriceChange, SpotPriceQuery } from './port.js';

/** Only Linux/UNIX prices: what the agents run and what the engine compares. */
export const PRODUCT_DESCRIPTION = 'Linux/UNIX';
/** DescribeSpotPriceHistory accepts at most 1,000 records a page. */
const PAGE_SIZE = 1000;
/** Instance types per DescribeSpotPriceHistory series (the filter takes a list; small lists page faster). */
export const TYPES_PER_REQUEST = 20;
/** The Price List Query API is served from us-east-1 (and ap-south-1, eu-central-1) whatever the region asked about. */
export const PRICING_API_REGION = 'us-east-1';

export interface AwsMarketSourceOptions {
  /** EC2 client per region (default: one traced client per region, created once). */
  ec2For?: (region: string) => EC2Client;
  pricing?: PricingClient;
}

/**
 * On-demand hourly USD price of one Price List product document (a JSON string of GetProducts'
 * PriceList): its OnDemand term's first price dimension per hour. Undefined when it has none.
 */
export function onDemandPriceOf(document: string): { instanceType: string; price: number } | undefined {
  type Term = { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: { USD?: string } }> };
  let doc: { product?: { attributes?: Record<string, string> }; terms?: { OnDemand?: Record<string, Term> } };
  try {
    doc = JSON.parse(document) as typeof doc;
  } catch {
    return undefined;
  }
  const instanceType = doc.product?.attributes?.instanceType;
  if (!instanceType) return undefined;
  for (const term of Object.values(doc.terms?.OnDemand ?? {})) {
    for (const dimension of Object.values(term.priceDimensions ?? {})) {
      const price = Number.parseFloat(dimension.pricePerUnit?.USD ?? '');
      if ((dimension.unit ?? 'Hrs').startsWith('Hr') && Number.isFinite(price) && price > 0) return { instanceType, price };
    }
  }
  return undefined;
}

/** The GetProducts request for one type's on-demand Linux, shared-tenancy price in a region. */
export function onDemandRequest(region: string, instanceType: string): GetProductsCommandInput {
  const match = (Field: string, Value: string) => ({ Type: 'TERM_MATCH' as const, Field, Value });
  return {
    ServiceCode: 'AmazonEC2',
    FormatVersion: 'aws_v1',
    Filters: [
      match('regionCode', region),
      match('instanceType', instanceType),
      match('operatingSystem', 'Linux'),
      match('tenancy', 'Shared'),
      match('preInstalledSw', 'NA'),
      match('capacitystatus', 'Used'),
      match('licenseModel', 'No License required'),
    ],
    MaxResults: 10,
  };
}

/** The market as AWS publishes it: EC2 DescribeSpotPriceHistory and the Price List Query API. */
export function createAwsMarketSource(options: AwsMarketSourceOptions = {}): MarketPriceSource {
  const clients = new Map<string, EC2Client>();
  const ec2For =
    options.ec2For ??
    ((region: string) => {
      let client = clients.get(region);
      if (!client) clients.set(region, (client = traced(new EC2Client({ region, maxAttempts: 5 }))));
      return client;
    });
  let pricing = options.pricing;

  return {
    name: 'ec2',

    async spotPriceHistory(query: SpotPriceQuery, onPage: (changes: SpotPriceChange[]) => Promise<void>) {
      const client = ec2For(query.region);
      const types = [...new Set(query.instanceTypes)].sort();
      let pages = 0;
      let records = 0;
      for (let i = 0; i < types.length; i += TYPES_PER_REQUEST) {
        let nextToken: string | undefined;
        do {
          const input: DescribeSpotPriceHistoryCommandInput = {
            ...(query.az ? { AvailabilityZone: query.az } : {}),
            InstanceTypes: types.slice(i, i + TYPES_PER_REQUEST) as _InstanceType[],
            ProductDescriptions: [PRODUCT_DESCRIPTION],
            StartTime: query.start,
            EndTime: query.end,
            MaxResults: query.pageSize ?? PAGE_SIZE,
            ...(nextToken ? { NextToken: nextToken } : {}),
          };
          const out = await client.send(new DescribeSpotPriceHistoryCommand(input));
          pages++;
          const changes: SpotPriceChange[] = [];
          for (const r of out.SpotPriceHistory ?? []) {
            records++;
            if (!r.InstanceType || !r.AvailabilityZone || r.SpotPrice === undefined || !r.Timestamp) continue;
            if (r.ProductDescription && r.ProductDescription !== PRODUCT_DESCRIPTION) continue;
            const price = Number.parseFloat(r.SpotPrice);
            const at = new Date(r.Timestamp).getTime();
            if (!Number.isFinite(price) || price <= 0 || !Number.isFinite(at)) continue;
            changes.push({ instance_type: r.InstanceType, az: r.AvailabilityZone, price, at });
          }
          await onPage(changes);
          nextToken = out.NextToken || undefined; // "" or null ends the series
        } while (nextToken);
      }
      return { pages, records };
    },

    async onDemandPrices(region: string, instanceTypes: readonly string[]) {
      pricing ??= traced(new PricingClient({ region: PRICING_API_REGION, maxAttempts: 5 }));
      const prices = new Map<string, number>();
      for (const type of [...new Set(instanceTypes)].sort()) {
        const out = await pricing.send(new GetProductsCommand(onDemandRequest(region, type)));
        for (const document of out.PriceList ?? []) {
          const found = onDemandPriceOf(typeof document === 'string' ? document : JSON.stringify(document));
          if (found?.instanceType === type) {
            prices.set(type, found.price);
            break;
          }
        }
      }
      return prices;
    },
  };
}
