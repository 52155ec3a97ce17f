import type { InstanceRole, Mode } from './types.js';

/** API.md §3.0 EmergencyEvent signal kinds: the (instance, signal) pair is acted on once (§4.4). */
export type SignalType = 'rebalance' | 'termination' | 'instance_terminated';
export type IncidentSource = 'agent' | 'eventbridge';
export type IncidentOutcome = 'open' | 'handled' | 'promoted' | 'failed' | 'no_replica';

/**
 * One incident per (instance, signal): every report of the same interruption (EventBridge warning,
 * the agent's notice routes, a state change, an AWS Health scheduled change) lands on this record.
 * Stored as API.md's EmergencyEvent plus bookkeeping (`handled_at`, the handling lease, the replica
 * an open incident is waiting for).
 */
export interface Incident {
  id: string;
  agent_id: string;
  client_id: string;
  instance_id: string;
  signal_type: SignalType;
  sources: IncidentSource[];
  detected_at: string;
  deadline: string | null;
  action_taken: string | null;
  replica_id: string | null;
  command_id: string | null;
  outcome: IncidentOutcome;
  failover_time_ms: number | null;
  resolved_at: string | null;
  /** The instance's role when the signal was first reported. */
  instance_role: InstanceRole;
  /** Spot interruption behaviour (`terminate|stop|hibernate`), when known. */
  instance_action: string | null;
  /** What first reported it (`spot-interruption-warning`, `termination-imminent`, `state-change:terminated`…). */
  origin: string;
  event_ids: string[];
  reports: number;
  /** Set once the first handler applied its effects; never re-applied. */
  handled_at: string | null;
  /** Only the lease holder handles; an expired lease lets a later report (or the reconciler) take over. */
  handling_lease_until: string | null;
  /** Replica an open incident promotes as soon as it reports ready. */
  awaiting_replica_id: string | null;
  target_pool_id: string | null;
  target_mode: Mode | null;
  /** The PRIMARY after a promotion. */
  new_instance_id: string | null;
  /** Risk of the instance's pool when the signal was handled (rebalance answers carry it). */
  risk_score: number | null;
  message: string | null;
  created_at: string;
  version: number;
}

/** A rebalance signal is acted on at most once per 2 h per instance (API.md §3.7, §5). */
export const REBALANCE_WINDOW_SECONDS = 2 * 3600;
/** A spot interruption gives two minutes (EC2-SIGNALS.md §1); hibernation starts at once. */
export const INTERRUPTION_LEAD_SECONDS = 120;
/** How long one handler may hold an incident before another report can take it over. */
export const HANDLING_LEASE_SECONDS = 30;
/** Incidents are kept 30 days (API.md §6: events); EventBridge event-id records 7 days. */
export const INCIDENT_TTL_DAYS = 30;
export const EVENT_DEDUPE_TTL_DAYS = 7;

/** Outcomes after which nothing more happens to an incident. */
export const FINAL_OUTCOMES = new Set<IncidentOutcome>(['promoted', 'failed', 'no_replica']);

/** The rebalance policy in force: explicit, else pre-warm when auto-switch is on and monitor otherwise. */
export function effectiveRebalancePolicy(config: {
  rebalance_policy?: 'ignore' | 'monitor' | 'prewarm' | 'switch' | null;
  auto_switch_enabled: boolean;
}): 'ignore' | 'monitor' | 'prewarm' | 'switch' {
  return config.rebalance_policy ?? (config.auto_switch_enabled ? 'prewarm' : 'monitor');
}

/** The EmergencyEvent resource (API.md §3.0). */
export const emergencyEventView = (i: Incident) => ({
  id: i.id,
  agent_id: i.agent_id,
  client_id: i.client_id,
  instance_id: i.instance_id,
  signal_type: i.signal_type,
  sources: [...i.sources].sort(),
  detected_at: i.detected_at,
  deadline: i.deadline,
  action_taken: i.action_taken,
  replica_id: i.replica_id,
  command_id: i.command_id,
  outcome: i.outcome,
  failover_time_ms: i.failover_time_ms,
  resolved_at: i.resolved_at,
  origin: i.origin,
  reports: i.reports,
  target_pool_id: i.target_pool_id,
  target_mode: i.target_mode,
  message: i.message,
});
