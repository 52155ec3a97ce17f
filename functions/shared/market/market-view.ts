import { type PoolItem, pricesRepo } from '../db/prices-repo.js';

/**
 * The market's pools of one instance type in one region, as request paths that only check reports
 * against the market read them: cached per container for 5 minutes of wall-clock time (the market
 * job refreshes prices every 30), so a fleet's reports cost no shared-partition read each.
 */
export const MARKET_VIEW_MAX_AGE_MS = 5 * 60_000;

const cache = new Map<string, { readAt: number; pools: Promise<PoolItem[]> }>();

export function marketPoolsOfType(region: string, instanceType: string): Promise<PoolItem[]> {
  const key = `${region}#${instanceType}`;
  const hit = cache.get(key);
  const nowMs = Date.now();
  if (hit && nowMs - hit.readAt < MARKET_VIEW_MAX_AGE_MS) return hit.pools;
  const pools = pricesRepo.listPools({ region, instanceType }).catch((err: unknown) => {
    cache.delete(key);
    throw err;
  });
  cache.set(key, { readAt: nowMs, pools });
  if (cache.size > 1000) cache.delete(cache.keys().next().value as string);
  return pools;
}

const watched = new Map<string, number>();

/**
 * Puts a type the market does not know yet on its watch list — at most once per container per
 * {@link MARKET_VIEW_MAX_AGE_MS}, so a fleet of a new type does not write one shared partition per report.
 */
export async function watchUnknownType(region: string, instanceType: string): Promise<void> {
  const key = `${region}#${instanceType}`;
  const nowMs = Date.now();
  if (nowMs - (watched.get(key) ?? Number.NEGATIVE_INFINITY) < MARKET_VIEW_MAX_AGE_MS) return;
  await pricesRepo.watchMarket(region, instanceType);
  watched.set(key, nowMs);
  if (watched.size > 1000) watched.delete(watched.keys().next().value as string);
}

/** The market's on-demand list price of a type in a region, when the market knows it. */
export function marketOnDemand(pools: readonly PoolItem[]): number | undefined {
  const prices = pools.map((p) => p.on_demand_price).filter((p): p is number => typeof p === 'number' && p > 0);
  return prices.length > 0 ? Math.max(...prices) : undefined;
}
