import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { ttlAfterDays } from '../domain/ids.js';
import type { Agent, Instance, Replica } from '../domain/types.js';
import { movePrimaryTx, primaryFields } from './agents-repo.js';
import { tableName } from './client.js';
import { cancellationReasons, transact } from './conditions.js';
import { instanceItem, roleChange } from './instances-repo.js';
import { keys } from './keys.js';
import { saveReplicaTx } from './replicas-repo.js';
import { replicaInstanceRecord } from '../domain/instances.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What becomes of the old PRIMARY when a replica is promoted (API.md §4.2). */
export type OldPrimaryOutcome =
  | { role: 'ZOMBIE' }
  | { role: 'REPLICA' }
  /** `confirmed`: EC2 already reported it gone; otherwise EC2 is taking it away and will confirm. */
  | { role: 'TERMINATED'; confirmed: boolean };

export interface PromotionPlan {
  agent: Agent;
  /** The replica as read (its version is checked). */
  replica: Replica;
  /** The replica's current status must be one of these (e.g. ['ready'] or ['ready', 'syncing']). */
  fromStatuses: Replica['status'][];
  /** The replica's instance item as read, or undefined when it has none yet (then it is created as PRIMARY). */
  replicaInstance: Instance | undefined;
  old: OldPrimaryOutcome;
  at: string;
  /** Items that must commit with the promotion (incident resolution, command cancellations, a demoted replica record). */
  extra?: TxItem[];
  /** Extra agent attributes to set (e.g. notice_status back to none). */
  agentSet?: Record<string, unknown>;
}

export type PromotionFailure = 'replica-changed' | 'primary-changed' | 'instance-changed' | 'extra-failed';

export class PromotionConflict extends Error {
  constructor(
    readonly reason: PromotionFailure,
    options?: { cause?: unknown },
  ) {
    super(`promotion lost a race: ${reason}`, options);
    this.name = 'PromotionConflict';
  }
}

/** The instance the promoted replica becomes (created when the replica never got an instance item). */
export function promotedInstance(plan: Pick<PromotionPlan, 'agent' | 'replica' | 'replicaInstance' | 'at'>): Instance {
  const { agent, replica, replicaInstance, at } = plan;
  if (replicaInstance) return { ...replicaInstance, role: 'PRIMARY', zombie_since: null };
  return replicaInstanceRecord(agent, replica, replica.instance_id, 'PRIMARY', at);
}

/**
 * A replica becomes the PRIMARY in ONE TransactWriteItems:
 *  1. the replica → `promoted` (its version and status checked; it must have a real EC2 id);
 *  2. its instance REPLICA → PRIMARY (or created as PRIMARY), conditioned on still being this
 *     agent's REPLICA;
 *  3. the old PRIMARY → ZOMBIE / REPLICA / TERMINATED, conditioned on still being this agent's PRIMARY;
 *  4. the agent's `primary_instance_id` moved, conditioned on `primary_instance_id = :old`;
 *  5. the caller's extra items (incident resolution, cancellations).
 * Exactly one of any number of concurrent promotions of one agent commits: they all condition on
 * the same `primary_instance_id` and the first commit changes it.
 */
