import { type TransactWriteCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, UnprocessableError } from '../domain/errors.js';
import type { Agent, AgentStatus, Instance } from '../domain/types.js';
import { ddb, tableName } from './client.js';
import {
  cancellationReasons,
  getItem,
  isConditionFailure,
  oldItemOf,
  queryAll,
  queryPage,
  stripKeys,
  transact,
  updateItem,
  type UpdateSpec,
} from './conditions.js';
import { instanceItem, roleChange } from './instances-repo.js';
import { keys } from './keys.js';
import { putSearchEntries, searchEntryPuts } from './search-repo.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Statuses whose heartbeat the timeout job watches (the sparse GSI3 holds exactly these agents). */
const HEARTBEAT_TRACKED = new Set<AgentStatus>(['online', 'switching']);

const toAgent = (item: Record<string, unknown>) => stripKeys(item) as unknown as Agent;

/** Stored agent = entity + index attributes; online agents are in the sparse heartbeat index. */
export function agentItem(agent: Agent) {
  return {
    ...keys.agent(agent.id),
    ...keys.agentsOfClientIndex(agent.client_id, agent.created_at, agent.id),
    ...keys.allAgentsIndex(agent.created_at, agent.id),
    ...(HEARTBEAT_TRACKED.has(agent.status) && agent.last_heartbeat_at ? keys.heartbeatIndex(agent.last_heartbeat_at) : {}),
    entity: 'agent',
    ...agent,
  };
}

/** PRIMARY placement fields an agent mirrors from its current PRIMARY instance. */
export const primaryFields = (instance: Instance) => ({
  primary_instance_id: instance.id,
  instance_id: instance.id,
  instance_type: instance.instance_type,
  region: instance.region,
  az: instance.az,
  current_mode: instance.mode,
  current_pool_id: instance.pool_id,
  private_ip: instance.private_ip,
  public_ip: instance.public_ip,
});

/** Demotes the agent's PRIMARY inside a transaction, conditioned on it still being that agent's PRIMARY. */
export function demotePrimaryTx(agentId: string, instanceId: string, at: string): TxItem {
  const change = roleChange(agentId, instanceId, 'ZOMBIE');
  return {
    Update: {
      TableName: tableName(),
      Key: keys.instance(instanceId),
      UpdateExpression: 'SET #role = :role, GSI1SK = :gsi, GSI3PK = :gsi3, zombie_since = :at, #v = #v + :one',
      ConditionExpression: '#role = :primary AND agent_id = :aid',
      ExpressionAttributeNames: { '#role': 'role', '#v': 'version' },
      ExpressionAttributeValues: {
        ':role': change.role,
        ':gsi': change.GSI1SK,
        ':gsi3': change.GSI3PK,
        ':at': at,
        ':one': 1,
        ':primary': 'PRIMARY',
        ':aid': agentId,
      },
    },
  };
}

/**
 * Moves an agent's PRIMARY pointer (and the placement fields it mirrors) inside a transaction,
 * conditioned on the pointer still naming `expectedPrimary` (or being empty) and the agent being
 * live: the condition that makes "exactly one PRIMARY per agent" hold under races (API.md §4.4).
 */
