/**
 * The Switch entity (API.md §3.0) and the small pure rules around it: the price an instance pays,
 * savings impact, downtime, and percentiles for the downtime analytics.
 */
import { round } from './numbers.js';
import type { Mode, TriggerType } from './types.js';

export interface Switch {
  id: string;
  agent_id: string;
  client_id: string;
  command_id: string | null;
  trigger_type: TriggerType;
  old_instance_id: string;
  new_instance_id: string;
  old_mode: Mode;
  new_mode: Mode;
  old_pool_id: string | null;
  new_pool_id: string | null;
  on_demand_price: number | null;
  old_price: number | null;
  new_price: number | null;
  /** old − new price, USD per instance-hour (positive = the switch saves money). */
  savings_impact: number | null;
  downtime_seconds: number | null;
  initiated_at: string;
  completed_at: string;
  timing: Record<string, string | null>;
  old_instance_outcome: 'terminated' | 'zombie';
  snapshot_used: boolean | null;
  reported_trigger: string | null;
  created_at: string;
}

export const TRIGGER_TYPES: readonly TriggerType[] = ['manual', 'model', 'emergency', 'scheduled'];

/** Hourly price an instance pays: the spot price on spot, the on-demand price otherwise (null if unknown). */
export function pricePaid(mode: Mode, spot: number | null | undefined, onDemand: number | null | undefined): number | null {
  const p = mode === 'spot' ? spot : onDemand;
  return typeof p === 'number' && Number.isFinite(p) ? p : null;
}

/** API.md §3.10: savings_impact = old price − new price (null when either is unknown). */
export function savingsImpact(oldPrice: number | null, newPrice: number | null): number | null {
  if (oldPrice === null || newPrice === null) return null;
  return round(oldPrice - newPrice, 6);
}

/** API.md §3.10: downtime = traffic_switched_at − new_instance_ready_at, in seconds (never negative). */
export function downtimeSeconds(readyAt: string, trafficSwitchedAt: string): number | null {
  const a = Date.parse(readyAt);
  const b = Date.parse(trafficSwitchedAt);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
  return round(Math.max(0, (b - a) / 1000), 3);
}

/** Nearest-rank percentile (p in (0, 100]) of the values; null for an empty list. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}
