import { GetCommand, QueryCommand, type QueryCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Agent, Client, Instance, InstanceRole } from '../domain/types.js';
import { ddb, tableName } from './client.js';
import { type Item, queryAll, queryPage, stripKeys } from './conditions.js';
import { keys } from './keys.js';

type QueryInput = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Select'>;

/** A FilterExpression with its own placeholders (names `#f*`, values `:f*`). */
export interface Filter {
  expression: string;
  names?: Record<string, string>;
  values?: Item;
}

/** Joins filters with AND (undefined when there is none). */
export function andFilters(filters: Array<Filter | undefined>): Filter | undefined {
  const parts = filters.filter((f): f is Filter => f !== undefined);
  if (parts.length === 0) return undefined;
  // DynamoDB rejects redundant parentheses such as ((a)): wrap only when joining several.
  if (parts.length === 1) return parts[0];
  return {
    expression: parts.map((f) => `(${f.expression})`).join(' AND '),
    names: Object.assign({}, ...parts.map((f) => f.names ?? {})),
    values: Object.assign({}, ...parts.map((f) => f.values ?? {})),
  };
}

function withFilter(input: QueryInput, filter?: Filter): QueryInput {
  if (!filter) return input;
  const names = { ...(input.ExpressionAttributeNames ?? {}), ...(filter.names ?? {}) };
  return {
    ...input,
    FilterExpression: filter.expression,
    ExpressionAttributeValues: { ...(input.ExpressionAttributeValues ?? {}), ...(filter.values ?? {}) },
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
  };
}

/**
 * One page of a filtered Query, filled: DynamoDB applies `Limit` before the filter, so a single
 * call can return few or no matches with more to come. This keeps querying (each call asking for
 * what is still missing, so the page never exceeds `limit`) until the page is full, the index is
 * exhausted, or `maxCalls` calls were made; the returned token continues exactly where it stopped.
 */
export async function filledPage<T = Item>(input: QueryInput, limit: number, nextToken?: string, maxCalls = 10) {
  const items: T[] = [];
  let token = nextToken;
  for (let call = 0; call < maxCalls; call++) {
    const page = await queryPage<T>(input, limit - items.length, token);
    items.push(...page.items);
    token = page.nextToken ?? undefined;
    if (!token || items.length >= limit) break;
  }
  return { items, nextToken: token ?? null };
}

