import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Instance, InstanceRole } from '../domain/types.js';
import { ddb, tableName } from './client.js';
import { getItem, queryAll, queryPage, stripKeys, updateItem, type UpdateSpec } from './conditions.js';
import { keys } from './keys.js';

/** The stored form of an instance: the entity plus its index attributes. */
export function instanceItem(instance: Instance) {
  return {
    ...keys.instance(instance.id),
    ...keys.instancesOfAgentIndex(instance.agent_id, instance.role, instance.id),
    ...keys.instancesOfClientIndex(instance.client_id, instance.created_at, instance.id),
    ...keys.allInstancesIndex(instance.role, instance.created_at, instance.id),
    entity: 'instance',
    ...instance,
  };
}

/**
 * Attributes to SET when an instance changes role: the role is part of its GSI1 sort key and of its
 * GSI3 partition (`INSTANCES#<role>`, keys.allInstancesIndex), so set all of them together.
 */
export const roleChange = (agentId: string, instanceId: string, role: InstanceRole) => ({
  role,
  ...keys.instancesOfAgentIndex(agentId, role, instanceId),
  GSI3PK: keys.allInstancesIndex(role, '', '').GSI3PK,
});

const toInstance = (item: Record<string, unknown>) => stripKeys(item) as unknown as Instance;

export const instancesRepo = {
  async get(instanceId: string): Promise<Instance | undefined> {
    const item = await getItem(keys.instance(instanceId));
    return item ? toInstance(item) : undefined;
  },

  /** An agent's instances with a role (GSI1 `AGENT#<aid>#INSTANCES`, sort key prefix = role). */
  async listByAgent(agentId: string, role?: InstanceRole): Promise<Instance[]> {
    const items = await queryAll<Record<string, unknown>>({
      IndexName: 'GSI1',
      KeyConditionExpression: role ? 'GSI1PK = :pk AND begins_with(GSI1SK, :role)' : 'GSI1PK = :pk',
      ExpressionAttributeValues: {
        ':pk': keys.instancesOfAgentIndex(agentId, '', '').GSI1PK,
        ...(role ? { ':role': `${role}#` } : {}),
      },
    });
    return items.map(toInstance);
  },

  /** A client's instances, paginated (GSI2). Filters are applied per page by the caller's FilterExpression. */
  async listByClient(
    clientId: string,
    limit: number,
    nextToken?: string,
    filter?: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> },
  ) {
    const page = await queryPage<Record<string, unknown>>(
      {
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk',
        ExpressionAttributeValues: {
          ':pk': keys.instancesOfClientIndex(clientId, '', '').GSI2PK,
          ...(filter?.values ?? {}),
        },
        ...(filter ? { FilterExpression: filter.expression } : {}),
        ...(filter?.names ? { ExpressionAttributeNames: filter.names } : {}),
        ScanIndexForward: false,
      },
      limit,
      nextToken,
    );
    return { items: page.items.map(toInstance), nextToken: page.nextToken };
  },

  async update(instanceId: string, spec: UpdateSpec): Promise<Instance | undefined> {
    const item = await updateItem<Record<string, unknown>>(keys.instance(instanceId), spec);
    return item ? toInstance(item) : undefined;
  },

  /** Telemetry only (heartbeat of a REPLICA/ZOMBIE): no version bump, so user edits do not conflict. */
  async touch(instanceId: string, at: string): Promise<void> {
    await ddb
      .send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.instance(instanceId),
          UpdateExpression: 'SET last_seen_at = :at',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':at': at },
        }),
      )
      .catch((err: unknown) => {
        if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
      });
  },
};
