import { agentsRepo } from '../shared/db/agents-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { PromotionConflict, promoteReplicaTx } from '../shared/db/promotion-repo.js';
import { replicasRepo } from '../shared/db/replicas-repo.js';
import { TransactionConflict, transact, type TxPart } from '../shared/db/transaction.js';
import { FINAL_REPLICA_STATUSES, isActiveReplica, isPlaceholderId } from '../shared/domain/replicas.js';
import { CLEANUP_GRACE_SECONDS, loadAgent, loadAgentWithLive } from '../shared/flows/agent-access.js';
import { onReplicaReady } from '../shared/flows/interruption/promotion.js';
import { lostReplicaEffects, lostReplicaPlan } from '../shared/flows/interruption/replica-loss.js';
import { placeholderReplica, replicaInstanceTx } from '../shared/flows/replicas.js';
import {
  ConflictError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
  retryOnVersionConflict,
  VersionConflictError,
} from '../shared/domain/errors.js';
import { newId, parsePoolId, parseTimestamp } from '../shared/domain/ids.js';
import type { Agent, Caller, Replica, ReplicaStatus } from '../shared/domain/types.js';
import { promotionChanges } from '../shared/feed.js';
import { Outbox } from '../shared/outbox.js';
import { chooseReplicaPool } from '../shared/placement.js';
import { replicaView } from '../shared/views/replica.js';

/** A terminated replica is reported unconfirmed for 24 h at most (API.md §4.2). */
const UNCONFIRMED_TERMINATION_SECONDS = 24 * 3600;
const MAX_ATTEMPTS = 4;

const PROGRESS: Partial<Record<ReplicaStatus, number>> = { launching: 0, syncing: 1, ready: 2 };

/**
 * API.md §4.2: launching → syncing → ready → promoted; failed and terminated from any earlier
 * status; promoted, failed and terminated are final. Repeating the current status is `same`.
 */
export function replicaTransition(from: ReplicaStatus, to: ReplicaStatus): 'same' | 'ok' | 'illegal' {
  if (from === to) return 'same';
  if (FINAL_REPLICA_STATUSES.has(from)) return 'illegal';
  if (to === 'failed' || to === 'terminated') return 'ok';
  const a = PROGRESS[from];
  const b = PROGRESS[to];
  return a !== undefined && b !== undefined && b > a ? 'ok' : 'illegal';
}

const invalidTransition = (from: ReplicaStatus, to: string) =>
  new ConflictError('INVALID_TRANSITION', `a replica cannot go from ${from} to ${to}`, [
    { field: 'body.status', issue: `invalid transition from ${from}` },
  ]);

async function loadReplica(agent: Agent, replicaId: string): Promise<Replica> {
  const replica = await replicasRepo.get(agent.id, replicaId);
  if (!replica) throw new NotFoundError('replica');
  return replica;
}

const poolView = (r: Replica) => ({
  id: r.pool_id as string,
  name: r.pool_id,
  instance_type: r.instance_type,
  region: r.region,
  az: r.az,
});

// ---------------------------------------------------------------------------------------------
// GET /api/agents/{aid}/replicas

/**
 * GET /api/agents/{aid}/replicas (AGENT WIRE CONTRACT, polled every 30 s with ?status=launching and
 * ?status=terminated). No status: the active replicas; `terminated`: terminations not yet confirmed.
 */
