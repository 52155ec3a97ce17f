import * as z from 'zod';
import {
  count,
  emergencyEventSchema,
  noticeStatus,
  replicaSchema,
  replicaStatus,
  replicaType,
} from '../shared/http/resource-schemas.js';
import { aliasRoute, defineRoute, type RouteDef } from '../shared/http/route.js';
import { aidParams, instanceId, isoTimestamp, nnum, nstr, nullable, obj, poolId, wireSuccess } from '../shared/http/schemas.js';

/**
 * create-emergency-replica. With `parent_instance_id` the call registers an already-launched
 * replica instead (`instance_id` is then the replica, `pool_id` required); otherwise `signal_type`
 * names the notice the instance is under.
 */
const createEmergencyReplicaBody = z
  .object({
    signal_type: z.enum(['rebalance-recommendation', 'termination-notice']).nullish(),
    instance_id: instanceId,
    termination_time: isoTimestamp.nullish(),
    pool_id: poolId.nullish(),
    exclude_zones: z.array(z.string().max(32)).max(50).nullish(),
    parent_instance_id: instanceId.nullish(),
    // The v4 agent registers its own emergency replica as `replica_type: "emergency"` (the
    // customer's agent documents): accepted, and left to the server's automatic-* default.
    replica_type: z
      .union([replicaType, z.literal('emergency')])
      .nullish()
      .transform((t) => (t === 'emergency' ? null : t)),
    status: replicaStatus.nullish(),
  })
  .superRefine((b, ctx) => {
    if (b.parent_instance_id) {
      if (!b.pool_id)
        ctx.addIssue({ code: 'custom', path: ['pool_id'], message: 'required with parent_instance_id' });
    } else if (!b.signal_type) {
      ctx.addIssue({ code: 'custom', path: ['signal_type'], message: 'required' });
    }
  });

/** termination-imminent: `time` and `notice_time` are accepted for `termination_time`. */
const terminationImminentBody = z
  .object({
    instance_id: instanceId.nullish(),
    termination_time: isoTimestamp.nullish(),
    time: isoTimestamp.nullish(),
    notice_time: isoTimestamp.nullish(),
    detected_at: isoTimestamp.nullish(),
    action: z.string().max(64).nullish(),
    replica_id: z.string().max(64).nullish(),
  })
  .transform(({ time, notice_time, termination_time, ...rest }) => ({
    ...rest,
    termination_time: termination_time ?? time ?? notice_time ?? null,
  }));

/** rebalance-recommendation: `notice_time` is accepted for `detected_at`. */
const rebalanceBody = z
  .object({
    instance_id: instanceId.nullish(),
    detected_at: isoTimestamp.nullish(),
    notice_time: isoTimestamp.nullish(),
  })
  .transform(({ notice_time, detected_at, ...rest }) => ({
    ...rest,
    detected_at: detected_at ?? notice_time ?? null,
  }));

const terminationImminent = defineRoute({
  operationId: 'terminationImminent',
  method: 'POST',
  path: '/api/agents/{aid}/termination-imminent',
  group: 'emergency',
  auth: 'agent-client',
  wire: true,
  summary:
    '2-minute spot interruption notice: promote a ready replica or wait for one; success: true tells the agent to stop. A decline is 200 with success: false',
  params: aidParams,
  body: terminationImminentBody,
  response: obj({
    success: z.boolean(),
    message: z.string(),
    error: nstr,
    reason_code: nstr,
    action: z.enum(['replica_promoted', 'awaiting_replica', 'no_replica', 'not_primary']),
    new_instance_id: nstr,
    replica_id: nstr,
    failover_time_ms: nnum,
    emergency_event_id: nstr,
    create_emergency_replica: z.boolean(),
    target_pool_id: nstr,
    instructions: nstr,
  }),
});

