import type { PoolItem } from '../db/prices-repo.js';
import { positiveOrNull } from '../domain/numbers.js';

/** PoolPrice (API.md §3.0) of a pool item; savings against on-demand in percent. */
export function poolPrice(p: PoolItem, onDemand: number | null) {
  const price = positiveOrNull(p.price) ?? 0;
  return {
    pool_id: p.pool_id,
    az: p.az,
    instance_type: p.instance_type,
    price,
    savings_percent: onDemand && onDemand > 0 ? Math.round((1 - price / onDemand) * 10_000) / 100 : null,
    risk_score: typeof p.risk_score === 'number' ? p.risk_score : null,
  };
}