export function movePrimaryTx(agentId: string, expectedPrimary: string | null, fields: Record<string, unknown>): TxItem {
  const names: Record<string, string> = { '#v': 'version', '#p': 'primary_instance_id', '#status': 'status' };
  const values: Record<string, unknown> = { ':one': 1, ':deleted': 'deleted' };
  const sets = ['#v = #v + :one'];
  Object.entries(fields).forEach(([k, v], i) => {
    names[`#f${i}`] = k;
    values[`:f${i}`] = v;
    sets.push(`#f${i} = :f${i}`);
  });
  let condition = '#status <> :deleted AND ';
  if (expectedPrimary) {
    condition += '#p = :expected';
    values[':expected'] = expectedPrimary;
  } else {
    condition += '(attribute_not_exists(#p) OR #p = :null)';
    values[':null'] = null;
  }
  return {
    Update: {
      TableName: tableName(),
      Key: keys.agent(agentId),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

export const agentsRepo = {
  async get(agentId: string): Promise<Agent | undefined> {
    const item = await getItem(keys.agent(agentId));
    return item ? toAgent(item) : undefined;
  },

  /** The live agent of (client, logical_agent_id), through its guard item. */
  async findLiveByLogicalId(clientId: string, logicalAgentId: string): Promise<Agent | undefined> {
    const guard = await getItem<{ agent_id: string }>(keys.logicalAgent(clientId, logicalAgentId));
    if (!guard) return undefined;
    const agent = await this.get(guard.agent_id);
    return agent && agent.status !== 'deleted' ? agent : undefined;
  },

  /**
   * A new agent with its first PRIMARY, in one transaction: the logical-id guard makes a concurrent
   * duplicate registration fail (the caller retries and finds the winner); the client's live-agent
   * counter enforces max_agents without counting.
   */
  async createWithPrimary(agent: Agent, primary: Instance, maxAgents: number): Promise<'created' | 'lost-race'> {
    try {
      await transact([
        { Put: { TableName: tableName(), Item: agentItem(agent), ConditionExpression: 'attribute_not_exists(PK)' } },
        {
          Put: {
            TableName: tableName(),
            Item: { ...keys.logicalAgent(agent.client_id, agent.logical_agent_id), entity: 'logical-agent', agent_id: agent.id },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        { Put: { TableName: tableName(), Item: instanceItem(primary), ConditionExpression: 'attribute_not_exists(PK)' } },
        {
          Update: {
            TableName: tableName(),
            Key: keys.client(agent.client_id),
            UpdateExpression: 'SET agents_live = if_not_exists(agents_live, :zero) + :one',
            ConditionExpression: '#status = :active AND (attribute_not_exists(agents_live) OR agents_live < :max)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':active': 'active', ':max': maxAgents },
          },
        },
        // Admin search entries (after the conditioned items: their indexes above stay put).
        ...searchEntryPuts('agent', [[agent.hostname, agent.id]]),
        ...searchEntryPuts('instance', [[primary.hostname, primary.id]]),
      ]);
      return 'created';
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) throw err;
      if (reasons[3] === 'ConditionalCheckFailed') {
        throw new UnprocessableError('AGENT_LIMIT_REACHED', `the client already has ${maxAgents} agents`);
      }
      if (reasons[1] === 'ConditionalCheckFailed' || reasons[2] === 'ConditionalCheckFailed') return 'lost-race';
      throw err;
    }
  },

  /**
   * An existing agent gets a new PRIMARY: the new instance is created, the old PRIMARY becomes a
   * ZOMBIE, and the agent's pointer moves — conditioned on the pointer still being `expectedPrimary`
   * (exactly one PRIMARY per agent, API.md §4.4).
   */
  async replacePrimary(agent: Agent, next: Instance, at: string, set: Record<string, unknown> = {}): Promise<Agent> {
    const expected = agent.primary_instance_id;
    const fields = { ...primaryFields(next), ...set, pool_since: at };
    const items: TxItem[] = [
      movePrimaryTx(agent.id, expected, fields),
      { Put: { TableName: tableName(), Item: instanceItem(next), ConditionExpression: 'attribute_not_exists(PK)' } },
    ];
    if (expected) items.push(demotePrimaryTx(agent.id, expected, at));
    // Admin search entries (hostname prefixes; ids are exact GetItems) — unconditional, idempotent.
    const hostname = typeof set.hostname === 'string' ? set.hostname : agent.hostname;
    items.push(
      ...searchEntryPuts('instance', [[next.hostname, next.id]]),
      ...(hostname !== agent.hostname ? searchEntryPuts('agent', [[hostname, agent.id]]) : []),
    );
    try {
      await transact(items);
    } catch (err) {
      if (cancellationReasons(err)) {
        throw new ConflictError('VERSION_CONFLICT', 'the agent changed PRIMARY concurrently; retry', [], { cause: err });
      }
      throw err;
    }
    return (await this.get(agent.id)) as Agent;
  },

  /** Version-checked (or unconditional, when no version is given) change of agent fields. */
  async update(agentId: string, spec: UpdateSpec): Promise<Agent | undefined> {
    const item = await updateItem<Record<string, unknown>>(keys.agent(agentId), spec);
    // A changed hostname becomes searchable (admin search; the entry is idempotent).
    if (item && typeof spec.set?.hostname === 'string') await putSearchEntries('agent', [[spec.set.hostname, agentId]]);
    return item ? toAgent(item) : undefined;
  },

  /**
   * A heartbeat: telemetry, not an edit, so it does not bump `version` (a client's config update
   * would otherwise conflict every 30 s). Online and switching agents are kept in the heartbeat
   * index; others leave it. One conditional UpdateItem: `guard` lets the caller fold its checks
   * (owner, PRIMARY, keep-switching) into the condition, and the old item comes back either way
   * (ALL_OLD on success and on a failed condition), so the common case costs one round trip.
   */
  async recordHeartbeat(
    agentId: string,
    status: AgentStatus,
    at: string,
    placement: Record<string, unknown>,
    guard: { clientId?: string; primaryInstanceId?: string; keepSwitching?: boolean } = {},
  ): Promise<{ updated: boolean; old: Agent | undefined }> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':status': status, ':at': at, ':deleted': 'deleted' };
    const sets = ['#status = :status', 'last_heartbeat_at = :at'];
    Object.entries(placement).forEach(([k, v], i) => {
      if (v === undefined) return;
      names[`#p${i}`] = k;
      values[`:p${i}`] = v;
      sets.push(`#p${i} = :p${i}`);
    });
    let remove = '';
    if (HEARTBEAT_TRACKED.has(status)) {
      values[':gpk'] = keys.heartbeatIndex(at).GSI3PK;
      sets.push('GSI3PK = :gpk', 'GSI3SK = :at');
    } else {
      remove = ' REMOVE GSI3PK, GSI3SK';
    }
    const conditions = ['attribute_exists(PK)', '#status <> :deleted'];
    if (guard.clientId) {
      conditions.push('client_id = :cid');
      values[':cid'] = guard.clientId;
    }
    if (guard.primaryInstanceId) {
      conditions.push('(attribute_not_exists(primary_instance_id) OR primary_instance_id = :null OR primary_instance_id = :iid)');
      values[':iid'] = guard.primaryInstanceId;
      values[':null'] = null;
    }
    if (guard.keepSwitching) {
      // `switching` is kept while a command is in flight: such an agent takes the caller's slow path.
      conditions.push('NOT (#status = :switching AND attribute_exists(inflight_command_id) AND inflight_command_id <> :null)');
      values[':switching'] = 'switching';
      values[':null'] = null;
    }
    try {
      const out = await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.agent(agentId),
          UpdateExpression: `SET ${sets.join(', ')}${remove}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { updated: true, old: out.Attributes ? toAgent(out.Attributes) : undefined };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const old = oldItemOf(err);
      return { updated: false, old: old ? toAgent(old) : undefined };
    }
  },

  /** Offline by timeout, only if no heartbeat arrived since the job read the agent. */
  async markOfflineIfStale(agentId: string, lastHeartbeatAt: string, cutoff: string): Promise<boolean> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.agent(agentId),
          UpdateExpression: 'SET #status = :offline REMOVE GSI3PK, GSI3SK',
          ConditionExpression:
            '#status IN (:online, :switching) AND last_heartbeat_at = :seen AND last_heartbeat_at < :cutoff',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':offline': 'offline',
            ':online': 'online',
            ':switching': 'switching',
            ':seen': lastHeartbeatAt,
            ':cutoff': cutoff,
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  /** Online agents whose last heartbeat is older than `before` (GSI3, sparse). */
  async listStale(before: string, limit = 500): Promise<Agent[]> {
    const items = await queryAll<Record<string, unknown>>(
      {
        IndexName: 'GSI3',
        KeyConditionExpression: 'GSI3PK = :pk AND GSI3SK < :before',
        ExpressionAttributeValues: { ':pk': keys.heartbeatIndex('').GSI3PK, ':before': before },
      },
      limit,
    );
    return items.map(toAgent);
  },

  /** A client's agents (GSI1), oldest first; deleted ones included (filter in the caller). */
  async listByClient(clientId: string, limit: number, nextToken?: string, newestFirst = false) {
    const page = await queryPage<Record<string, unknown>>(
      {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.agentsOfClientIndex(clientId, '', '').GSI1PK },
        ScanIndexForward: !newestFirst,
      },
      limit,
      nextToken,
    );
    return { items: page.items.map(toAgent), nextToken: page.nextToken };
  },

  /** Every agent of a client (bounded by max_agents plus deleted history). */
  async listAllByClient(clientId: string): Promise<Agent[]> {
    const items = await queryAll<Record<string, unknown>>({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.agentsOfClientIndex(clientId, '', '').GSI1PK },
    });
    return items.map(toAgent);
  },

  /** Soft delete: status deleted, guard released, live counter decremented — one transaction. */
  async markDeleted(agent: Agent, at: string, extra: TxItem[] = [], ttl?: number): Promise<void> {
    await transact([
      {
        Update: {
          TableName: tableName(),
          Key: keys.agent(agent.id),
          UpdateExpression: `SET #status = :deleted, deleted_at = :at, enabled = :false, config.enabled = :false, #v = #v + :one${ttl ? ', #ttl = :ttl' : ''} REMOVE GSI3PK, GSI3SK, inflight_command_id`,
          ConditionExpression: '#status <> :deleted',
          ExpressionAttributeNames: { '#status': 'status', '#v': 'version', ...(ttl ? { '#ttl': 'ttl' } : {}) },
          ExpressionAttributeValues: { ':deleted': 'deleted', ':at': at, ':false': false, ':one': 1, ...(ttl ? { ':ttl': ttl } : {}) },
        },
      },
      {
        Delete: {
          TableName: tableName(),
          Key: keys.logicalAgent(agent.client_id, agent.logical_agent_id),
          ConditionExpression: 'agent_id = :aid',
          ExpressionAttributeValues: { ':aid': agent.id },
        },
      },
      {
        Update: {
          TableName: tableName(),
          Key: keys.client(agent.client_id),
          UpdateExpression: 'SET agents_live = agents_live - :one',
          ConditionExpression: 'agents_live > :zero',
          ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
        },
      },
      ...extra,
    ]);
  },
};