export async function listReplicas(
  caller: Caller,
  agentId: string,
  query: { status?: string; include_terminated?: boolean },
  now: Date,
) {
  const { agent, live } = await loadAgentWithLive(caller, agentId, { allowDeletedForSeconds: CLEANUP_GRACE_SECONDS, now });
  // The agent's polls (`launching`, `terminated`) usually find nothing: the replica summary on the
  // live item, read with the agent, answers that without reading the replicas.
  const summary = await replicasRepo.summary(agent.id, live);
  const none =
    query.status === 'launching' ? summary.launching === 0 : query.status === 'terminated' ? summary.unconfirmed === 0 : false;
  if (none) return { replicas: [], total: 0 };
  const all = await replicasRepo.listByAgent(agent.id);
  const unconfirmed = (r: Replica) =>
    r.status === 'terminated' &&
    !r.termination_confirmed &&
    now.getTime() - Date.parse(r.terminated_at ?? r.created_at) <= UNCONFIRMED_TERMINATION_SECONDS * 1000;
  let selected: Replica[];
  if (!query.status) {
    selected = all.filter((r) => isActiveReplica(r) || (query.include_terminated && r.status === 'terminated'));
  } else if (query.status === 'terminated') {
    selected = all.filter(unconfirmed);
  } else if (query.status === 'launching') {
    selected = all.filter((r) => r.status === 'launching' && isPlaceholderId(r.instance_id));
  } else {
    selected = all.filter((r) => r.status === query.status);
  }
  return { replicas: selected.map((r) => replicaView(r, now)), total: selected.length };
}

// ---------------------------------------------------------------------------------------------
// POST /api/agents/{aid}/replicas

export interface CreateReplicaInput {
  instance_id?: string | null;
  replica_type: Replica['type'];
  parent_instance_id?: string | null;
  pool_id?: string | null;
  status: ReplicaStatus;
  exclude_zones?: string[] | null;
}

/**
 * Registers a replica, launched (with its instance_id) or as a placeholder. Manual mode keeps
 * exactly one: the create commits together with a check-and-bump of the agent's version, the same
 * guard every manual-replica creation uses (config change, delete replacement, reconciler), so two
 * concurrent creations cannot both succeed; the loser re-reads and gets 422 REPLICA_EXISTS.
 */
export async function createReplica(caller: Caller, agentId: string, input: CreateReplicaInput, now: Date) {
  const at = now.toISOString();
  if (input.status !== 'launching' && input.status !== 'syncing' && input.status !== 'ready') {
    throw new ValidationError('a new replica is launching, syncing or ready', [{ field: 'body.status', issue: 'invalid' }]);
  }
  for (let attempt = 0; ; attempt++) {
    const agent = await loadAgent(caller, agentId);
    if (input.replica_type === 'manual' && !agent.config.manual_replica_enabled) {
      throw new UnprocessableError('MANUAL_REPLICA_DISABLED', 'manual replica mode is off for this agent');
    }
    const replicas = await replicasRepo.listByAgent(agent.id);
    const clash =
      input.replica_type === 'manual'
        ? replicas.find((r) => isActiveReplica(r) && r.type === 'manual')
        : replicas.find((r) => isActiveReplica(r) && r.type !== 'manual');
    if (clash) {
      throw new UnprocessableError(
        'REPLICA_EXISTS',
        `replica ${clash.id} is already active (${input.replica_type === 'manual' ? 'manual mode keeps exactly one' : 'one automatic replica at a time'})`,
      );
    }
    const replica = await newReplica(agent, input, at);
    const launched = input.instance_id && !isPlaceholderId(input.instance_id) ? input.instance_id : undefined;
    const instanceTx = launched ? await replicaInstanceTx(agent, replica, launched, at) : [];
    try {
      await transact([replicasRepo.createTx(replica), agentsRepo.versionGuardTx(agent), ...instanceTx]);
    } catch (err) {
      if (!(err instanceof TransactionConflict) || attempt >= MAX_ATTEMPTS - 1) throw err;
      if (err.failedOn('instance')) {
        throw new ConflictError('ALREADY_EXISTS', `instance ${input.instance_id} is already registered`);
      }
      continue; // the agent changed (another replica, a config change): re-read and decide again
    }
    if (replica.status === 'ready') await onReplicaReady(agent.id, replica.id, now);
    return {
      success: true as const,
      replica_id: replica.id,
      instance_id: replica.instance_id,
      pool: poolView(replica),
      hourly_cost: replica.hourly_cost,
      status: replica.status,
      message: isPlaceholderId(replica.instance_id)
        ? `replica placeholder created in ${replica.pool_id}: launch it and attach it with PUT`
        : `replica ${replica.instance_id} registered in ${replica.pool_id}`,
    };
  }
}

