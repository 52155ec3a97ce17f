import type { Replica } from '../shared/domain/types.js';

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
