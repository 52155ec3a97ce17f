/**
 * AWS list prices (us-east-1) the cost model applies, each with its source page and the date it
 * took effect. This machine has no web access: the figures were not fetched; they are the list
 * prices as published and known on `PRICES_KNOWN_ON` (DynamoDB's cross-checked against third-party
 * summaries of the 1 November 2024 on-demand price cut). Re-check the pages before quoting them.
 */
export interface ListPrice {
  /** USD per `unit`. */
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
  /** When this price took effect (as published by AWS). */
  readonly publishedOn: string;
  readonly note?: string;
}

export const PRICES_KNOWN_ON = '2025-06';

/** API Gateway HTTP API, first 300 million requests a month (then $0.90). Billed per 512 KB request. */
export const HTTP_API_REQUEST: ListPrice = {
  usd: 1.0 / 1_000_000,
  unit: 'request',
  source: 'https://aws.amazon.com/api-gateway/pricing/',
  publishedOn: '2020-03-12',
  note: '$1.00 per million (first 300 M/month)',
};

/** Lambda requests, every architecture. */
export const LAMBDA_REQUEST: ListPrice = {
  usd: 0.2 / 1_000_000,
  unit: 'request',
  source: 'https://aws.amazon.com/lambda/pricing/',
  publishedOn: '2021-09-29',
  note: '$0.20 per million',
};

/** Lambda duration on arm64 (Graviton), first 7.5 billion GB-s a month; billed per 1 ms. */
export const LAMBDA_ARM64_GB_SECOND: ListPrice = {
  usd: 0.0000133334,
  unit: 'GB-second',
  source: 'https://aws.amazon.com/lambda/pricing/',
  publishedOn: '2021-09-29',
  note: '$0.0000133334 per GB-s (first 7.5 B GB-s/month)',
};

/** DynamoDB on-demand write request unit (1 KB standard write; transactional writes use 2). */
export const DYNAMODB_WRU: ListPrice = {
  usd: 0.625 / 1_000_000,
  unit: 'WRU',
  source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  publishedOn: '2024-11-01',
  note: '$0.625 per million (after the 50 % on-demand price cut of 1 Nov 2024)',
};

/** DynamoDB on-demand read request unit (4 KB strongly consistent, or 2 eventually consistent reads). */
export const DYNAMODB_RRU: ListPrice = {
  usd: 0.125 / 1_000_000,
  unit: 'RRU',
  source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  publishedOn: '2024-11-01',
  note: '$0.125 per million (after the 50 % on-demand price cut of 1 Nov 2024)',
};

export const PRICES = {
  HTTP_API_REQUEST,
  LAMBDA_REQUEST,
  LAMBDA_ARM64_GB_SECOND,
  DYNAMODB_WRU,
  DYNAMODB_RRU,
} as const;

/** Hours in the month AWS bills by (730 = 8,760 / 12). */
export const HOURS_PER_MONTH = 730;

/** What one unit of work (a request, a job run…) uses, to be priced. */
export interface Usage {
  /** Requests through API Gateway (0 for EventBridge-invoked functions). */
  httpRequests: number;
  lambdaInvocations: number;
  /** Billed Lambda duration in ms (already rounded up to whole ms per invocation). */
  lambdaBilledMs: number;
  lambdaMemoryMb: number;
  readUnits: number;
  writeUnits: number;
}

export interface Cost {
  httpApi: number;
  lambdaRequests: number;
  lambdaDuration: number;
  dynamoReads: number;
  dynamoWrites: number;
  total: number;
}

/** Prices a usage at list prices (no free tier, no Savings Plans, first pricing tier). */
export function priceUsage(u: Usage): Cost {
  const httpApi = u.httpRequests * HTTP_API_REQUEST.usd;
  const lambdaRequests = u.lambdaInvocations * LAMBDA_REQUEST.usd;
  const lambdaDuration = (u.lambdaBilledMs / 1000) * (u.lambdaMemoryMb / 1024) * LAMBDA_ARM64_GB_SECOND.usd;
  const dynamoReads = u.readUnits * DYNAMODB_RRU.usd;
  const dynamoWrites = u.writeUnits * DYNAMODB_WRU.usd;
  return {
    httpApi,
    lambdaRequests,
    lambdaDuration,
    dynamoReads,
    dynamoWrites,
    total: httpApi + lambdaRequests + lambdaDuration + dynamoReads + dynamoWrites,
  };
}

/** Sums costs (the per-route rows into a total). */
export function addCosts(costs: Cost[]): Cost {
  const sum = (k: keyof Cost) => costs.reduce((acc, c) => acc + c[k], 0);
  return {
    httpApi: sum('httpApi'),
    lambdaRequests: sum('lambdaRequests'),
    lambdaDuration: sum('lambdaDuration'),
    dynamoReads: sum('dynamoReads'),
    dynamoWrites: sum('dynamoWrites'),
    total: sum('total'),
  };
}
