import type { Replica } from '../shared/domain/types.js';

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
    total: r.hourly_cost === null ? null : Math.round(r.hourly_cost * runningHours(r, now) * 1e6) / 1e6,
  },
  parent_instance_id: r.parent_instance_id,
  error_message: r.error_message,
  created_at: r.created_at,
  terminated_at: r.terminated_at,
  termination_confirmed: r.termination_confirmed,
  version: r.version,
});

type Urgency = 'critical' | 'high' | null;

/** The create-emergency-replica reply naming a replica (AGENT WIRE CONTRACT; every field always present). */
export const emergencyReplicaReply = (
  replica: Replica | undefined,
  extra: { existing: boolean; urgency: Urgency; emergencyEventId: string | null; message: string },
) => ({
  success: true,
  existing: extra.existing,
  replica_id: replica?.id ?? null,
  instance_id: replica?.instance_id ?? null,
  replica_instance_id: replica?.instance_id ?? null,
  pool: replica?.pool_id ? { id: replica.pool_id, az: replica.az, instance_type: replica.instance_type } : null,
  hourly_cost: replica?.hourly_cost ?? null,
  status: replica?.status ?? null,
  urgency: extra.urgency,
  emergency_event_id: extra.emergencyEventId,
  message: extra.message,
  error: null,
  reason_code: null,
});

/** A declined create-emergency-replica (200 with `success: false` and a `reason_code`). */
export const emergencyReplicaDecline = (
  code: 'AUTO_SWITCH_DISABLED' | 'NO_SUITABLE_POOL' | 'NOT_PRIMARY' | null,
  error: string,
  emergencyEventId: string | null,
  urgency: Urgency,
) => ({
  success: false,
  existing: false,
  replica_id: null,
  instance_id: null,
  replica_instance_id: null,
  pool: null,
  hourly_cost: null,
  status: null,
  urgency,
  emergency_event_id: emergencyEventId,
  message: error,
  error,
  reason_code: code,
});
