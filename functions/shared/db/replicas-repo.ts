import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Replica } from '../domain/types.js';
import { tableName } from './client.js';
import { getItem, queryAll, stripKeys, updateItem, type UpdateSpec } from './conditions.js';
import { keys } from './keys.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const toReplica = (item: Record<string, unknown>) => stripKeys(item) as unknown as Replica;

/** Replica statuses that count as an active replica. */
export const ACTIVE_REPLICA_STATUSES = new Set(['launching', 'syncing', 'ready']);

export const replicaItem = (replica: Replica) => ({
  ...keys.replica(replica.agent_id, replica.id),
  entity: 'replica',
  ...replica,
});

/** Transaction item creating a replica (never overwrites). */
export const putReplicaTx = (replica: Replica): TxItem => ({
  Put: { TableName: tableName(), Item: replicaItem(replica), ConditionExpression: 'attribute_not_exists(PK)' },
});

/** Transaction item marking an active replica terminated (unconfirmed: the agent terminates it). */
export const terminateReplicaTx = (replica: Replica, at: string): TxItem => ({
  Update: {
    TableName: tableName(),
    Key: keys.replica(replica.agent_id, replica.id),
    UpdateExpression:
      'SET #status = :terminated, is_active = :false, terminated_at = :at, termination_confirmed = :false, #v = #v + :one',
    ConditionExpression: '#status IN (:launching, :syncing, :ready)',
    ExpressionAttributeNames: { '#status': 'status', '#v': 'version' },
    ExpressionAttributeValues: {
      ':terminated': 'terminated',
      ':false': false,
      ':at': at,
      ':one': 1,
      ':launching': 'launching',
      ':syncing': 'syncing',
      ':ready': 'ready',
    },
  },
});

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
};
