import type { Agent, AgentConfig } from '../domain/types.js';

/** AgentConfig as returned (API.md §4.5); replica_count is live, replica_enabled mirrors manual mode. */
export const configView = (config: AgentConfig, replicaCount: number) => ({
  enabled: config.enabled,
  auto_switch_enabled: config.auto_switch_enabled,
  auto_terminate_enabled: config.auto_terminate_enabled,
  terminate_wait_seconds: config.terminate_wait_seconds,
  manual_replica_enabled: config.manual_replica_enabled,
  replica_enabled: config.manual_replica_enabled,
  replica_count: replicaCount,
  min_savings_percent: config.min_savings_percent,
  risk_threshold: config.risk_threshold,
  max_switches_per_week: config.max_switches_per_week,
  max_switches_per_day: config.max_switches_per_day,
  min_pool_duration_hours: config.min_pool_duration_hours,
  config_version: config.config_version,
  rebalance_policy: config.rebalance_policy ?? null,
});

/** The Agent resource (API.md §3.0), without internal bookkeeping fields. */
export const agentView = (agent: Agent, replicaCount = agent.config.replica_count ?? 0) => ({
  id: agent.id,
  client_id: agent.client_id,
  logical_agent_id: agent.logical_agent_id,
  hostname: agent.hostname,
  agent_version: agent.agent_version,
  status: agent.status,
  enabled: agent.enabled,
  last_heartbeat_at: agent.last_heartbeat_at,
  notice_status: agent.notice_status,
  notice_deadline: agent.notice_deadline,
  config: configView(agent.config, replicaCount),
  created_at: agent.created_at,
  deleted_at: agent.deleted_at,
  version: agent.version,
  instance_id: agent.instance_id,
  instance_type: agent.instance_type,
  region: agent.region,
  az: agent.az,
  current_mode: agent.current_mode,
  current_pool_id: agent.current_pool_id,
  private_ip: agent.private_ip,
  public_ip: agent.public_ip,
});
