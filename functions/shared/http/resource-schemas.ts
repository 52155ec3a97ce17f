import * as z from 'zod';
import { isoTimestamp, nnum, nstr, nullable, obj, pagination } from './schemas.js';

/**
 * Response shapes of the entities that several groups return (API.md §3.0, §4). Every field API.md
 * lists is required (response fields are always present) and nullable where it may be null; the
 * objects stay open so implementations may add fields.
 */

export const count = z.number().int().nonnegative();
const str = z.string();

export const agentStatus = z.enum(['online', 'offline', 'disabled', 'switching', 'error', 'deleted']);
export const noticeStatus = z.enum(['none', 'rebalance', 'termination']);
export const instanceRole = z.enum(['PRIMARY', 'REPLICA', 'ZOMBIE', 'TERMINATED']);
export const legacyInstanceStatus = z.enum(['running_primary', 'running_replica', 'zombie', 'terminated']);
export const replicaStatus = z.enum(['launching', 'syncing', 'ready', 'promoted', 'failed', 'terminated']);
export const replicaType = z.enum(['manual', 'automatic-rebalance', 'automatic-termination']);
export const commandType = z.enum(['switch', 'create_replica', 'promote_replica', 'terminate_instance']);
export const commandStatus = z.enum([
  'pending',
  'acknowledged',
  'executing',
  'completed',
  'failed',
  'expired',
  'cancelled',
]);
export const triggerType = z.enum(['manual', 'model', 'emergency', 'scheduled']);
export const severity = z.enum(['info', 'warning', 'error', 'critical']);
export const signalType = z.enum(['rebalance', 'termination', 'instance_terminated']);
export const emergencyOutcome = z.enum(['open', 'handled', 'promoted', 'failed', 'no_replica']);
export const alertType = z.enum([
  'spot_price_above',
  'spot_price_below',
  'savings_below_percent',
  'pool_risk_above',
  'interruption_rate_above',
]);
export const notificationChannel = z.enum(['dashboard', 'email', 'webhook']);
const modeOut = z.enum(['spot', 'ondemand']);

/** §4.5: the agent configuration as returned (config_version and replica_count are read-only). */
export const agentConfigSchema = obj({
  enabled: z.boolean(),
  auto_switch_enabled: z.boolean(),
  auto_terminate_enabled: z.boolean(),
  terminate_wait_seconds: z.number().int().min(0).max(3600),
  manual_replica_enabled: z.boolean(),
  replica_enabled: z.boolean(),
  replica_count: count,
  min_savings_percent: z.number(),
  risk_threshold: z.number().min(0).max(1),
  max_switches_per_week: z.number().int(),
  max_switches_per_day: z.number().int(),
  min_pool_duration_hours: z.number(),
  config_version: z.number().int(),
});

/** §3.0 Agent, with the fields describing its current PRIMARY (null while it has none). */
export const agentSchema = obj({
  id: str,
  client_id: str,
  logical_agent_id: str,
  hostname: nstr,
  agent_version: nstr,
  status: agentStatus,
  enabled: z.boolean(),
  last_heartbeat_at: nstr,
  notice_status: noticeStatus,
  notice_deadline: nstr,
  config: agentConfigSchema,
  created_at: str,
  deleted_at: nstr,
  version: z.number().int(),
  instance_id: nstr,
  instance_type: nstr,
  region: nstr,
  az: nstr,
  current_mode: nullable(modeOut),
  current_pool_id: nstr,
  private_ip: nstr,
  public_ip: nstr,
});

/** §3.0 Instance: `id` is the EC2 id, repeated as `instance_id`; `instance_status` is the legacy role name. */
export const instanceSchema = obj({
  id: str,
  instance_id: str,
  client_id: str,
  agent_id: str,
  instance_type: str,
  region: str,
  az: str,
  mode: modeOut,
  pool_id: nstr,
  role: instanceRole,
  instance_status: legacyInstanceStatus,
  is_primary: z.boolean(),
  is_active: z.boolean(),
  spot_price: nnum,
  ondemand_price: nnum,
  baseline_ondemand_price: nnum,
  notice_status: noticeStatus,
  last_seen_at: nstr,
  zombie_since: nstr,
  terminated_at: nstr,
  termination_confirmed: z.boolean(),
  version: z.number().int(),
});

/** The pool object of replica responses (`pool.id` + `pool.az` is one of the agent's reads). */
export const replicaPoolSchema = obj({
  id: str,
  name: nstr,
  instance_type: nstr,
  region: nstr,
  az: nstr,
});

