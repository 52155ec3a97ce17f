import { ConflictError, VersionConflictError } from '../domain/errors.js';
import { ACTIVE_REPLICA_STATUSES, isActiveReplica, isPlaceholderId } from '../domain/replicas.js';
import type { Agent, Replica, ReplicaStatus } from '../domain/types.js';
import { type AgentLive, withLive } from './agents-repo.js';
import { getItem, queryAll, stripKeys, txPut, txUpdate, updateIf, type UpdateSpec, where } from './conditions.js';
import { keys } from './keys.js';
import { shardedAll } from './sharded.js';
import { TransactionConflict, transact, type TxPart, type TxPatch, txPart } from './transaction.js';

/**
 * What the agent's replica polls need to know without reading its replicas (README "Access
 * patterns"): every replica write bumps `replica_rev` on the agent's live item in the same
 * transaction; a poll that had to read the replicas leaves this summary for that revision.
 */
export interface ReplicaSummary {
  active: number;
  /** Placeholders waiting to be launched (`?status=launching`). */
  launching: number;
  /** Terminated and not confirmed, whatever their age (`?status=terminated` filters the last 24 h). */
  unconfirmed: number;
}

const revisionPatch = (agentId: string): TxPatch => ({ part: 'agent-live', key: keys.agentLive(agentId), add: { replica_rev: 1 } });

const toReplica = (item: Record<string, unknown>) => stripKeys(item) as unknown as Replica;

/**
 * The replica's sparse GSI2 entry, derived from its state: placeholders waiting to be launched
 * (`REPLICAS#LAUNCHING`) and unconfirmed terminations (`REPLICAS#UNCONFIRMED`) — the two queues the
 * replica-reconciler works through. Any other state is out of the index.
 */
function replicaIndex(replica: Replica) {
  if (replica.status === 'launching' && isPlaceholderId(replica.instance_id)) {
    return keys.launchingReplicasIndex(replica.created_at, replica.agent_id, replica.id);
  }
  if (replica.status === 'terminated' && !replica.termination_confirmed) {
    return keys.unconfirmedReplicasIndex(replica.terminated_at ?? replica.created_at, replica.agent_id, replica.id);
  }
  return {};
}

export const replicaItem = (replica: Replica) => ({
  ...keys.replica(replica.agent_id, replica.id),
  ...replicaIndex(replica),
  entity: 'replica',
  ...replica,
});

/** Transaction part creating a replica (never overwrites). */
const createTx = (replica: Replica, part = 'replica'): TxPart => txPart(part, txPut(replicaItem(replica)), [revisionPatch(replica.agent_id)]);

/**
 * Transaction part replacing a replica with its next state (`version` + 1), conditioned on the
 * version the caller read (and, for a promotion, on its status and instance) — every replica state
 * change goes through here or terminateTx, so the sparse index always matches the state.
 */
const saveTx = (
  next: Replica,
  expectedVersion: number,
  options: { fromStatuses?: ReplicaStatus[]; instanceId?: string } = {},
  part = 'replica',
): TxPart =>
  txPart(
    part,
    txPut(replicaItem({ ...next, version: expectedVersion + 1 }), {
      condition: where.and(
        where.eq('version', expectedVersion),
        options.fromStatuses && where.in('status', options.fromStatuses),
        options.instanceId !== undefined && where.eq('instance_id', options.instanceId),
      ),
    }),
    [revisionPatch(next.agent_id)],
  );

/** Transaction part marking an active replica terminated (unconfirmed: the agent terminates it). */
const terminateTx = (replica: Replica, at: string, part = 'terminate-replica'): TxPart =>
  txPart(
    part,
    txUpdate(keys.replica(replica.agent_id, replica.id), {
      set: {
        status: 'terminated',
        is_active: false,
        terminated_at: at,
        termination_confirmed: false,
        ...keys.unconfirmedReplicasIndex(at, replica.agent_id, replica.id),
      },
      condition: where.in('status', [...ACTIVE_REPLICA_STATUSES]),
      mustExist: false,
    }),
    [revisionPatch(replica.agent_id)],
  );

/** Transaction part linking a replica to the incident that waits for it (its `ready` then triggers the promotion). */
const linkIncidentTx = (replica: Pick<Replica, 'agent_id' | 'id'>, incidentId: string, part = 'link-replica'): TxPart =>
  txPart(part, txUpdate(keys.replica(replica.agent_id, replica.id), { set: { emergency_event_id: incidentId }, bumpVersion: false }));