async function newReplica(agent: Agent, input: CreateReplicaInput, at: string): Promise<Replica> {
  let pool: { pool_id: string; az: string; instance_type: string; region: string; price: number | null } | null = null;
  if (input.pool_id) {
    const parsed = parsePoolId(input.pool_id);
    if (agent.instance_type && parsed.instanceType !== agent.instance_type) {
      throw new UnprocessableError('POOL_MISMATCH', `pool ${input.pool_id} is not of the agent's type ${agent.instance_type}`);
    }
    pool = { pool_id: input.pool_id, az: parsed.az, instance_type: parsed.instanceType, region: parsed.region || agent.region || '', price: null };
  } else if (agent.region && agent.instance_type) {
    // Default: the cheapest safe pool in another AZ (API.md §3.6).
    pool = await chooseReplicaPool({
      region: agent.region,
      instanceType: agent.instance_type,
      currentPoolId: agent.current_pool_id,
      excludeAzs: [...(input.exclude_zones ?? []), ...(agent.az ? [agent.az] : [])],
      excludePoolIds: agent.current_pool_id ? [agent.current_pool_id] : [],
      maxRisk: agent.config.risk_threshold,
    });
  }
  if (!pool) throw new UnprocessableError('NO_SUITABLE_POOL', 'no spot pool in another AZ qualifies for a replica');
  const launched = input.instance_id && !isPlaceholderId(input.instance_id) ? input.instance_id : undefined;
  const base = await placeholderReplica(agent, input.replica_type, at);
  return {
    ...base,
    id: newId(),
    instance_id: launched ?? base.instance_id,
    pool_id: pool.pool_id,
    az: pool.az,
    instance_type: pool.instance_type,
    region: pool.region,
    hourly_cost: pool.price,
    parent_instance_id: input.parent_instance_id ?? agent.primary_instance_id,
    // A launched instance is past `launching` (API.md §4.2: launching = placeholder).
    status: launched && input.status === 'launching' ? 'syncing' : input.status,
    launched_at: launched ? at : null,
  };
}

// ---------------------------------------------------------------------------------------------
// PUT /api/agents/{aid}/replicas/{rid}

export async function attachReplica(
  caller: Caller,
  agentId: string,
  replicaId: string,
  input: { instance_id: string; status: ReplicaStatus; version?: number | null },
  ifMatch: number | undefined,
  now: Date,
) {
  const at = now.toISOString();
  const expected = input.version ?? ifMatch;
  const agent = await loadAgent(caller, agentId, { allowDeletedForSeconds: CLEANUP_GRACE_SECONDS, now });
  const saved = await retryOnVersionConflict(expected !== undefined, async () => {
    const replica = await loadReplica(agent, replicaId);
    if (expected !== undefined && expected !== replica.version) throw new VersionConflictError(replica.version);
    if (replica.instance_id === input.instance_id) return replica; // the agent repeating itself
    if (!isPlaceholderId(replica.instance_id)) {
      throw new ConflictError('INVALID_TRANSITION', `the replica already has instance ${replica.instance_id}`);
    }
    const status = input.status === 'launching' ? 'syncing' : input.status;
    if (replicaTransition(replica.status, status) === 'illegal') throw invalidTransition(replica.status, status);
    const instanceTx = await replicaInstanceTx(agent, replica, input.instance_id, at);
    return replicasRepo.save(
      {
        ...replica,
        instance_id: input.instance_id,
        status,
        is_active: isActiveReplica({ status }),
        launched_at: replica.launched_at ?? at,
      },
      replica.version,
      instanceTx,
    );
  });
  if (saved.status === 'ready') await onReplicaReady(agent.id, saved.id, now);
  return { success: true as const, replica_id: saved.id, instance_id: saved.instance_id, status: saved.status, version: saved.version };
}

