import { agentsRepo } from '../shared/db/agents-repo.js';
import { incidentsRepo } from '../shared/db/incidents-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { replicasRepo } from '../shared/db/replicas-repo.js';
import { TransactionConflict, transact } from '../shared/db/transaction.js';
import { parsePoolId, parseTimestamp } from '../shared/domain/ids.js';
import {
  effectiveRebalancePolicy,
  emergencyEventView,
  FINAL_OUTCOMES,
  INTERRUPTION_LEAD_SECONDS,
  type Incident,
} from '../shared/domain/incidents.js';
import { isActiveReplica } from '../shared/domain/replicas.js';
import type { Agent, Caller, Instance, Replica } from '../shared/domain/types.js';
import { loadAgent } from '../shared/flows/agent-access.js';
import { reportSignal } from '../shared/flows/interruption/intake.js';
import { placeholderReplica } from '../shared/flows/replicas.js';
import { replicaView } from '../shared/views/replica.js';
import { registerLaunchedReplica } from './launched-replica.js';
import { emergencyReplicaDecline, emergencyReplicaReply } from './views.js';

/** A listed instance is not listed again for 5 minutes (API.md §3.7). */
const RELIST_SECONDS = 300;

const iso = (value: string | null | undefined, fallback: Date): string =>
  value ? parseTimestamp(value).toISOString() : fallback.toISOString();

/** The instance a notice route is about: the body's, else the agent's PRIMARY; only this agent's instances count. */
async function noticeInstance(agent: Agent, instanceId: string | null | undefined): Promise<Instance | undefined> {
  const id = instanceId ?? agent.primary_instance_id;
  if (!id) return undefined;
  const instance = await instancesRepo.get(id);
  return instance && instance.agent_id === agent.id ? instance : undefined;
}

// ---------------------------------------------------------------------------------------------
// POST /api/agents/{aid}/termination-imminent (and its alias termination-notice)

export interface TerminationImminentInput {
  instance_id?: string | null;
  termination_time: string | null;
  detected_at?: string | null;
  action?: string | null;
  replica_id?: string | null;
}

/**
 * The 2-minute notice from the agent (AGENT WIRE CONTRACT). Shares the incident with EventBridge's
 * warning: whichever arrives first acts, the other learns the current outcome. `success: true`
 * (replica promoted, or not the PRIMARY) makes the agent stop itself; otherwise it keeps running
 * to execute a pending emergency switch or to wait for its replica.
 */
export async function terminationImminent(caller: Caller, agentId: string, input: TerminationImminentInput, now: Date) {
  const agent = await loadAgent(caller, agentId);
  const instance = await noticeInstance(agent, input.instance_id);
  if (!instance) return terminationReply(undefined, agent, 'not_primary');
  const detectedAt = iso(input.detected_at, now);
  const deadline = input.termination_time
    ? parseTimestamp(input.termination_time).toISOString()
    : new Date(Date.parse(detectedAt) + INTERRUPTION_LEAD_SECONDS * 1000).toISOString();
  const { incident } = await reportSignal(
    {
      instance,
      agent,
      signal: 'termination',
      source: 'agent',
      origin: 'termination-imminent',
      detectedAt,
      deadline,
      instanceAction: input.action ?? null,
    },
    now,
    { waitForHandling: true },
  );
  return terminationReply(incident, agent);
}