/** §3.0 Replica: `instance_id` is a `replica-<8hex>` placeholder until launched; `type` = `replica_type`. */
export const replicaSchema = obj({
  id: str,
  agent_id: str,
  instance_id: str,
  type: replicaType,
  replica_type: replicaType,
  status: replicaStatus,
  is_active: z.boolean(),
  sync_status: nstr,
  sync_latency_ms: nnum,
  state_transfer_progress: nnum,
  pool_id: nstr,
  az: nstr,
  instance_type: nstr,
  pool: nullable(replicaPoolSchema),
  cost: obj({ hourly: nnum, total: nnum }),
  parent_instance_id: nstr,
  error_message: nstr,
  created_at: str,
  terminated_at: nstr,
  termination_confirmed: z.boolean(),
  version: z.number().int(),
});

/** §4.1 Command (issue-switch-command and force-switch return it). */
export const commandSchema = obj({
  id: str,
  agent_id: str,
  instance_id: nstr,
  command_type: commandType,
  target_mode: nullable(modeOut),
  target_pool_id: nstr,
  replica_id: nstr,
  terminate_wait_seconds: z.number().int().nonnegative(),
  priority: z.number().int(),
  status: commandStatus,
  trigger_type: triggerType,
  created_by: str,
  reason: nstr,
  created_at: str,
  delivered_at: nstr,
  completed_at: nstr,
  expires_at: str,
  success: nullable(z.boolean()),
  message: nstr,
  version: z.number().int(),
});

/** One item of the pending-commands bare array (AGENT WIRE CONTRACT). */
export const pendingCommandSchema = obj({
  id: str,
  command_type: commandType,
  target_mode: nullable(modeOut),
  target_pool_id: nstr,
  terminate_wait_seconds: z.number().int().nonnegative(),
  priority: z.number().int(),
  created_at: str,
  instance_id: nstr,
  replica_id: nstr,
  trigger_type: triggerType,
  expires_at: str,
});

/** §3.0 Switch; `savings_impact` = old − new price (USD/h). */
export const switchSchema = obj({
  id: str,
  agent_id: str,
  command_id: nstr,
  trigger_type: triggerType,
  old_instance_id: str,
  new_instance_id: str,
  old_mode: modeOut,
  new_mode: modeOut,
  old_pool_id: nstr,
  new_pool_id: nstr,
  on_demand_price: nnum,
  old_price: nnum,
  new_price: nnum,
  savings_impact: nnum,
  downtime_seconds: nnum,
  initiated_at: nstr,
  completed_at: nstr,
  timing: nullable(obj({})),
  old_instance_outcome: z.enum(['terminated', 'zombie']),
});

/** §3.0 PoolPrice; savings and risk are unknown (null) until an on-demand price / risk run exists. */
export const poolPriceSchema = obj({
  pool_id: str,
  az: str,
  instance_type: str,
  price: z.number(),
  savings_percent: nnum,
  risk_score: nnum,
});

/** §3.0 Notification; `client_id` null = system-wide. */
export const notificationSchema = obj({
  id: str,
  client_id: nstr,
  type: str,
  severity,
  message: str,
  agent_id: nstr,
  is_read: z.boolean(),
  created_at: str,
});

/** §3.0 EmergencyEvent. */
export const emergencyEventSchema = obj({
  id: str,
  agent_id: str,
  instance_id: str,
  signal_type: signalType,
  sources: z.array(z.enum(['agent', 'eventbridge'])),
  detected_at: str,
  deadline: nstr,
  action_taken: nstr,
  replica_id: nstr,
  command_id: nstr,
  outcome: emergencyOutcome,
  failover_time_ms: nnum,
  resolved_at: nstr,
});

/** §3.12 PricingAlert. */
export const pricingAlertSchema = obj({
  alert_id: str,
  alert_type: alertType,
  threshold: z.number(),
  pool_id: nstr,
  enabled: z.boolean(),
  notification_channels: z.array(notificationChannel),
  webhook_url: nstr,
  last_triggered_at: nstr,
  version: z.number().int(),
});

/** `nextToken` of list routes whose → column does not name it: documented, not required. */
export const optionalNextToken = nullable(z.string()).optional();

/** An emergency log (the admin's and a client's): its filters besides the scope, and its page. */
export const emergencyLogFilters = {
  signal_type: signalType.optional(),
  outcome: emergencyOutcome.optional(),
  since: isoTimestamp.optional(),
  ...pagination,
};
export const emergencyLogPage = obj({
  summary: obj({
    total: count,
    by_signal: z.record(z.string(), count),
    by_outcome: z.record(z.string(), count),
    avg_failover_ms: nnum,
  }),
  events: z.array(emergencyEventSchema),
  nextToken: optionalNextToken,
});