const rebalanceRecommendation = defineRoute({
  operationId: 'rebalanceRecommendation',
  method: 'POST',
  path: '/api/agents/{aid}/rebalance-recommendation',
  group: 'emergency',
  auth: 'agent-client',
  wire: true,
  summary: 'Rebalance recommendation: records an EmergencyEvent (2 h dedupe) and may queue a switch',
  params: aidParams,
  body: rebalanceBody,
  response: obj({
    ...wireSuccess,
    action: z.enum(['switch', 'monitor']),
    risk_score: nnum,
    reason: z.string(),
    target_pool_id: nstr,
    command_id: nstr,
    emergency_event_id: nstr,
  }),
});

/** An alias keeps its canonical's schemas, but only the canonical path is frozen by the v4 agent. */
const nonWireAlias = (
  canonical: RouteDef,
  alias: { operationId: string; path: string },
): RouteDef & { aliasOf: string } => ({
  ...aliasRoute(canonical, alias),
  wire: false,
});

/** API.md §3.7: 7 routes, two of them aliases. */
export const emergencyRoutes = {
  createEmergencyReplica: defineRoute({
    operationId: 'createEmergencyReplica',
    method: 'POST',
    path: '/api/agents/{aid}/create-emergency-replica',
    group: 'emergency',
    auth: 'agent-client',
    status: 201,
    wire: true,
    summary:
      'Emergency replica on a rebalance or termination signal: 201 when a replica is created, 200 otherwise (existing replica, or a decline with success: false and reason_code)',
    params: aidParams,
    body: createEmergencyReplicaBody,
    response: obj({
      success: z.boolean(),
      existing: z.boolean(),
      replica_id: nstr,
      instance_id: nstr,
      replica_instance_id: nstr,
      pool: nullable(obj({ id: z.string(), az: nstr, instance_type: nstr })),
      hourly_cost: nnum,
      status: nullable(replicaStatus),
      urgency: nullable(z.enum(['critical', 'high'])),
      emergency_event_id: nstr,
      message: nstr,
      error: nstr,
      reason_code: nullable(z.enum(['AUTO_SWITCH_DISABLED', 'NO_SUITABLE_POOL', 'NOT_PRIMARY'])),
    }),
  }),
  terminationImminent,
  terminationNotice: nonWireAlias(terminationImminent, {
    operationId: 'terminationNotice',
    path: '/api/agents/{aid}/termination-notice',
  }),
  rebalanceRecommendation,
  rebalanceNotice: nonWireAlias(rebalanceRecommendation, {
    operationId: 'rebalanceNotice',
    path: '/api/agents/{aid}/rebalance-notice',
  }),
  getEmergencyStatus: defineRoute({
    operationId: 'getEmergencyStatus',
    method: 'GET',
    path: '/api/agents/{aid}/emergency-status',
    group: 'emergency',
    auth: 'agent-client',
    summary:
      'Emergency state of an agent (rebalance_only_mode = manual replica, decision_engine_active = auto-switch)',
    params: aidParams,
    response: obj({
      emergency_mode_active: z.boolean(),
      notice_status: noticeStatus,
      notice_deadline: nstr,
      rebalance_only_mode: z.boolean(),
      decision_engine_active: z.boolean(),
      last_emergency_event: nullable(emergencyEventSchema),
      emergency_replicas_count: count,
      active_replica: nullable(replicaSchema),
    }),
  }),
  getInstancesToTerminate: defineRoute({
    operationId: 'getInstancesToTerminate',
    method: 'GET',
    path: '/api/agents/{aid}/instances-to-terminate',
    group: 'emergency',
    auth: 'agent-client',
    wire: true,
    summary:
      'ZOMBIEs older than terminate_wait_seconds not listed in the last 5 min (empty when auto-terminate is off)',
    params: aidParams,
    response: obj({
      instances: z.array(
        obj({
          instance_id: z.string(),
          instance_type: z.string(),
          az: z.string(),
          reason: z.literal('zombie_timeout'),
          seconds_waiting: z.number().nonnegative(),
        }),
      ),
      auto_terminate_enabled: z.boolean(),
      terminate_wait_seconds: z.number().int().nonnegative(),
    }),
  }),
};
