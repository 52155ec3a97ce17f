/**
 * The market price source port (see market-prices.ts for how one is chosen): the AWS
 * implementation (aws-market-source.ts) and the local replay (bin/support/market-replay.ts).
 */

/** One spot price change: the price of (type, AZ) from `at` until the next change. */
export interface SpotPriceChange {
  instance_type: string;
  az: string;
  price: number;
  /** Epoch milliseconds. */
  at: number;
}

export interface SpotPriceQuery {
  region: string;
  /** The instance types asked for (the source may page through them). */
  instanceTypes: readonly string[];
  /** Only this AZ (a backfill of known pools); default every AZ of the region. */
  az?: string;
  start: Date;
  end: Date;
  /** Records per page (1–1000; default the source's maximum). */
  pageSize?: number;
}

export interface MarketPriceSource {
  /** `ec2` or `replay`: recorded with what it produced (pool items, job summaries). */
  readonly name: string;
  /**
   * Linux/UNIX spot price changes in [start, end], plus for each pool the change in force at
   * `start` (DescribeSpotPriceHistory's own rule), handed over page by page as they arrive.
   */
  spotPriceHistory(
    query: SpotPriceQuery,
    onPage: (changes: SpotPriceChange[]) => Promise<void>,
  ): Promise<{ pages: number; records: number }>;
  /** On-demand Linux (shared tenancy) price per instance-hour by type; unknown types are absent. */
  onDemandPrices(region: string, instanceTypes: readonly string[]): Promise<Map<string, number>>;
}
