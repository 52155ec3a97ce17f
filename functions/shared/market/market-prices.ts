/**
 * The market price source: where the control plane learns spot and on-demand prices, the public
 * market facts every shared decision rests on (POOL items, price series, risk, decide, placement,
 * alerts). No tenant controls it: an agent's pricing report is that client's own observation and
 * only feeds that client's own view (its instances' prices).
 *
 * Two implementations of one small port:
 * - AWS (the default, ./aws-market-source.ts): EC2 DescribeSpotPriceHistory for spot prices, the
 *   AWS Price List Query API (pricing:GetProducts) for on-demand list prices;
 * - local (bin/support/market-replay.ts, installed by `npm start`, the demo and the benchmarks):
 *   the real price history shipped in bin/data/, time-shifted to now, so the local market lives.
 */

import type * as AwsMarket from './aws-market-source.js';
import type { AwsMarketSourceOptions } from './aws-market-source.js';
import type { MarketPriceSource } from './port.js';

export type { MarketPriceSource, SpotPriceChange, SpotPriceQuery } from './port.js';

let installed: MarketPriceSource | undefined;
let fallback: Promise<MarketPriceSource> | undefined;

/**
 * Replaces the market source of this process (the local runtime, the benchmarks and tests install
 * theirs before any job runs). Returns the previous one, so a test can put it back.
 */
export function useMarketPriceSource(source: MarketPriceSource | undefined): MarketPriceSource | undefined {
  const previous = installed;
  installed = source;
  return previous;
}

/**
 * The AWS implementation (EC2 and Price List SDKs), the one place that loads it. Deployed, it is a
 * bundle of its own beside index.mjs (job-table `lazyBundles`), so no cold start parses those SDKs;
 * from the sources (local runtime, tests, scripts) it is the module itself.
 */
const AWS_MARKET_MODULE = import.meta.url.endsWith('.mjs') ? './aws-market-source.mjs' : './aws-market-source.js';

export async function awsMarketSource(options?: AwsMarketSourceOptions): Promise<MarketPriceSource> {
  // A variable, not a literal: the bundler must leave this import to run time.
  const module = (await import(AWS_MARKET_MODULE)) as typeof AwsMarket;
  return module.createAwsMarketSource(options);
}

/** The market source in use: the installed one, else AWS (its SDK clients load only when first needed). */
export function marketPriceSource(): Promise<MarketPriceSource> {
  if (installed) return Promise.resolve(installed);
  fallback ??= awsMarketSource();
  return fallback;
}