export const replicasRepo = {
  async get(agentId: string, replicaId: string): Promise<Replica | undefined> {
    const item = await getItem(keys.replica(agentId, replicaId));
    return item ? toReplica(item) : undefined;
  },

  /** All replicas of an agent (its item collection, `REPLICA#` prefix), oldest first. */
  async listByAgent(agentId: string, consistent = false): Promise<Replica[]> {
    const items = await queryAll<Record<string, unknown>>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.agent(agentId).PK, ':prefix': keys.replicaPrefix },
      ...(consistent ? { ConsistentRead: true } : {}),
    });
    return items.map(toReplica).sort((a, b) => a.created_at.localeCompare(b.created_at));
  },

  /**
   * The replica summary of an agent, given its live item as read: the stored one when no replica
   * was written since (no read), else counted from a strongly consistent read of its replicas and
   * stored for this revision (conditioned on it: a replica write meanwhile wins) unless `store` is
   * false (a read that is not one of the agent's polls leaves nothing behind).
   */
  async summary(agentId: string, live: AgentLive | undefined, options: { store?: boolean } = {}): Promise<ReplicaSummary> {
    const rev = live?.replica_rev ?? 0;
    const seen = live?.replicas_seen;
    if (seen && seen.rev === rev) return { active: seen.active, launching: seen.launching, unconfirmed: seen.unconfirmed };
    const replicas = await this.listByAgent(agentId, true);
    const summary: ReplicaSummary = {
      active: replicas.filter(isActiveReplica).length,
      launching: replicas.filter((r) => r.status === 'launching').length,
      unconfirmed: replicas.filter((r) => r.status === 'terminated' && !r.termination_confirmed).length,
    };
    if (options.store === false) return summary;
    await updateIf(keys.agentLive(agentId), {
      set: { replicas_seen: { rev, ...summary } },
      bumpVersion: false,
      mustExist: false,
      condition: rev === 0 ? where.or(where.absent('replica_rev'), where.eq('replica_rev', 0)) : where.eq('replica_rev', rev),
    });
    return summary;
  },

  /** A field update of a replica (with its revision bump); undefined when the replica is gone. */
  async update(agentId: string, replicaId: string, spec: UpdateSpec): Promise<Replica | undefined> {
    try {
      await transact([txPart('replica', txUpdate(keys.replica(agentId, replicaId), spec), [revisionPatch(agentId)])]);
    } catch (err) {
      if (!(err instanceof TransactionConflict) || !err.failedOn('replica')) throw err;
      const current = await this.get(agentId, replicaId);
      if (!current) return undefined;
      if (spec.expectedVersion !== undefined && current.version !== spec.expectedVersion) {
        throw new VersionConflictError(current.version, { cause: err });
      }
      throw new ConflictError('INVALID_TRANSITION', 'the resource is not in a state that allows this change', [], { cause: err });
    }
    return this.get(agentId, replicaId);
  },

  createTx,
  saveTx,
  terminateTx,
  linkIncidentTx,

  /**
   * Saves a replica's next state (version-checked) together with `extra` transaction parts.
   * A stale version → VersionConflictError (the caller re-reads and retries, or answers 409).
   */
  async save(next: Replica, expectedVersion: number, extra: TxPart[] = []): Promise<Replica> {
    try {
      await transact([saveTx(next, expectedVersion), ...extra]);
    } catch (err) {
      if (err instanceof TransactionConflict && err.failedOn('replica')) {
        const current = await this.get(next.agent_id, next.id);
        throw new VersionConflictError(current?.version, { cause: err });
      }
      throw err;
    }
    return { ...next, version: expectedVersion + 1 };
  },

  /** Placeholders created before `before` and still not launched (GSI2, sparse). */
  async listStuckLaunching(before: string, limit = 500): Promise<Replica[]> {
    const items = await queryAll<Record<string, unknown>>(
      {
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK < :before',
        ExpressionAttributeValues: { ':pk': 'REPLICAS#LAUNCHING', ':before': before },
      },
      limit,
    );
    return items.map(toReplica);
  },

  /**
   * Live agents in manual-replica mode, for the reconciler: the admin all-agents index (GSI2
   * `AGENTS`), filtered on the config flag. A job-only read (once a minute), paginated by queryAll.
   */
  async listManualModeAgents(): Promise<Agent[]> {
    const items = await shardedAll<Record<string, unknown>>(
      { indexName: 'GSI2', pkAttr: 'GSI2PK', skAttr: 'GSI2SK', partitions: keys.allAgentsShards() },
      { filter: where.and(where.eq('config.manual_replica_enabled', true), where.ne('status', 'deleted')) },
    );
    return withLive(items);
  },

  /** Terminations marked before `before` and still unconfirmed (GSI2, sparse). */
  async listUnconfirmed(before: string, limit = 500): Promise<Replica[]> {
    const items = await queryAll<Record<string, unknown>>(
      {
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK < :before',
        ExpressionAttributeValues: { ':pk': 'REPLICAS#UNCONFIRMED', ':before': before },
      },
      limit,
    );
    return items.map(toReplica);
  },
};