export async function promoteReplicaTx(plan: PromotionPlan): Promise<{ instance: Instance }> {
  const { agent, replica, at } = plan;
  const oldId = agent.primary_instance_id;
  const next = promotedInstance(plan);
  const promoted: Replica & { promoted_at: string } = {
    ...replica,
    status: 'promoted',
    is_active: false,
    promoted_at: at,
  };
  const replicaTx = saveReplicaTx(promoted, replica.version);
  // The status and placeholder checks ride on the replica's own condition.
  const statusValues: Record<string, unknown> = {};
  plan.fromStatuses.forEach((s, i) => {
    statusValues[`:from${i}`] = s;
  });
  if (replicaTx.Put) {
    replicaTx.Put.ConditionExpression = `#v = :expected AND #status IN (${Object.keys(statusValues).join(', ')}) AND instance_id = :iid`;
    replicaTx.Put.ExpressionAttributeNames = { ...replicaTx.Put.ExpressionAttributeNames, '#status': 'status' };
    replicaTx.Put.ExpressionAttributeValues = {
      ...replicaTx.Put.ExpressionAttributeValues,
      ...statusValues,
      ':iid': replica.instance_id,
    };
  }

  const newInstanceTx: TxItem = plan.replicaInstance
    ? {
        Update: {
          TableName: tableName(),
          Key: keys.instance(next.id),
          UpdateExpression:
            'SET #role = :primary, GSI1SK = :gsi, GSI3PK = :gsi3, notice_status = :none, last_seen_at = :at, ' +
            'zombie_since = :null, #v = #v + :one',
          ConditionExpression: '#role = :replica AND agent_id = :aid',
          ExpressionAttributeNames: { '#role': 'role', '#v': 'version' },
          ExpressionAttributeValues: {
            ':primary': 'PRIMARY',
            ':gsi': roleChange(agent.id, next.id, 'PRIMARY').GSI1SK,
            ':gsi3': roleChange(agent.id, next.id, 'PRIMARY').GSI3PK,
            ':none': 'none',
            ':at': at,
            ':null': null,
            ':one': 1,
            ':replica': 'REPLICA',
            ':aid': agent.id,
          },
        },
      }
    : {
        Put: {
          TableName: tableName(),
          Item: { ...instanceItem(next), replica_id: replica.id },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      };

  const fields: Record<string, unknown> = { ...primaryFields(next), pool_since: at, ...(plan.agentSet ?? {}) };
  const agentTx = movePrimaryTx(agent.id, oldId ?? null, fields);

  const items: TxItem[] = [replicaTx, newInstanceTx, agentTx];
  if (oldId) items.push(demoteOldPrimaryTx(agent.id, oldId, plan.old, at));
  items.push(...(plan.extra ?? []));
  try {
    await transact(items);
  } catch (err) {
    const reasons = cancellationReasons(err);
    if (!reasons) throw err;
    const failed = (i: number) => reasons[i] === 'ConditionalCheckFailed';
    const reason: PromotionFailure = failed(0)
      ? 'replica-changed'
      : failed(2) || failed(3)
        ? 'primary-changed'
        : failed(1)
          ? 'instance-changed'
          : 'extra-failed';
    throw new PromotionConflict(reason, { cause: err });
  }
  return { instance: next };
}

/** The old PRIMARY's new role, conditioned on it still being this agent's PRIMARY. */
function demoteOldPrimaryTx(agentId: string, instanceId: string, old: OldPrimaryOutcome, at: string): TxItem {
  const change = roleChange(agentId, instanceId, old.role);
  const names: Record<string, string> = { '#role': 'role', '#v': 'version' };
  const values: Record<string, unknown> = {
    ':role': change.role,
    ':gsi': change.GSI1SK,
    ':gsi3': change.GSI3PK,
    ':one': 1,
    ':primary': 'PRIMARY',
    ':aid': agentId,
  };
  const sets = ['#role = :role', 'GSI1SK = :gsi', 'GSI3PK = :gsi3', '#v = #v + :one'];
  if (old.role === 'ZOMBIE') {
    sets.push('zombie_since = :at');
    values[':at'] = at;
  } else if (old.role === 'TERMINATED') {
    sets.push('terminated_at = :at', 'termination_confirmed = :confirmed', '#ttl = :ttl');
    names['#ttl'] = 'ttl';
    values[':at'] = at;
    values[':confirmed'] = old.confirmed;
    values[':ttl'] = ttlAfterDays(new Date(at), 90);
  }
  return {
    Update: {
      TableName: tableName(),
      Key: keys.instance(instanceId),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: '#role = :primary AND agent_id = :aid',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}
