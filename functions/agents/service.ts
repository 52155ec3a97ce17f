import { agentsRepo } from '../shared/db/agents-repo.js';
import { clientsRepo } from '../shared/db/clients-repo.js';
import { commandsRepo } from '../shared/db/commands-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { replicasRepo } from '../shared/db/replicas-repo.js';
import { ConflictError, NotFoundError, retryOnVersionConflict, ValidationError, VersionConflictError } from '../shared/domain/errors.js';
import { newId, poolIdOf } from '../shared/domain/ids.js';
import { newInstance } from '../shared/domain/instances.js';
import {
  type Agent,
  type AgentConfig,
  type AgentStatus,
  type Caller,
  DEFAULT_AGENT_CONFIG,
  type Instance,
  type Mode,
  type Replica,
} from '../shared/domain/types.js';
import { CLEANUP_GRACE_SECONDS, loadAgent, loadAgentWithLive } from '../shared/flows/agent-access.js';
import {
  activeReplicasOf,
  deleteAgentCascade,
  pendingCommandsToCancel,
  setAgentEnabled,
  transactAgentChange,
} from '../shared/flows/agent-lifecycle.js';
import { announcePrimaryTermination } from '../shared/flows/interruption/announcement.js';
import { placeholderReplica } from '../shared/flows/replicas.js';
import { registrationEvents } from '../shared/instance-log.js';
import { agentStatusEvent } from '../shared/feed.js';
import { Outbox } from '../shared/outbox.js';
import { MetricUnit, metrics } from '../shared/observability.js';
import { assertOwner } from '../shared/http/auth.js';
import { agentView, configView } from '../shared/views/agent.js';

export interface RegisterInput {
  logical_agent_id: string;
  instance_id: string;
  instance_type: string;
  region: string;
  az: string;
  hostname?: string | null;
  ami_id?: string | null;
  agent_version?: string | null;
  mode?: Mode;
  private_ip?: string | null;
  public_ip?: string | null;
}

function newPrimary(agent: Pick<Agent, 'id' | 'client_id'>, input: RegisterInput, at: string): Instance {
  const mode = input.mode ?? 'ondemand';
  return newInstance(
    {
      id: input.instance_id,
      client_id: agent.client_id,
      agent_id: agent.id,
      instance_type: input.instance_type,
      region: input.region,
      az: input.az,
      mode,
      pool_id: mode === 'spot' ? poolIdOf(input.instance_type, input.az) : null,
      role: 'PRIMARY',
      ami_id: input.ami_id ?? null,
      private_ip: input.private_ip ?? null,
      public_ip: input.public_ip ?? null,
      hostname: input.hostname ?? null,
    },
    at,
  );
}

const registered = (agent: Agent, created: boolean, role: string, enabled: boolean, message?: string) => ({
  agent_id: agent.id,
  client_id: agent.client_id,
  logical_agent_id: agent.logical_agent_id,
  created,
  instance_role: role,
  config: { ...configView(agent.config, agent.config.replica_count ?? 0), enabled },
  message: message ?? null,
});

/**
 * POST /api/agents/register (API.md §4.3). Natural-key idempotent: the same (client,
 * logical_agent_id) always lands on the same live agent, however often or concurrently it registers.
 */