/** Number of items a Query matches (Select COUNT, every page): a count without reading items out. */
export async function countQuery(input: QueryInput, filter?: Filter): Promise<number> {
  let count = 0;
  let start: Item | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({ TableName: tableName(), ...withFilter(input, filter), Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return count;
}

const index = (name: string, pkAttr: string, pk: string): QueryInput => ({
  IndexName: name,
  KeyConditionExpression: `${pkAttr} = :pk`,
  ExpressionAttributeValues: { ':pk': pk },
});

const CLIENTS_PK = keys.clientsIndex('', '').GSI1PK;
const AGENTS_PK = keys.allAgentsIndex('', '').GSI2PK;
const ONLINE_PK = keys.heartbeatIndex('').GSI3PK;
const POOLS_PK = keys.allPoolsIndex('', '').GSI2PK;
const ACTIVITY_PK = keys.activityIndex('', '').GSI3PK;
const rolePk = (role: InstanceRole) => keys.allInstancesIndex(role, '', '').GSI3PK;

export const statusFilter = (statuses: string[]): Filter => ({
  expression: `#f_status IN (${statuses.map((_, i) => `:f_status${i}`).join(', ')})`,
  names: { '#f_status': 'status' },
  values: Object.fromEntries(statuses.map((s, i) => [`:f_status${i}`, s])),
});

export const notDeleted: Filter = {
  expression: '#f_st <> :f_deleted',
  names: { '#f_st': 'status' },
  values: { ':f_deleted': 'deleted' },
};

export const activeRoles: Filter = {
  expression: '#f_role IN (:f_primary, :f_replica)',
  names: { '#f_role': 'role' },
  values: { ':f_primary': 'PRIMARY', ':f_replica': 'REPLICA' },
};

/**
 * Read side of the admin dashboards: every access is a Query on a documented index (keys.ts) or a
 * GetItem, never a Scan.
 */
export const adminRepo = {
  /** One GetItem with a short budget: is the table reachable? */
  async ping(timeoutMs = 1000): Promise<boolean> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      await ddb.send(new GetCommand({ TableName: tableName(), Key: keys.ec2EventsMeta() }), { abortSignal: abort.signal });
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  },

  // ---- clients (GSI1 CLIENTS) ----
  async clientsPage(limit: number, nextToken: string | undefined, filter?: Filter) {
    const page = await filledPage<Item>(withFilter(index('GSI1', 'GSI1PK', CLIENTS_PK), filter), limit, nextToken);
    return { items: page.items.map((i) => stripKeys(i) as unknown as Client), nextToken: page.nextToken };
  },
  /** Every client (bounded by the number of clients; projection keeps it small). */
  async allClients(projection: string[]): Promise<Array<Partial<Client> & { agents_live?: number }>> {
    const names = Object.fromEntries(projection.map((p, i) => [`#p${i}`, p]));
    return queryAll({
      ...index('GSI1', 'GSI1PK', CLIENTS_PK),
      ProjectionExpression: Object.keys(names).join(', '),
      ExpressionAttributeNames: names,
    });
  },
  countClients: (filter?: Filter) => countQuery(index('GSI1', 'GSI1PK', CLIENTS_PK), filter),

  // ---- agents (GSI2 AGENTS, GSI1 per client, GSI3 online) ----
  async agentsPage(limit: number, nextToken: string | undefined, filter?: Filter, clientId?: string) {
    const base = clientId
      ? index('GSI1', 'GSI1PK', keys.agentsOfClientIndex(clientId, '', '').GSI1PK)
      : index('GSI2', 'GSI2PK', AGENTS_PK);
    const page = await filledPage<Item>(withFilter(base, filter), limit, nextToken);
    return { items: page.items.map((i) => stripKeys(i) as unknown as Agent), nextToken: page.nextToken };
  },
  /** Every agent, with only the attributes a rollup needs. */
  async allAgents(projection: string[]): Promise<Array<Partial<Agent>>> {
    const names = Object.fromEntries(projection.map((p, i) => [`#p${i}`, p]));
    return queryAll({
      ...index('GSI2', 'GSI2PK', AGENTS_PK),
      ProjectionExpression: Object.keys(names).join(', '),
      ExpressionAttributeNames: names,
    });
  },
  countAgents: (filter?: Filter) => countQuery(index('GSI2', 'GSI2PK', AGENTS_PK), filter),
  /** Agents in the sparse heartbeat index (status online or switching). */
  countOnlineAgents: () => countQuery(index('GSI3', 'GSI3PK', ONLINE_PK)),
  countClientAgents: (clientId: string, filter?: Filter) =>
    countQuery(index('GSI1', 'GSI1PK', keys.agentsOfClientIndex(clientId, '', '').GSI1PK), filter),

  // ---- instances (GSI3 INSTANCES#<role>, GSI2 per client) ----
  async instancesPage(role: InstanceRole, limit: number, nextToken: string | undefined, filter?: Filter) {
    const page = await filledPage<Item>(
      { ...withFilter(index('GSI3', 'GSI3PK', rolePk(role)), filter), ScanIndexForward: false },
      limit,
      nextToken,
    );
    return { items: page.items.map((i) => stripKeys(i) as unknown as Instance), nextToken: page.nextToken };
  },
  async clientInstancesPage(clientId: string, limit: number, nextToken: string | undefined, filter?: Filter) {
    const page = await filledPage<Item>(
      {
        ...withFilter(index('GSI2', 'GSI2PK', keys.instancesOfClientIndex(clientId, '', '').GSI2PK), filter),
        ScanIndexForward: false,
      },
      limit,
      nextToken,
    );
    return { items: page.items.map((i) => stripKeys(i) as unknown as Instance), nextToken: page.nextToken };
  },
  countInstances: (role: InstanceRole, filter?: Filter) => countQuery(index('GSI3', 'GSI3PK', rolePk(role)), filter),
  countClientInstances: (clientId: string, filter?: Filter) =>
    countQuery(index('GSI2', 'GSI2PK', keys.instancesOfClientIndex(clientId, '', '').GSI2PK), filter),
  /** Instances of a role created before `createdBefore` (zombie-cleanup: a zombie is never older than its instance). */
  async instancesCreatedBefore(role: InstanceRole, createdBefore: string, limit = 1000): Promise<Instance[]> {
    const items = await queryAll<Item>(
      {
        IndexName: 'GSI3',
        KeyConditionExpression: 'GSI3PK = :pk AND GSI3SK < :before',
        ExpressionAttributeValues: { ':pk': rolePk(role), ':before': createdBefore },
      },
      limit,
    );
    return items.map((i) => stripKeys(i) as unknown as Instance);
  },

  // ---- pools (GSI2 POOLS) ----
  countPools: () => countQuery(index('GSI2', 'GSI2PK', POOLS_PK)),
  /** The newest `priced_at` of any pool (null without pools). */
  async newestPricedAt(): Promise<string | null> {
    const items = await queryAll<{ priced_at?: string }>({
      ...index('GSI2', 'GSI2PK', POOLS_PK),
      ProjectionExpression: 'priced_at',
    });
    let newest: string | null = null;
    for (const i of items) if (i.priced_at && (newest === null || i.priced_at > newest)) newest = i.priced_at;
    return newest;
  },

  // ---- commands (GSI2 COMMANDS#OPEN, sparse while not final) ----
  countPendingCommands: () =>
    countQuery(index('GSI2', 'GSI2PK', keys.openCommandIndex('', '').GSI2PK), statusFilter(['pending'])),

  // ---- activity (GSI3 ACTIVITY on notifications), newest first ----
  async activityPage(limit: number, nextToken: string | undefined, filter?: Filter) {
    const page = await filledPage<Item>(
      { ...withFilter(index('GSI3', 'GSI3PK', ACTIVITY_PK), filter), ScanIndexForward: false },
      limit,
      nextToken,
    );
    return { items: page.items.map((i) => stripKeys(i)), nextToken: page.nextToken };
  },
  async clientNotificationsPage(clientId: string | null, limit: number, nextToken: string | undefined, filter?: Filter) {
    const page = await filledPage<Item>(
      {
        ...withFilter(index('GSI1', 'GSI1PK', keys.notificationsOfClientIndex(clientId, '', '').GSI1PK), filter),
        ScanIndexForward: false,
      },
      limit,
      nextToken,
    );
    return { items: page.items.map((i) => stripKeys(i)), nextToken: page.nextToken };
  },
  countUnread: (clientId: string | null) =>
    countQuery(index('GSI2', 'GSI2PK', keys.unreadNotificationsIndex(clientId, '', '').GSI2PK)),

  // ---- job runs (JOB#<name> item collection) ----
  /** Run records of a job started in [from, to] (summaries of e.g. the heartbeat-timeout job). */
  async jobRunsBetween(job: string, from: string, to: string): Promise<Item[]> {
    return queryAll({
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': keys.jobLease(job).PK, ':from': `RUN#${from}`, ':to': `RUN#${to}~` },
    });
  },

  // ---- EC2 events heartbeat (META#EC2EVENTS) ----
  async ec2EventsLastReceivedAt(): Promise<string | null> {
    const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: keys.ec2EventsMeta() }));
    const at = out.Item?.last_received_at;
    return typeof at === 'string' ? at : null;
  },
};

/**
 * Called by the ec2-events consumer for every event it receives: keeps the newest receive time
 * (system-health's `ec2_events_last_received_at`). Only a newer time replaces an older one.
 */
export async function recordEc2EventReceived(at: Date): Promise<void> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.ec2EventsMeta(),
        UpdateExpression: 'SET last_received_at = :at, entity = :entity',
        ConditionExpression: 'attribute_not_exists(last_received_at) OR last_received_at < :at',
        ExpressionAttributeValues: { ':at': at.toISOString(), ':entity': 'meta' },
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
  }
}