async function terminationReply(incident: Incident | undefined, agent: Agent, forced?: 'not_primary') {
  const base = {
    // API.md §1.2: response fields are always present; `error`/`reason_code` are null unless declined.
    error: null as string | null,
    reason_code: null as string | null,
    new_instance_id: null as string | null,
    replica_id: null as string | null,
    failover_time_ms: null as number | null,
    emergency_event_id: incident?.id ?? null,
    create_emergency_replica: false,
    target_pool_id: null as string | null,
    instructions: null as string | null,
  };
  if (forced || !incident) {
    return {
      success: true,
      message: 'the instance under notice is not this agent\'s PRIMARY: nothing to fail over',
      action: 'not_primary' as const,
      ...base,
      instructions: 'stop the agent on this instance',
    };
  }
  if (incident.outcome === 'promoted') {
    return {
      success: true,
      message: incident.message ?? 'replica promoted',
      action: 'replica_promoted' as const,
      ...base,
      new_instance_id: incident.new_instance_id,
      replica_id: incident.replica_id,
      failover_time_ms: incident.failover_time_ms,
      instructions: 'the replica is the PRIMARY now: stop the agent on this instance',
    };
  }
  if (incident.instance_role !== 'PRIMARY' || incident.action_taken === 'recorded' || incident.action_taken === 'replica_terminated') {
    return {
      success: true,
      message: incident.message ?? 'the instance is not the PRIMARY',
      action: 'not_primary' as const,
      ...base,
      instructions: 'stop the agent on this instance',
    };
  }
  const awaiting = incident.awaiting_replica_id ?? null;
  if (awaiting) {
    return {
      success: false,
      message: incident.message ?? 'waiting for a replica',
      action: 'awaiting_replica' as const,
      ...base,
      error: `replica ${awaiting} is not ready yet; it is promoted as soon as it reports ready`,
      reason_code: 'REPLICA_NOT_READY',
      replica_id: awaiting,
      target_pool_id: incident.target_pool_id,
      instructions: incident.command_id
        ? `keep running: replica ${awaiting} is promoted when ready; otherwise execute the pending emergency switch`
        : `keep running until replica ${awaiting} reports ready`,
    };
  }
  // The agent's current config (it may have changed since the request began).
  const fresh = (await agentsRepo.get(agent.id)) ?? agent;
  const autoSwitchOff = !fresh.config.enabled || !fresh.config.auto_switch_enabled;
  const canCreate = !autoSwitchOff && !(await replicasRepo.listByAgent(agent.id)).some(isActiveReplica);
  return {
    success: false,
    message: incident.message ?? 'no replica to promote',
    action: 'no_replica' as const,
    ...base,
    error: incident.command_id
      ? `no replica to promote; emergency switch ${incident.command_id} (priority 100) is pending`
      : (incident.message ?? 'no replica to promote'),
    reason_code: autoSwitchOff
      ? 'AUTO_SWITCH_DISABLED'
      : !incident.command_id && !incident.target_pool_id
          ? 'NO_SUITABLE_POOL'
          : null,
    create_emergency_replica: canCreate,
    target_pool_id: incident.target_pool_id,
    instructions: incident.command_id
      ? 'keep running and execute the pending emergency switch (pending-commands, priority 100)'
      : null,
  };
}

// ---------------------------------------------------------------------------------------------
// POST /api/agents/{aid}/create-emergency-replica

export interface CreateEmergencyReplicaInput {
  signal_type?: 'rebalance-recommendation' | 'termination-notice' | null;
  instance_id: string;
  termination_time?: string | null;
  pool_id?: string | null;
  exclude_zones?: string[] | null;
  parent_instance_id?: string | null;
  replica_type?: Replica['type'] | null;
  status?: Replica['status'] | null;
}

/**
 * AGENT WIRE CONTRACT. Step 1 deduplicates on (instance, signal) — the same incident as
 * EventBridge's report; step 2 returns an active replica (`existing: true`); step 3 creates one
 * `automatic-*` placeholder per notice (the incident's `replica_id` is set in the same
 * transaction, conditioned on being unset); otherwise a 200 decline with `reason_code`.
 */
