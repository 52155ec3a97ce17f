import { type PoolItem, pricesRepo, type StagedPoint } from '../../shared/db/prices-repo.js';
import { poolIdOf } from '../../shared/domain/ids.js';
import type { JobSummary } from '../../shared/jobs/create-job-handler.js';
import { type MarketPriceSource, marketPriceSource, type SpotPriceChange } from '../../shared/market/market-prices.js';
import { logger } from '../../shared/observability.js';

const HOUR_MS = 3_600_000;
/**
 * Each run asks for the changes of the last 6 h (plus, per pool, the price in force 6 h ago): a run
 * or two may fail without a gap, and rewriting the same staged records is idempotent (their keys
 * are pool + time + `ec2-api`).
 */
export const MARKET_LOOKBACK_MS = 6 * HOUR_MS;
/** On-demand list prices change rarely: a pool's is re-read once a day. */
export const ON_DEMAND_MAX_AGE_MS = 24 * HOUR_MS;
/** Who staged the market's points (consolidation ranks them as EC2_API). */
export const MARKET_REPORTER = 'ec2-api';

/**
 * The market-prices job (every 30 min, and on demand): the control plane's own source of truth for
 * spot prices. For every (region, instance type) the fleet uses — the known pools (GSI2 `POOLS`)
 * and the market watch list (types agents run that have no pool yet) — it reads the spot price
 * changes of the last 6 h from the market source (EC2 DescribeSpotPriceHistory, region-wide, so
 * every AZ's pool of the type is found), stages them for consolidation (`EC2_API` points, plus the
 * price in force now, so the series holds each price up to this run), and
 * writes each pool's current price onto its POOL item with `priced_at` = now (the market vouches for
 * it up to now: API.md §4.6 wants candidates priced within 2 h). On-demand list prices come from the
 * same source (the Price List API), re-read once a day. Agents' pricing reports never write here.
 */
export async function refreshMarketPrices(
  now: Date,
  options: { source?: MarketPriceSource; lookbackMs?: number } = {},
): Promise<JobSummary> {
  const source = options.source ?? (await marketPriceSource());
  const [known, watched] = await Promise.all([pricesRepo.listPools(), pricesRepo.listMarketWatch()]);
  const byRegion = new Map<string, Set<string>>();
  const add = (region: string, type: string) => {
    if (!region || !type) return;
    const types = byRegion.get(region) ?? new Set<string>();
    types.add(type);
    byRegion.set(region, types);
  };
  for (const p of known) add(p.region, p.instance_type);
  for (const w of watched) add(w.region, w.instance_type);
  const knownById = new Map(known.map((p) => [p.pool_id, p]));
  const start = new Date(now.getTime() - (options.lookbackMs ?? MARKET_LOOKBACK_MS));
  const summary = {
    source: source.name,
    regions: byRegion.size,
    instance_types: 0,
    pages: 0,
    records: 0,
    points_staged: 0,
    pools_priced: 0,
    on_demand_read: 0,
  };

  for (const [region, typeSet] of [...byRegion.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const types = [...typeSet].sort();
    summary.instance_types += types.length;
    const onDemand = await onDemandByType(source, region, types, known, now);
    summary.on_demand_read += onDemand.readNow.size;
    const latest = new Map<string, SpotPriceChange>();
    const point = (c: SpotPriceChange, at: number): StagedPoint => ({
      pool_id: poolIdOf(c.instance_type, c.az),
      instance_type: c.instance_type,
      region,
      az: c.az,
      price: c.price,
      on_demand_price: onDemand.prices.get(c.instance_type) ?? null,
      collected_at: new Date(at).toISOString(),
      source_role: 'EC2_API',
      agent_id: null,
      client_id: null,
      reporter_instance_id: MARKET_REPORTER,
    });
    const series = await source.spotPriceHistory({ region, instanceTypes: types, start, end: now }, async (changes) => {
      const points = changes
        .filter((c) => typeSet.has(c.instance_type) && c.at <= now.getTime())
        .map((c) => {
          const p = point(c, c.at);
          const last = latest.get(p.pool_id);
          if (!last || c.at >= last.at) latest.set(p.pool_id, c);
          return p;
        });
      await pricesRepo.stage(points, { ttlFrom: now });
      summary.points_staged += points.length;
    });
    summary.pages += series.pages;
    summary.records += series.records;
    // The price in force now is a market fact too (a change record at `now` with the same price):
    // consolidation then holds each pool's price up to this run, whatever the time since its last change.
    const confirmations = [...latest.values()].map((c) => point(c, now.getTime()));
    await pricesRepo.stage(confirmations, { ttlFrom: now });
    summary.points_staged += confirmations.length;
    for (const [poolId, last] of latest) {
      const priced = await pricesRepo.recordMarketPrice({
        pool_id: poolId,
        instance_type: last.instance_type,
        region,
        az: last.az,
        price: last.price,
        on_demand_price: onDemand.prices.get(last.instance_type) ?? knownById.get(poolId)?.on_demand_price ?? null,
        ...(onDemand.readNow.has(last.instance_type) ? { on_demand_at: now.toISOString() } : {}),
        priced_at: now.toISOString(),
        source: source.name,
      });
      if (priced) summary.pools_priced++;
    }
    logger.info('market prices refreshed', { region, instance_types: types.length, pools: latest.size, records: series.records });
  }
  return summary;
}

/**
 * On-demand prices of a region's types: the POOL items' own while less than a day old (every
 * known pool of the type has one), else read from the market source.
 */
async function onDemandByType(
  source: MarketPriceSource,
  region: string,
  types: string[],
  known: readonly PoolItem[],
  now: Date,
): Promise<{ prices: Map<string, number>; readNow: Set<string> }> {
  const prices = new Map<string, number>();
  const stale: string[] = [];
  for (const type of types) {
    const pools = known.filter((p) => p.region === region && p.instance_type === type);
    const fresh = pools.length > 0 && pools.every((p) => typeof p.on_demand_price === 'number' && p.on_demand_price > 0 && isFresh(p.on_demand_at, now));
    if (fresh) prices.set(type, pools[0]?.on_demand_price as number);
    else stale.push(type);
  }
  const readNow = new Set<string>();
  if (stale.length > 0) {
    for (const [type, price] of await source.onDemandPrices(region, stale)) {
      prices.set(type, price);
      readNow.add(type);
    }
  }
  return { prices, readNow };
}

const isFresh = (at: string | null | undefined, now: Date) => typeof at === 'string' && now.getTime() - Date.parse(at) < ON_DEMAND_MAX_AGE_MS;