export async function register(caller: Caller, input: RegisterInput, now: Date) {
  if (caller.kind !== 'client') {
    throw new ValidationError('register needs a client token (header or body.client_token)', [
      { field: 'body.client_token', issue: 'required' },
    ]);
  }
  const at = now.toISOString();
  for (let attempt = 0; attempt < 4; attempt++) {
    // Step 2: a known non-PRIMARY instance (a replica or a zombie re-running the installer) changes nothing.
    const known = await instancesRepo.get(input.instance_id);
    if (known && known.client_id !== caller.clientId) {
      throw new ConflictError('ALREADY_EXISTS', 'this instance is registered to another client');
    }
    if (known && known.role !== 'PRIMARY') {
      const owner = await agentsRepo.get(known.agent_id);
      if (owner) return { status: 200, body: registered(owner, false, known.role, false, `instance is a ${known.role}`) };
    }
    const existing = await agentsRepo.findLiveByLogicalId(caller.clientId, input.logical_agent_id);
    if (existing) {
      const placement = {
        status: existing.config.enabled ? ('online' as AgentStatus) : ('disabled' as AgentStatus),
        hostname: input.hostname ?? existing.hostname,
        agent_version: input.agent_version ?? existing.agent_version,
        last_heartbeat_at: at,
      };
      if (known?.agent_id === existing.id) {
        // Same PRIMARY re-registering (agent restart): refresh, keep the instance.
        const agent = await agentsRepo.update(existing.id, { set: placement });
        if (!agent) continue;
        return { status: 200, body: registered(agent, false, 'PRIMARY', agent.config.enabled) };
      }
      if (known) {
        throw new ConflictError('ALREADY_EXISTS', 'this instance is the PRIMARY of another agent');
      }
      try {
        const records = new Outbox().log(...registrationEvents(input.instance_id, existing.id, existing.primary_instance_id, now));
        const agent = await agentsRepo.replacePrimary(existing, newPrimary(existing, input, at), at, placement, records.parts());
        await records.committed();
        return { status: 200, body: registered(agent, false, 'PRIMARY', agent.config.enabled) };
      } catch (err) {
        if (err instanceof ConflictError && attempt < 3) continue; // lost a race: re-read and retry
        throw err;
      }
    }
    const client = await clientsRepo.get(caller.clientId);
    if (!client) throw new NotFoundError('client');
    const agent: Agent = {
      id: newId(),
      client_id: caller.clientId,
      logical_agent_id: input.logical_agent_id,
      hostname: input.hostname ?? null,
      agent_version: input.agent_version ?? null,
      status: 'online',
      enabled: true,
      last_heartbeat_at: at,
      notice_status: 'none',
      notice_deadline: null,
      config: { ...DEFAULT_AGENT_CONFIG },
      created_at: at,
      deleted_at: null,
      version: 1,
      primary_instance_id: null,
      instance_id: null,
      instance_type: null,
      region: null,
      az: null,
      current_mode: null,
      current_pool_id: null,
      private_ip: null,
      public_ip: null,
      inflight_command_id: null,
      pool_since: at,
    };
    const primary = newPrimary(agent, input, at);
    Object.assign(agent, {
      primary_instance_id: primary.id,
      instance_id: primary.id,
      instance_type: primary.instance_type,
      region: primary.region,
      az: primary.az,
      current_mode: primary.mode,
      current_pool_id: primary.pool_id,
      private_ip: primary.private_ip,
      public_ip: primary.public_ip,
    });
    const records = new Outbox().log(...registrationEvents(primary.id, agent.id, null, now));
    const outcome = await agentsRepo.createWithPrimary(agent, primary, client.max_agents, records.parts());
    if (outcome === 'created') {
      await records.committed();
      return { status: 201, body: registered(agent, true, 'PRIMARY', true) };
    }
    // Lost a concurrent registration of the same logical id (or instance): the next pass finds the winner.
  }
  throw new ConflictError('VERSION_CONFLICT', 'registration kept racing with another registration; retry');
}

export interface HeartbeatInput {
  status: 'online' | 'disabled' | 'offline' | 'switching' | 'error';
  instance_id?: string;
  instance_type?: string;
  mode?: Mode;
  az?: string;
}

/**
 * POST /api/agents/{aid}/heartbeat: telemetry. The common case is ONE conditional UpdateItem of the
 * agent's live item (1 write unit, no index): its condition holds when the heartbeat changes
 * nothing but the time (owner, status, PRIMARY, placement as stored). Otherwise the slow path reads
 * the agent and decides: 404, a REPLICA/ZOMBIE heartbeat (only that instance's `last_seen_at`, and
 * only when it is this agent's), a kept `switching`, an agent without PRIMARY (it stays in `error`,
 * API.md §4.4), or a status / placement change written to the agent and its live item together, with its
 * agent_status_changed event in the same transaction.
 */
