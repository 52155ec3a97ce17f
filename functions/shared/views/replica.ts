import { round } from '../domain/numbers.js';
import type { Replica } from '../domain/types.js';

/** Hours a replica has been (or was) running, for its total cost. */
function runningHours(r: Replica, now: Date): number {
  const start = Date.parse(r.launched_at ?? r.created_at);
  const end = r.terminated_at ? Date.parse(r.terminated_at) : now.getTime();
  return Math.max(0, (end - start) / 3_600_000);
}

/** The Replica resource (API.md §3.0); the agent reads id, pool_id+az, instance_id, is_active, status, type. */
export const replicaView = (r: Replica, now: Date) => ({
  id: r.id,
  agent_id: r.agent_id,
  instance_id: r.instance_id,
  type: r.type,
  replica_type: r.type,
  status: r.status,
  is_active: r.is_active,
  sync_status: r.sync_status,
  sync_latency_ms: r.sync_latency_ms,
  state_transfer_progress: r.state_transfer_progress,
  pool_id: r.pool_id,
  az: r.az,
  instance_type: r.instance_type,
  pool: r.pool_id
    ? { id: r.pool_id, name: r.pool_id, instance_type: r.instance_type, region: r.region, az: r.az }
    : null,
  cost: {
    hourly: r.hourly_cost,
    total: r.hourly_cost === null ? null : round(r.hourly_cost * runningHours(r, now)),
  },
  parent_instance_id: r.parent_instance_id,
  error_message: r.error_message,
  created_at: r.created_at,
  terminated_at: r.terminated_at,
  termination_confirmed: r.termination_confirmed,
  version: r.version,
});
