import { VersionConflictError } from '../domain/errors.js';
import { ACTIVE_REPLICA_STATUSES, isPlaceholderId } from '../domain/replicas.js';
import type { Agent, Replica, ReplicaStatus } from '../domain/types.js';
import { getItem, queryAll, stripKeys, txPut, txUpdate, updateItem, type UpdateSpec, where } from './conditions.js';
import { keys } from './keys.js';
import { TransactionConflict, transact, type TxPart, txPart } from './transaction.js';

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
const createTx = (replica: Replica, part = 'replica'): TxPart => txPart(part, txPut(replicaItem(replica)));

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
  async listByAgent(agentId: string): Promise<Replica[]> {
    const items = await queryAll<Record<string, unknown>>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.agent(agentId).PK, ':prefix': keys.replicaPrefix },
    });
    return items.map(toReplica).sort((a, b) => a.created_at.localeCompare(b.created_at));
  },

  async update(agentId: string, replicaId: string, spec: UpdateSpec): Promise<Replica | undefined> {
    const item = await updateItem<Record<string, unknown>>(keys.replica(agentId, replicaId), spec);
    return item ? toReplica(item) : undefined;
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
  async listManualModeAgents(limit = 10_000): Promise<Agent[]> {
    const items = await queryAll<Record<string, unknown>>(
      {
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk',
        FilterExpression: '#config.manual_replica_enabled = :true AND #status <> :deleted',
        ExpressionAttributeNames: { '#config': 'config', '#status': 'status' },
        ExpressionAttributeValues: { ':pk': keys.allAgentsIndex('', '').GSI2PK, ':true': true, ':deleted': 'deleted' },
      },
      limit,
    );
    return items.map((i) => stripKeys(i) as unknown as Agent);
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