export async function heartbeat(caller: Caller, agentId: string, input: HeartbeatInput, now: Date) {
  const at = now.toISOString();
  // The dashboard's heartbeats/min (every agent sends one every 30 s, API.md §4.3).
  metrics.addMetric('Heartbeat', MetricUnit.Count, 1);
  const placement = { instance_type: input.instance_type, az: input.az, current_mode: input.mode };
  const clientId = caller.kind === 'client' ? caller.clientId : undefined;
  const live = await agentsRepo.recordHeartbeat(agentId, { status: input.status, at, instanceId: input.instance_id, placement, clientId });
  if (live) return heartbeatReply(agentId, live.status ?? input.status, live.config_version ?? 1, now);

  for (let attempt = 0; attempt < 4; attempt++) {
    const agent = await agentsRepo.get(agentId);
    if (!agent) throw new NotFoundError('agent');
    assertOwner(caller, agent.client_id, 'agent');
    if (agent.status === 'deleted') throw new NotFoundError('agent', 'AGENT_DELETED');
    const primary = agent.primary_instance_id;
    if (input.instance_id && primary && input.instance_id !== primary) {
      // A REPLICA or ZOMBIE heartbeating: only its instance's last_seen_at moves — and only when the
      // instance is this agent's (an id of another agent or client is not written).
      await instancesRepo.touch(input.instance_id, agent.id, at);
      return heartbeatReply(agent.id, agent.status, agent.config.config_version, now);
    }
    // Without a PRIMARY (reclaimed first: `error`), a late heartbeat records the time and nothing else.
    const status: AgentStatus = !primary
      ? agent.status
      : input.status === 'online' && agent.status === 'switching' && agent.inflight_command_id
        ? 'switching'
        : input.status;
    const records = new Outbox();
    if (agent.status !== status) records.event(agentStatusEvent(agent, agent.status, status, now));
    if (!(await agentsRepo.applyHeartbeat(agent, status, at, primary ? placement : {}, records.parts()))) continue; // it moved: re-read
    await records.committed();
    return heartbeatReply(agent.id, status, agent.config.config_version, now);
  }
  throw new ConflictError('VERSION_CONFLICT', 'the agent kept changing during the heartbeat; retry');
}

const heartbeatReply = (agentId: string, status: AgentStatus, configVersion: number, now: Date) => ({
  success: true as const,
  agent_id: agentId,
  status,
  config_version: configVersion,
  server_time: now.toISOString(),
});

const replicaCount = async (agentId: string): Promise<number> => (await activeReplicasOf(agentId)).length;

export async function getAgent(caller: Caller, agentId: string) {
  const { agent, live } = await loadAgentWithLive(caller, agentId);
  return agentView(agent, (await replicasRepo.summary(agent.id, live, { store: false })).active);
}

/** GET /api/agents/{aid}/config (polled every 60 s): the agent and its live item, whose replica summary gives the count. */
export async function getAgentConfig(caller: Caller, agentId: string) {
  const { agent, live } = await loadAgentWithLive(caller, agentId);
  return configView(agent.config, (await replicasRepo.summary(agent.id, live)).active);
}

/** POST /api/agents/{aid}/termination: the agent is leaving; it goes offline. */
export async function announceTermination(
  caller: Caller,
  agentId: string,
  input: { reason?: string | null; instance_id?: string | null; terminated_at?: string | null },
  now: Date,
) {
  const agent = await loadAgent(caller, agentId, { allowDeletedForSeconds: CLEANUP_GRACE_SECONDS, now });
  let status: AgentStatus = agent.status;
  // An agent without a PRIMARY stays in `error` (API.md §4.4), whatever it announces (a retried
  // announcement finds the termination it reported already handled); otherwise it goes offline,
  // conditioned on the agent as read, with its status event.
  if (agent.status !== 'deleted' && agent.status !== 'offline' && agent.primary_instance_id) {
    const records = new Outbox().event(agentStatusEvent(agent, agent.status, 'offline', now, 'termination announced'));
    if (await agentsRepo.applyHeartbeat(agent, 'offline', agent.last_heartbeat_at ?? now.toISOString(), {}, records.parts())) {
      await records.committed();
      status = 'offline';
    }
  }
  if (agent.status !== 'deleted') {
    const leaving = input.instance_id ?? agent.primary_instance_id;
    if (leaving && leaving === agent.primary_instance_id) {
      // The PRIMARY is leaving: treated like an EC2 termination (API.md §3.4).
      status = await announcePrimaryTermination(agent, leaving, input.terminated_at ?? null, now);
    }
  }
  return { success: true as const, agent_id: agent.id, status, instance_id: input.instance_id ?? agent.primary_instance_id };
}

export async function listClientAgents(clientId: string, query: { status?: string; limit: number; nextToken?: string }) {
  const page = await agentsRepo.listByClient(clientId, query.limit, query.nextToken);
  const agents = page.items.filter((a) => a.status !== 'deleted' && (!query.status || a.status === query.status));
  return { agents: agents.map((a) => agentView(a)), nextToken: page.nextToken };
}

export async function listClientAgentHistory(clientId: string, query: { limit: number; nextToken?: string }) {
  const page = await agentsRepo.listByClient(clientId, query.limit, query.nextToken, true);
  return { agents: page.items.map((a) => agentView(a)), nextToken: page.nextToken };
}