// ---------------------------------------------------------------------------------------------
// DELETE /api/agents/{aid}/replicas/{rid}

export async function deleteReplica(caller: Caller, agentId: string, replicaId: string, now: Date) {
  const agent = await loadAgent(caller, agentId, { allowDeletedForSeconds: CLEANUP_GRACE_SECONDS, now });
  for (let attempt = 0; ; attempt++) {
    const replica = await loadReplica(agent, replicaId);
    if (replica.status === 'terminated') {
      return { success: true as const, message: 'the replica is already terminated', replica_id: replica.id, status: replica.status };
    }
    if (replica.status === 'promoted') throw invalidTransition(replica.status, 'terminated');
    const current = (await agentsRepo.get(agent.id)) ?? agent;
    const plan = await lostReplicaPlan(current, replica, now, {
      status: 'terminated',
      // A placeholder never launched: there is nothing for the agent to terminate.
      confirmed: isPlaceholderId(replica.instance_id),
      replace: current.status !== 'deleted',
    });
    try {
      await transact(plan.items);
    } catch (err) {
      if (!(err instanceof TransactionConflict) || attempt >= MAX_ATTEMPTS - 1) throw err;
      continue;
    }
    const replaced = plan.replacement !== undefined;
    return {
      success: true as const,
      message: `replica marked terminated${isPlaceholderId(replica.instance_id) ? '' : ': the agent terminates its instance'}${replaced ? '; a replacement was requested (manual mode)' : ''}`,
      replica_id: replica.id,
      status: 'terminated' as const,
      replacement_requested: replaced,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// POST /api/agents/{aid}/replicas/{rid}/promote

export async function promoteReplica(
  caller: Caller,
  agentId: string,
  replicaId: string,
  input: { demote_old_primary: boolean; wait_for_sync: boolean; version?: number },
  ifMatch: number | undefined,
  now: Date,
) {
  const at = now.toISOString();
  const agent = await loadAgent(caller, agentId);
  const replica = await loadReplica(agent, replicaId);
  const expected = input.version ?? ifMatch;
  if (expected !== undefined && expected !== replica.version) throw new VersionConflictError(replica.version);
  if (FINAL_REPLICA_STATUSES.has(replica.status)) throw invalidTransition(replica.status, 'promoted');
  const fromStatuses: ReplicaStatus[] = input.wait_for_sync ? ['ready'] : ['ready', 'syncing', 'launching'];
  if (isPlaceholderId(replica.instance_id) || !fromStatuses.includes(replica.status)) {
    throw new UnprocessableError(
      'REPLICA_NOT_READY',
      isPlaceholderId(replica.instance_id) ? 'the replica has not been launched yet' : `the replica is ${replica.status}, not ready`,
    );
  }
  const replicaInstanceItem = await instancesRepo.get(replica.instance_id);
  const oldId = agent.primary_instance_id;
  const oldInstance = oldId ? await instancesRepo.get(oldId) : undefined;
  const demoted = input.demote_old_primary && oldInstance !== undefined;
  const extra: TxPart[] = [];
  if (demoted && oldInstance) {
    // The old PRIMARY becomes a REPLICA, with its replica record (API.md §4.2 "a former PRIMARY demoted by a promotion").
    const base = await placeholderReplica(agent, 'manual', at);
    extra.push(
      replicasRepo.createTx({
        ...base,
        instance_id: oldInstance.id,
        status: 'ready',
        pool_id: oldInstance.pool_id,
        az: oldInstance.az,
        instance_type: oldInstance.instance_type,
        region: oldInstance.region,
        hourly_cost: oldInstance.spot_price,
        parent_instance_id: replica.instance_id,
        launched_at: oldInstance.created_at,
      }, 'demoted-replica'),
    );
  }
  const records = new Outbox().event({
    clientId: agent.client_id,
    type: 'instance_role_changed',
    data: {
      agent_id: agent.id,
      changes: promotionChanges(replica.instance_id, oldId, demoted ? 'REPLICA' : 'ZOMBIE'),
      reason: 'manual promotion',
    },
    now,
  });
  try {
    await promoteReplicaTx({
      agent,
      replica,
      fromStatuses,
      replicaInstance: replicaInstanceItem,
      old: demoted ? { role: 'REPLICA' } : { role: 'ZOMBIE' },
      at,
      agentSet: { notice_status: 'none', notice_deadline: null },
      extra: [...extra, ...records.parts()],
    });
  } catch (err) {
    if (!(err instanceof PromotionConflict)) throw err;
    if (err.reason === 'replica-changed') {
      const current = await replicasRepo.get(agent.id, replica.id);
      throw new VersionConflictError(current?.version, { cause: err });
    }
    throw new ConflictError('VERSION_CONFLICT', "the agent's PRIMARY changed concurrently (another promotion or switch won)", [], {
      cause: err,
    });
  }
  await records.committed();
  return {
    success: true as const,
    replica_id: replica.id,
    new_instance_id: replica.instance_id,
    old_instance_id: oldId,
    demoted,
    switch_id: null,
  };
}

// ---------------------------------------------------------------------------------------------
// POST /api/agents/{aid}/replicas/{rid}/status and /sync-status

export interface ReplicaStatusInput {
  status: 'launching' | 'syncing' | 'ready' | 'failed' | 'terminated';
  sync_started_at?: string | null;
  sync_completed_at?: string | null;
  error_message?: string | null;
  is_active?: boolean | null;
  terminated_at?: string | null;
}

/**
 * Applies a reported status (shared by /status and /sync-status). The same status again is a
 * no-op 200 (a repeated `terminated` confirms the termination); an illegal one is 409.
 */
async function applyStatus(
  agent: Agent,
  replicaId: string,
  status: ReplicaStatus,
  fields: Partial<Replica> & Record<string, unknown>,
  now: Date,
): Promise<Replica> {
  const at = now.toISOString();
  const saved = await retryOnVersionConflict(false, async () => {
    const replica = await loadReplica(agent, replicaId);
    // A `ready` report of a replica that was promoted since is that report retried (its promotion
    // followed it) or a stale one: the replica was ready; nothing changes.
    if (replica.status === 'promoted' && status === 'ready') return replica;
    const transition = replicaTransition(replica.status, status);
    if (transition === 'illegal') throw invalidTransition(replica.status, status);
    const next = { ...replica, ...fields };
    if (transition === 'same') {
      if (status === 'terminated' && !replica.termination_confirmed) {
        // The agent confirms a termination the server asked for (replicas?status=terminated).
        await transact([
          replicasRepo.saveTx({ ...next, termination_confirmed: true, terminated_at: replica.terminated_at ?? at }, replica.version),
          ...(await terminatedInstanceTx(replica, at)),
        ]);
        return { ...next, termination_confirmed: true, version: replica.version + 1 };
      }
      if (Object.keys(fields).length === 0) return replica;
      return replicasRepo.save(next, replica.version);
    }
    if (status === 'terminated' || status === 'failed') {
      const current = (await agentsRepo.get(agent.id)) ?? agent;
      const effects = await lostReplicaEffects(current, { ...replica, ...fields }, now, {
        status,
        confirmed: status === 'terminated',
        replace: current.status !== 'deleted',
        terminatedAt: (fields.terminated_at as string | undefined) ?? at,
      });
      try {
        await transact([...effects, ...(status === 'terminated' ? await terminatedInstanceTx(replica, at) : [])]);
      } catch (err) {
        if (err instanceof TransactionConflict) throw new VersionConflictError(replica.version, { cause: err });
        throw err;
      }
      return (await replicasRepo.get(agent.id, replica.id)) as Replica;
    }
    return replicasRepo.save({ ...next, status, is_active: true }, replica.version);
  });
  if (saved.status === 'ready') await onReplicaReady(agent.id, saved.id, now);
  return saved;
}

/** The replica's EC2 instance is gone: its instance item becomes TERMINATED (confirmed). */
async function terminatedInstanceTx(replica: Replica, at: string): Promise<TxPart[]> {
  if (isPlaceholderId(replica.instance_id)) return [];
  const instance = await instancesRepo.get(replica.instance_id);
  if (!instance || instance.agent_id !== replica.agent_id || instance.role !== 'REPLICA') return [];
  return [
    instancesRepo.changeRoleTx(instance, 'TERMINATED', at, {
      expect: { role: 'REPLICA' },
      set: { terminated_at: at, termination_confirmed: true },
    }),
  ];
}

export async function updateReplicaStatus(caller: Caller, agentId: string, replicaId: string, input: ReplicaStatusInput, now: Date) {
  const agent = await loadAgent(caller, agentId, { allowDeletedForSeconds: CLEANUP_GRACE_SECONDS, now });
  const fields: Record<string, unknown> = {};
  if (input.sync_started_at) fields.sync_started_at = parseTimestamp(input.sync_started_at).toISOString();
  if (input.sync_completed_at) fields.sync_completed_at = parseTimestamp(input.sync_completed_at).toISOString();
  if (input.error_message) fields.error_message = input.error_message;
  if (input.terminated_at) fields.terminated_at = parseTimestamp(input.terminated_at).toISOString();
  const saved = await applyStatus(agent, replicaId, input.status, fields as Partial<Replica>, now);
  return { success: true as const, replica_id: saved.id, status: saved.status };
}

export async function updateReplicaSyncStatus(
  caller: Caller,
  agentId: string,
  replicaId: string,
  input: { sync_status: string; sync_latency_ms?: number; state_transfer_progress?: number; status?: ReplicaStatus },
  now: Date,
) {
  const agent = await loadAgent(caller, agentId, { allowDeletedForSeconds: CLEANUP_GRACE_SECONDS, now });
  const fields: Record<string, unknown> = { sync_status: input.sync_status };
  if (input.sync_latency_ms !== undefined) fields.sync_latency_ms = input.sync_latency_ms;
  if (input.state_transfer_progress !== undefined) fields.state_transfer_progress = input.state_transfer_progress;
  const current = await loadReplica(agent, replicaId);
  // state_transfer_progress 100 ⇒ ready (API.md §3.6); an explicit status wins.
  const target: ReplicaStatus = input.status ?? (input.state_transfer_progress === 100 ? 'ready' : current.status);
  if (target === 'promoted') throw invalidTransition(current.status, target);
  const saved = await applyStatus(agent, replicaId, target, fields as Partial<Replica>, now);
  return { success: true as const, replica_id: saved.id, status: saved.status, sync_status: input.sync_status };
}

// ---------------------------------------------------------------------------------------------
// GET /api/agents/{aid}/replica-config, GET /api/client/{cid}/replicas

export async function getReplicaConfig(caller: Caller, agentId: string) {
  const agent = await loadAgent(caller, agentId);
  const replicas = await replicasRepo.listByAgent(agent.id);
  return { enabled: agent.config.manual_replica_enabled, count: replicas.filter(isActiveReplica).length };
}

export async function listClientReplicas(clientId: string, query: { agent_id?: string }, now: Date) {
  let agents: Agent[];
  if (query.agent_id) {
    const agent = await agentsRepo.get(query.agent_id);
    agents = agent && agent.client_id === clientId && agent.status !== 'deleted' ? [agent] : [];
  } else {
    agents = (await agentsRepo.listAllByClient(clientId)).filter((a) => a.status !== 'deleted');
  }
  const rows = await Promise.all(
    agents.map(async (agent) => {
      const replicas = (await replicasRepo.listByAgent(agent.id)).filter(isActiveReplica);
      const primary = agent.primary_instance_id ? { instance_id: agent.primary_instance_id, az: agent.az, mode: agent.current_mode } : null;
      return replicas.map((r) => ({ agent_id: agent.id, primary, replica: replicaView(r, now) }));
    }),
  );
  return { replicas: rows.flat() };
}
