/** Entity types as stored (without key attributes). Field names follow API.md §3.0. */

/** `deleting`: a delete has begun (tokens revoked, no new agents or alerts); its cascade is under way. */
export type ClientStatus = 'active' | 'inactive' | 'deleting' | 'deleted';

export interface Client {
  id: string;
  name: string;
  email: string | null;
  plan: string | null;
  max_agents: number;
  aws_account_ids: string[];
  status: ClientStatus;
  token_hash: string;
  /** Replaced tokens in their grace period (hash → valid until): revoked with the current one (grace 0, delete). */
  grace_tokens?: Record<string, string>;
  token_hint: string;
  token_created_at: string;
  /** The idempotency scope of the regenerate request that issued the current token, if it had a key. */
  token_issued_by?: string | null;
  total_savings: number;
  last_sync_at: string | null;
  created_at: string;
  deleted_at: string | null;
  /** While `deleting`: the delete holding the cascade; another delete may resume it after this time. */
  delete_lease_until?: string | null;
  version: number;
}

export interface TokenRecord {
  client_id: string;
  client_status: ClientStatus;
  /** Set on a token replaced with a grace period. */
  valid_until: string | null;
}

export type AgentStatus = 'online' | 'offline' | 'disabled' | 'switching' | 'error' | 'deleted';
export type NoticeStatus = 'none' | 'rebalance' | 'termination';
export type Mode = 'spot' | 'ondemand';

export interface AgentConfig {
  enabled: boolean;
  auto_switch_enabled: boolean;
  auto_terminate_enabled: boolean;
  terminate_wait_seconds: number;
  manual_replica_enabled: boolean;
  replica_enabled: boolean;
  replica_count: number;
  min_savings_percent: number;
  risk_threshold: number;
  max_switches_per_week: number;
  max_switches_per_day: number;
  min_pool_duration_hours: number;
  config_version: number;
  /** Rebalance policy (README "EC2 signals and interruption handling"): ignore | monitor | prewarm | switch; null = derived default. */
  rebalance_policy?: 'ignore' | 'monitor' | 'prewarm' | 'switch' | null;
}

export const DEFAULT_AGENT_CONFIG: AgentConfig = {
  enabled: true,
  auto_switch_enabled: true,
  auto_terminate_enabled: true,
  terminate_wait_seconds: 300,
  manual_replica_enabled: false,
  replica_enabled: false,
  replica_count: 0,
  min_savings_percent: 15,
  risk_threshold: 0.3,
  max_switches_per_week: 10,
  max_switches_per_day: 3,
  min_pool_duration_hours: 2,
  config_version: 1,
  rebalance_policy: null,
};

export interface Agent {
  id: string;
  client_id: string;
  logical_agent_id: string;
  hostname: string | null;
  agent_version: string | null;
  status: AgentStatus;
  enabled: boolean;
  last_heartbeat_at: string | null;
  notice_status: NoticeStatus;
  notice_deadline: string | null;
  config: AgentConfig;
  created_at: string;
  deleted_at: string | null;
  version: number;
  /** The current PRIMARY (null when the agent is in `error`). */
  primary_instance_id: string | null;
  instance_id: string | null;
  instance_type: string | null;
  region: string | null;
  az: string | null;
  current_mode: Mode | null;
  current_pool_id: string | null;
  private_ip: string | null;
  public_ip: string | null;
  /** Concurrency guard: the command currently delivered and not finished. */
  inflight_command_id: string | null;
  pool_since: string | null;
  /**
   * Open-switch slot (API.md §4.4): the one switch command queued and not yet finished, with its
   * priority. Written in the same transaction as the command, conditioned on being empty, stale or
   * of lower priority; a slot naming a command that is already final counts as empty.
   */
  open_switch_id?: string | null;
  open_switch_priority?: number | null;
  /** Savings-ledger watermark: time up to which this agent's PRIMARY has been accrued. */
  accrued_until?: string | null;
}

export type InstanceRole = 'PRIMARY' | 'REPLICA' | 'ZOMBIE' | 'TERMINATED';

export const LEGACY_INSTANCE_STATUS: Record<InstanceRole, string> = {
  PRIMARY: 'running_primary',
  REPLICA: 'running_replica',
  ZOMBIE: 'zombie',
  TERMINATED: 'terminated',
};

export interface Instance {
  id: string;
  client_id: string;
  agent_id: string;
  instance_type: string;
  region: string;
  az: string;
  mode: Mode;
  pool_id: string | null;
  role: InstanceRole;
  spot_price: number | null;
  ondemand_price: number | null;
  baseline_ondemand_price: number | null;
  /** When the client's own agent last reported these prices (pricing-report's collected_at). */
  prices_at?: string | null;
  notice_status: NoticeStatus;
  last_seen_at: string | null;
  zombie_since: string | null;
  terminated_at: string | null;
  termination_confirmed: boolean;
  /** instances-to-terminate: not listed again before this time. */
  next_listing_at: string | null;
  ami_id: string | null;
  private_ip: string | null;
  public_ip: string | null;
  hostname: string | null;
  created_at: string;
  version: number;
  /** Savings ledger (README "Pricing, decisions and savings"): USD accrued while this instance was the PRIMARY. */
  accrued_savings?: number;
}

export type CommandType = 'switch' | 'create_replica' | 'promote_replica' | 'terminate_instance';
export type CommandStatus =
  | 'pending'
  | 'acknowledged'
  | 'executing'
  | 'completed'
  | 'failed'
  | 'expired'
  | 'cancelled';
export type TriggerType = 'manual' | 'model' | 'emergency' | 'scheduled';

export interface Command {
  id: string;
  agent_id: string;
  client_id: string;
  instance_id: string | null;
  command_type: CommandType;
  target_mode: Mode | null;
  target_pool_id: string | null;
  replica_id: string | null;
  terminate_wait_seconds: number;
  priority: number;
  status: CommandStatus;
  trigger_type: TriggerType;
  created_by: string;
  reason: string | null;
  created_at: string;
  delivered_at: string | null;
  completed_at: string | null;
  expires_at: string;
  success: boolean | null;
  message: string | null;
  version: number;
}

export type ReplicaStatus = 'launching' | 'syncing' | 'ready' | 'promoted' | 'failed' | 'terminated';
export type ReplicaType = 'manual' | 'automatic-rebalance' | 'automatic-termination';

export interface Replica {
  id: string;
  agent_id: string;
  client_id: string;
  instance_id: string;
  type: ReplicaType;
  status: ReplicaStatus;
  is_active: boolean;
  sync_status: string | null;
  sync_latency_ms: number | null;
  state_transfer_progress: number | null;
  pool_id: string | null;
  az: string | null;
  instance_type: string | null;
  region: string | null;
  hourly_cost: number | null;
  parent_instance_id: string | null;
  error_message: string | null;
  created_at: string;
  launched_at: string | null;
  terminated_at: string | null;
  termination_confirmed: boolean;
  emergency_event_id: string | null;
  version: number;
}

export type Caller = { kind: 'admin' } | { kind: 'client'; clientId: string };