/** POST /api/client/agents/{aid}/toggle-enabled. Disabling cancels pending commands. */
export async function toggleEnabled(
  caller: Caller,
  agentId: string,
  input: { enabled: boolean; version?: number },
  ifMatch: number | undefined,
  now: Date,
) {
  const { agent, config, commandsCancelled } = await setAgentEnabled(caller, agentId, input.enabled, input.version ?? ifMatch, now);
  return {
    agent_id: agent.id,
    config: configView(config, await replicaCount(agent.id)),
    version: agent.version + 1,
    commands_cancelled: commandsCancelled,
  };
}

export type ConfigChanges = Partial<
  Pick<
    AgentConfig,
    | 'enabled'
    | 'auto_switch_enabled'
    | 'auto_terminate_enabled'
    | 'terminate_wait_seconds'
    | 'manual_replica_enabled'
    | 'min_savings_percent'
    | 'risk_threshold'
    | 'max_switches_per_week'
    | 'max_switches_per_day'
    | 'min_pool_duration_hours'
    | 'rebalance_policy'
  >
> & { version?: number };

/**
 * POST /api/client/agents/{aid}/config: version-checked, with the §4.4 mode side effects
 * (replicas terminated, a manual replica requested, switches cancelled) in the same transaction.
 */
export async function updateConfig(caller: Caller, agentId: string, changes: ConfigChanges, ifMatch: number | undefined, now: Date) {
  if (changes.auto_switch_enabled === true && changes.manual_replica_enabled === true) {
    throw new ValidationError('auto_switch_enabled and manual_replica_enabled are mutually exclusive', [
      { field: 'body.manual_replica_enabled', issue: 'cannot be enabled together with auto_switch_enabled' },
    ]);
  }
  const at = now.toISOString();
  const { version, ...requested } = changes;
  const expected = version ?? ifMatch;
  return retryOnVersionConflict(expected !== undefined, async () => {
    const agent = await loadAgent(caller, agentId);
    if (expected !== undefined && expected !== agent.version) throw new VersionConflictError(agent.version);
    const before = agent.config;
    const next: AgentConfig = { ...before };
    for (const [k, v] of Object.entries(requested)) if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
    // Exclusivity: whichever mode this request turns on turns the other off.
    if (requested.manual_replica_enabled === true) next.auto_switch_enabled = false;
    if (requested.auto_switch_enabled === true) next.manual_replica_enabled = false;
    next.replica_enabled = next.manual_replica_enabled;

    const replicas = await activeReplicasOf(agent.id);
    const terminate: Replica[] = [];
    const manualOn = !before.manual_replica_enabled && next.manual_replica_enabled;
    const manualOff = before.manual_replica_enabled && !next.manual_replica_enabled;
    const autoOff = before.auto_switch_enabled && !next.auto_switch_enabled;
    if (manualOn) terminate.push(...replicas.filter((r) => r.type !== 'manual'));
    if (manualOff) terminate.push(...replicas.filter((r) => r.type === 'manual'));
    let requestedReplica: Replica | undefined;
    if (manualOn && !replicas.some((r) => r.type === 'manual')) {
      requestedReplica = await placeholderReplica(agent, 'manual', at);
    }
    const cancels = autoOff
      ? await pendingCommandsToCancel(agent.id, (c) => c.command_type === 'switch' && (c.trigger_type === 'model' || c.trigger_type === 'scheduled'))
      : [];
    const changed = JSON.stringify(next) !== JSON.stringify(before);
    if (changed) next.config_version = before.config_version + 1;
    const activeAfter = replicas.length - terminate.length + (requestedReplica ? 1 : 0);
    next.replica_count = activeAfter;
    await transactAgentChange(agent, [
      agentsRepo.updateTx(agent.id, { set: { config: next, enabled: next.enabled }, guard: { version: agent.version } }),
      ...terminate.map((r) => replicasRepo.terminateTx(r, at)),
      ...(requestedReplica ? [replicasRepo.createTx(requestedReplica)] : []),
      ...cancels.map((c) => commandsRepo.cancelTx(c, at, 'auto-switch disabled')),
    ]);
    return {
      agent_id: agent.id,
      config: configView(next, activeAfter),
      version: agent.version + 1,
      side_effects: {
        replicas_terminated: terminate.length,
        replica_requested: requestedReplica !== undefined,
        commands_cancelled: cancels.length,
      },
    };
  });
}

export async function deleteAgent(caller: Caller, agentId: string, now: Date) {
  const agent = await loadAgent(caller, agentId);
  const result = await deleteAgentCascade(agent, now);
  return { agent_id: agent.id, status: 'deleted' as const, ...result };
}