export async function createEmergencyReplica(caller: Caller, agentId: string, input: CreateEmergencyReplicaInput, now: Date) {
  const agent = await loadAgent(caller, agentId);
  if (input.parent_instance_id) return registerLaunchedReplica(agent, input, now);
  const signal = input.signal_type === 'termination-notice' ? 'termination' : 'rebalance';
  const urgency = signal === 'termination' ? ('critical' as const) : ('high' as const);
  const instance = await noticeInstance(agent, input.instance_id);
  if (!instance) return { status: 200, body: emergencyReplicaDecline('NOT_PRIMARY', `${input.instance_id} is not an instance of this agent`, null, urgency) };
  const detectedAt = now.toISOString();
  const deadline =
    signal === 'termination'
      ? input.termination_time
        ? parseTimestamp(input.termination_time).toISOString()
        : new Date(now.getTime() + INTERRUPTION_LEAD_SECONDS * 1000).toISOString()
      : null;
  const { incident, created } = await reportSignal(
    { instance, agent, signal, source: 'agent', origin: `create-emergency-replica:${input.signal_type}`, detectedAt, deadline },
    now,
    { waitForHandling: true },
  );

  const current = (await agentsRepo.get(agent.id)) ?? agent;
  const replicas = await replicasRepo.listByAgent(agent.id);
  if (incident.outcome === 'promoted' && incident.replica_id) {
    const promoted = replicas.find((r) => r.id === incident.replica_id);
    return {
      status: 200,
      body: emergencyReplicaReply(promoted, { existing: true, urgency, emergencyEventId: incident.id, message: incident.message ?? 'a replica was promoted' }),
    };
  }
  if (current.primary_instance_id !== instance.id) {
    return { status: 200, body: emergencyReplicaDecline('NOT_PRIMARY', `${instance.id} is not the PRIMARY (it is ${instance.role})`, incident.id, urgency) };
  }
  const existing = replicas.find((r) => isActiveReplica(r) && r.status === 'ready') ?? replicas.find(isActiveReplica);
  if (existing) {
    // This very report's incident pre-warmed it (rebalance policy): for the agent, it was created now.
    const createdNow = created && incident.action_taken === 'replica_prewarmed' && incident.replica_id === existing.id;
    return {
      status: createdNow ? 201 : 200,
      body: emergencyReplicaReply(existing, {
        existing: !createdNow,
        urgency,
        emergencyEventId: incident.id,
        message: createdNow ? `emergency replica ${existing.id} requested in ${existing.pool_id}` : `replica ${existing.id} already exists`,
      }),
    };
  }
  if (!current.config.enabled || !current.config.auto_switch_enabled) {
    return {
      status: 200,
      body: emergencyReplicaDecline(
        'AUTO_SWITCH_DISABLED',
        current.config.enabled ? 'auto-switch is off: no emergency replica' : 'the agent is disabled',
        incident.id,
        urgency,
      ),
    };
  }
  if (signal === 'rebalance' && effectiveRebalancePolicy(current.config) !== 'prewarm') {
    return {
      status: 200,
      body: emergencyReplicaDecline(null, `rebalance policy is ${effectiveRebalancePolicy(current.config)}: no replica is pre-warmed`, incident.id, urgency),
    };
  }
  const at = now.toISOString();
  const placeholder = await placeholderReplica(
    current,
    signal === 'termination' ? 'automatic-termination' : 'automatic-rebalance',
    at,
    input.exclude_zones ?? [],
  );
  if (input.pool_id) {
    const wanted = parsePoolId(input.pool_id);
    if (current.instance_type && wanted.instanceType !== current.instance_type) {
      return { status: 200, body: emergencyReplicaDecline('NO_SUITABLE_POOL', `pool ${input.pool_id} is not of type ${current.instance_type}`, incident.id, urgency) };
    }
    if (input.pool_id !== instance.pool_id) {
      Object.assign(placeholder, { pool_id: input.pool_id, az: wanted.az, region: wanted.region || placeholder.region });
    }
  }
  if (!placeholder.pool_id) {
    return { status: 200, body: emergencyReplicaDecline('NO_SUITABLE_POOL', 'no spot pool qualifies for a replica', incident.id, urgency) };
  }
  placeholder.emergency_event_id = incident.id;
  const stillOpen = !FINAL_OUTCOMES.has(incident.outcome);
  try {
    await transact([
      replicasRepo.createTx(placeholder),
      incidentsRepo.claimReplicaTx(incident, placeholder.id),
      // Waiting for this replica keeps the incident on the reconciler's queue.
      ...(stillOpen && signal === 'termination' ? [incidentsRepo.reopenTx(incident, at)] : []),
    ]);
  } catch (err) {
    if (!(err instanceof TransactionConflict)) throw err;
    const fresh = await incidentsRepo.get(incident.id);
    const other = fresh?.replica_id ? await replicasRepo.get(agent.id, fresh.replica_id) : undefined;
    return {
      status: 200,
      body: emergencyReplicaReply(other, { existing: true, urgency, emergencyEventId: fresh?.id ?? null, message: 'an emergency replica already exists for this notice' }),
    };
  }
  return {
    status: 201,
    body: emergencyReplicaReply(placeholder, {
      existing: false,
      urgency,
      emergencyEventId: incident.id,
      message: `emergency replica ${placeholder.id} requested in ${placeholder.pool_id}: launch it (replicas?status=launching)`,
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// POST /api/agents/{aid}/rebalance-recommendation (and its alias rebalance-notice)

export async function rebalanceRecommendation(
  caller: Caller,
  agentId: string,
  input: { instance_id?: string | null; detected_at: string | null },
  now: Date,
) {
  const agent = await loadAgent(caller, agentId);
  const instance = await noticeInstance(agent, input.instance_id);
  const policy = effectiveRebalancePolicy(agent.config);
  if (!instance) {
    return {
      success: true as const,
      action: 'monitor' as const,
      risk_score: null,
      reason: 'the instance is not this agent\'s: recorded nothing',
      target_pool_id: null,
      command_id: null,
      emergency_event_id: null,
      policy,
      replica_id: null,
    };
  }
  const { incident } = await reportSignal(
    {
      instance,
      agent,
      signal: 'rebalance',
      source: 'agent',
      origin: 'rebalance-recommendation',
      detectedAt: iso(input.detected_at, now),
      deadline: null,
    },
    now,
    { waitForHandling: true },
  );
  const switched = incident.action_taken === 'switch' && incident.command_id !== null;
  return {
    success: true as const,
    action: switched ? ('switch' as const) : ('monitor' as const),
    risk_score: incident.risk_score,
    reason: incident.message ?? `rebalance (${policy})`,
    target_pool_id: switched ? incident.target_pool_id : null,
    command_id: switched ? incident.command_id : null,
    emergency_event_id: incident.id,
    policy,
    replica_id: incident.replica_id,
  };
}

// ---------------------------------------------------------------------------------------------
// GET /api/agents/{aid}/emergency-status

export async function emergencyStatus(caller: Caller, agentId: string) {
  const agent = await loadAgent(caller, agentId);
  const [last, replicas] = await Promise.all([incidentsRepo.lastOfAgent(agent.id), replicasRepo.listByAgent(agent.id)]);
  const activeReplicas = replicas.filter(isActiveReplica);
  const activeReplica = activeReplicas.find((r) => r.status === 'ready') ?? activeReplicas[0];
  const now = new Date();
  return {
    emergency_mode_active: agent.notice_status !== 'none' || (last !== undefined && !FINAL_OUTCOMES.has(last.outcome) && last.outcome === 'open'),
    notice_status: agent.notice_status,
    notice_deadline: agent.notice_deadline,
    rebalance_only_mode: agent.config.manual_replica_enabled,
    decision_engine_active: agent.config.auto_switch_enabled,
    rebalance_policy: effectiveRebalancePolicy(agent.config),
    last_emergency_event: last ? emergencyEventView(last) : null,
    emergency_replicas_count: activeReplicas.filter((r) => r.type !== 'manual').length,
    active_replica: activeReplica ? replicaView(activeReplica, now) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// GET /api/agents/{aid}/instances-to-terminate

interface ToTerminate {
  instance_id: string;
  instance_type: string;
  az: string;
  reason: 'zombie_timeout';
  seconds_waiting: number;
}

/**
 * GET /api/agents/{aid}/instances-to-terminate (AGENT WIRE CONTRACT, polled every 60 s).
 *
 * Lists the agent's instances that must still be terminated on EC2:
 *  - ZOMBIEs older than terminate_wait_seconds (API.md §3.7);
 *  - TERMINATED instances whose termination is not confirmed — an old PRIMARY an emergency
 *    promotion recorded as TERMINATED while EC2 takes it away, or a zombie retired by retention —
 *    so the agent makes sure they are gone and its termination-report confirms them.
 * Terminated REPLICAS are not listed here: per API.md §3.7 they go through
 * `GET replicas?status=terminated` (the agent's other worker terminates them), so each instance is
 * handed to exactly one of the agent's two termination paths. Every entry carries the one reason
 * the wire contract allows, `zombie_timeout`. A listed instance is not listed again for 5 minutes;
 * the listing is a version-checked write, so two concurrent polls do not both list it.
 */
export async function instancesToTerminate(caller: Caller, agentId: string, now: Date) {
  const agent = await loadAgent(caller, agentId);
  const { auto_terminate_enabled: autoTerminate } = agent.config;
  const wait = autoTerminate ? Math.max(1, agent.config.terminate_wait_seconds) : 0;
  const reply = (instances: ToTerminate[]) => ({ instances, auto_terminate_enabled: autoTerminate, terminate_wait_seconds: wait });
  if (!autoTerminate) return reply([]);
  const nowIso = now.toISOString();
  const [zombies, terminated] = await Promise.all([
    instancesRepo.listByAgent(agent.id, 'ZOMBIE'),
    instancesRepo.listByAgent(agent.id, 'TERMINATED'),
  ]);
  const waitingSince = (i: Instance) => (i.role === 'ZOMBIE' ? i.zombie_since : (i.terminated_at ?? i.zombie_since));
  const notListedRecently = (i: Instance) => i.next_listing_at === null || i.next_listing_at === undefined || i.next_listing_at <= nowIso;
  const due = [
    ...zombies.filter((z) => z.zombie_since !== null && now.getTime() - Date.parse(z.zombie_since) >= wait * 1000),
    // Unconfirmed terminations: EC2 is (or should be) taking them away already, no extra wait.
    // (Replica instances only become TERMINATED once confirmed, so these are former PRIMARYs/ZOMBIEs.)
    ...terminated.filter((t) => !t.termination_confirmed),
  ].filter(notListedRecently);
  const listed: ToTerminate[] = [];
  const nextListing = new Date(now.getTime() + RELIST_SECONDS * 1000).toISOString();
  for (const instance of due) {
    try {
      await instancesRepo.update(instance.id, { set: { next_listing_at: nextListing }, expectedVersion: instance.version });
    } catch {
      continue; // changed meanwhile (listed by a concurrent poll, or terminated): skip it this time
    }
    const since = waitingSince(instance) ?? instance.created_at;
    listed.push({
      instance_id: instance.id,
      instance_type: instance.instance_type,
      az: instance.az,
      reason: 'zombie_timeout',
      seconds_waiting: Math.max(0, Math.floor((now.getTime() - Date.parse(since)) / 1000)),
    });
  }
  return reply(listed);
}
