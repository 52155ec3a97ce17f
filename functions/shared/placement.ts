import { type PoolItem, pricesRepo } from './db/prices-repo.js';
import { parsePoolId, poolIdOf } from './domain/ids.js';
import { rankPools, scorePools } from './domain/pool-ranking.js';

export interface PoolChoice {
  pool_id: string;
  az: string;
  instance_type: string;
  region: string;
  price: number | null;
  risk_score: number | null;
}

/**
 * The market's spot pools of one instance type in one region (POOL items, GSI1
 * `POOLS#<region>#<type>`). A type the market does not know yet goes on its watch list, so the next
 * market-prices run prices it.
 */
export async function poolsOfType(region: string, instanceType: string): Promise<PoolItem[]> {
  const pools = await pricesRepo.listPools({ region, instanceType });
  if (pools.length === 0) await pricesRepo.watchMarket(region, instanceType);
  return pools;
}

/**
 * Chooses a pool for a replica or an emergency switch (API.md §3.6, §3.7): same instance type,
 * the `safest` order of the shared ranking (lowest risk, then cheapest), outside the excluded AZs
 * and pools (the replica must survive what threatens the PRIMARY). Pools priced above `maxPrice`
 * (on-demand) never qualify. Falls back to the same type in the current pool's AZ when the system
 * has no price data yet.
 */
export async function chooseReplicaPool(input: {
  region: string;
  instanceType: string;
  currentPoolId: string | null;
  excludeAzs?: string[];
  excludePoolIds?: string[];
  maxRisk?: number;
  maxPrice?: number | null;
}): Promise<PoolChoice | null> {
  const rows = await poolsOfType(input.region, input.instanceType);
  const best = rankPools(scorePools(rows), {
    order: 'safest',
    excludePoolIds: input.excludePoolIds ?? [],
    excludeAzs: input.excludeAzs ?? [],
    ...(input.maxRisk !== undefined ? { maxRisk: input.maxRisk } : {}),
    maxPrice: input.maxPrice ?? null,
  })[0];
  if (best) {
    const { pool_id, az, instance_type, region } = best.pool;
    return { pool_id, az, instance_type, region, price: best.price, risk_score: best.risk };
  }
  const excluded = new Set(input.excludePoolIds ?? []);
  if (rows.length === 0 && input.currentPoolId && !excluded.has(input.currentPoolId)) {
    const { az } = parsePoolId(input.currentPoolId);
    if (!(input.excludeAzs ?? []).includes(az)) {
      const pool_id = poolIdOf(input.instanceType, az);
      return { pool_id, az, instance_type: input.instanceType, region: input.region, price: null, risk_score: null };
    }
  }
  return null;
}
