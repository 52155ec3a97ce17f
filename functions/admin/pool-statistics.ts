import { pricesRepo } from '../shared/db/prices-repo.js';
import { round } from '../shared/domain/numbers.js';

/** API.md §3.3: active = priced within the last 24 h; high risk = risk above 0.7. */
const ACTIVE_WITHIN_MS = 24 * 3_600_000;
const HIGH_RISK = 0.7;
/** Agents' clocks may run a little ahead: a price up to 5 min "in the future" still counts as recent. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * GET /api/admin/pools/statistics: the known spot pools (POOL items through the pool indexes, no
 * Scan), optionally of one region and/or instance type. `average_price` is the mean latest price of
 * the region's priced pools; high-risk pools are listed riskiest first.
 */
export async function getPoolStatistics(query: { region?: string; instance_type?: string }, now: Date) {
  const pools = await pricesRepo.listPools({
    ...(query.region ? { region: query.region } : {}),
    ...(query.instance_type ? { instanceType: query.instance_type } : {}),
  });
  const regions = new Map<string, { pools: number; sum: number; priced: number }>();
  let active = 0;
  for (const p of pools) {
    const r = regions.get(p.region) ?? { pools: 0, sum: 0, priced: 0 };
    r.pools++;
    if (typeof p.price === 'number' && Number.isFinite(p.price)) {
      r.sum += p.price;
      r.priced++;
    }
    regions.set(p.region, r);
    const age = p.priced_at ? now.getTime() - Date.parse(p.priced_at) : Number.NaN;
    if (age >= -CLOCK_SKEW_MS && age <= ACTIVE_WITHIN_MS) active++;
  }
  return {
    total_pools: pools.length,
    active_pools: active,
    regions: [...regions.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([region, r]) => ({
        region,
        pools: r.pools,
        average_price: r.priced > 0 ? round(r.sum / r.priced) : null,
      })),
    high_risk_pools: pools
      .filter((p) => typeof p.risk_score === 'number' && p.risk_score > HIGH_RISK)
      .sort((a, b) => (b.risk_score as number) - (a.risk_score as number) || (a.pool_id < b.pool_id ? -1 : 1))
      .map((p) => ({ pool_id: p.pool_id, risk_score: p.risk_score as number })),
  };
}
