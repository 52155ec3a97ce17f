import { pricesRepo } from './db/prices-repo.js';
import { parsePoolId, poolIdOf } from './domain/ids.js';

export interface PoolChoice {
  pool_id: string;
  az: string;
  instance_type: string;
  region: string;
  price: number | null;
  risk_score: number | null;
}

interface PoolRow {
  pool_id: string;
  az: string;
  instance_type: string;
  region: string;
  price?: number | null;
  risk_score?: number | null;
  priced_at?: string | null;
}

/** The known spot pools of one instance type in one region (GSI1 `POOLS#<region>#<type>`, every page). */
export async function poolsOfType(region: string, instanceType: string): Promise<PoolRow[]> {
  return pricesRepo.listPools({ region, instanceType });
}

/**
 * Chooses a pool for a replica: same instance type, lowest risk then cheapest, outside the excluded
 * AZs and pools (the replica must survive what threatens the PRIMARY). Pools priced above
 * `maxPrice` (on-demand) never qualify. Falls back to the same type in another known AZ, then to
 * the current pool, when the system has no price data yet.
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
  const exclude = new Set([...(input.excludePoolIds ?? [])]);
  const excludeAzs = new Set(input.excludeAzs ?? []);
  const rows = await poolsOfType(input.region, input.instanceType);
  const candidates = rows
    .filter((p) => !exclude.has(p.pool_id) && !excludeAzs.has(p.az))
    .filter((p) => input.maxRisk === undefined || (p.risk_score ?? 0) <= input.maxRisk)
    .filter((p) => input.maxPrice == null || p.price == null || p.price <= input.maxPrice)
    .sort(
      (a, b) =>
        (a.risk_score ?? 0.5) - (b.risk_score ?? 0.5) ||
        (a.price ?? Number.POSITIVE_INFINITY) - (b.price ?? Number.POSITIVE_INFINITY),
    );
  const best = candidates[0];
  if (best) {
    return {
      pool_id: best.pool_id,
      az: best.az,
      instance_type: best.instance_type,
      region: best.region,
      price: best.price ?? null,
      risk_score: best.risk_score ?? null,
    };
  }
  if (rows.length === 0 && input.currentPoolId && !exclude.has(input.currentPoolId)) {
    const { az } = parsePoolId(input.currentPoolId);
    if (!excludeAzs.has(az)) {
      return {
        pool_id: poolIdOf(input.instanceType, az),
        az,
        instance_type: input.instanceType,
        region: input.region,
        price: null,
        risk_score: null,
      };
    }
  }
  return null;
}
