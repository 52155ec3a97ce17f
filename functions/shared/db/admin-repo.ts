import { GetCommand, QueryCommand, type QueryCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Agent, Client, Instance, InstanceRole, Mode } from '../domain/types.js';
import { ddb, tableName } from './client.js';
import { withLive as agentsWithLive } from './agents-repo.js';
import { type Condition, filledPage, type Item, queryAll, stripKeys, where, withFilter } from './conditions.js';
import { instancesRepo } from './instances-repo.js';
import { keys } from './keys.js';
import { type ShardedIndex, shardedAll, shardedCount, shardedPage } from './sharded.js';

type QueryInput = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Select'>;

/** The filters of the admin lists and counts (each one narrows; none = everything in the index). */
export interface ListFilter {
  /** `status` is one of these. */
  statuses?: string[];
  /** Live entities only (`status` ≠ deleted). */
  notDeleted?: boolean;
  roles?: InstanceRole[];
  mode?: Mode;
  region?: string;
  /** Notification `type`. */
  type?: string;
  unreadOnly?: boolean;
  severity?: string;
}

function filterCondition(f: ListFilter | undefined): Condition | undefined {
  if (!f) return undefined;
  return where.and(
    f.statuses && where.in('status', f.statuses),
    f.notDeleted && where.ne('status', 'deleted'),
    f.roles && where.in('role', f.roles),
    f.mode && where.eq('mode', f.mode),
    f.region && where.eq('region', f.region),
    f.type && where.eq('type', f.type),
    f.unreadOnly && where.eq('is_read', false),
    f.severity && where.eq('severity', f.severity),
  );
}

/** Number of items a Query matches (Select COUNT, every page): a count without reading items out. */
async function countQuery(input: QueryInput, filter?: ListFilter): Promise<number> {
  let count = 0;
  let start: Item | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({ TableName: tableName(), ...withFilter(input, filterCondition(filter)), Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return count;
}

/** One filled page of a filtered index (see filledPage), newest first when `newestFirst`. */
const listPage = (input: QueryInput, limit: number, nextToken: string | undefined, filter?: ListFilter, newestFirst = false) =>
  filledPage<Item>(
    { ...withFilter(input, filterCondition(filter)), ...(newestFirst ? { ScanIndexForward: false } : {}) },
    limit,
    nextToken,
  );

const index = (name: string, pkAttr: string, pk: string): QueryInput => ({
  IndexName: name,
  KeyConditionExpression: `${pkAttr} = :pk`,
  ExpressionAttributeValues: { ':pk': pk },
});

const CLIENTS_PK = keys.clientsIndex('', '').GSI1PK;
/** The sharded agent partitions (keys.ts SHARDS): all agents, one client's, the online ones. */
const allAgents = (): ShardedIndex => ({ indexName: 'GSI2', pkAttr: 'GSI2PK', skAttr: 'GSI2SK', partitions: keys.allAgentsShards() });
const clientAgents = (clientId: string): ShardedIndex => ({
  indexName: 'GSI1',
  pkAttr: 'GSI1PK',
  skAttr: 'GSI1SK',
  partitions: keys.agentsOfClientShards(clientId),
});
const onlineAgents = (): ShardedIndex => ({ indexName: 'GSI3', pkAttr: 'GSI3PK', skAttr: 'GSI3SK', partitions: keys.onlineAgentsShards() });
/** The agent attributes whose current value is on the live item (a rollup that asks for them reads it). */
const LIVE_ATTRIBUTES = ['last_heartbeat_at', 'accrued_until'];
const POOLS_PK = keys.allPoolsIndex('', '').GSI2PK;
const ACTIVITY_PK = keys.activityIndex('', '').GSI3PK;
const rolePk = (role: InstanceRole) => keys.allInstancesIndex(role, '', '').GSI3PK;

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
  async clientsPage(limit: number, nextToken: string | undefined, filter?: ListFilter) {
    const page = await listPage(index('GSI1', 'GSI1PK', CLIENTS_PK), limit, nextToken, filter);
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
  countClients: (filter?: ListFilter) => countQuery(index('GSI1', 'GSI1PK', CLIENTS_PK), filter),

  // ---- agents (sharded: GSI2 AGENTS#S<nn>, GSI1 CLIENT#<cid>#AGENTS#S<nn>, GSI3 AGENTS#ONLINE#S<nn>) ----
  async agentsPage(limit: number, nextToken: string | undefined, filter?: ListFilter, clientId?: string) {
    const index = clientId ? clientAgents(clientId) : allAgents();
    const page = await shardedPage<Item>(index, limit, nextToken, { filter: filterCondition(filter) });
    return { items: await agentsWithLive(page.items), nextToken: page.nextToken };
  },
  /** Every agent, with only the attributes a rollup needs (the live ones read from the live items). */
  async allAgents(projection: string[]): Promise<Array<Partial<Agent>>> {
    const needsLive = projection.some((p) => LIVE_ATTRIBUTES.includes(p));
    const items = await shardedAll<Item>(allAgents(), { projection: needsLive ? [...new Set([...projection, 'id'])] : projection });
    if (!needsLive) return items;
    const agents = await agentsWithLive(items);
    return agents.map((a) => Object.fromEntries(projection.map((p) => [p, (a as unknown as Item)[p]])) as Partial<Agent>);
  },
  countAgents: (filter?: ListFilter) => shardedCount(allAgents(), filterCondition(filter)),
  /** Agents in the sparse online index (status online or switching). */
  countOnlineAgents: () => shardedCount(onlineAgents()),
  countClientAgents: (clientId: string, filter?: ListFilter) => shardedCount(clientAgents(clientId), filterCondition(filter)),

  // ---- instances (GSI3 INSTANCES#<role>, GSI2 per client) ----
  /** One role partition (GSI3 `INSTANCES#<role>`) or, with `clientId`, the client's instances (GSI2), newest first. */
  async instancesPage(
    scope: { role: InstanceRole } | { clientId: string },
    limit: number,
    nextToken: string | undefined,
    filter?: ListFilter,
  ) {
    const base =
      'role' in scope
        ? index('GSI3', 'GSI3PK', rolePk(scope.role))
        : index('GSI2', 'GSI2PK', keys.instancesOfClientIndex(scope.clientId, '', '').GSI2PK);
    const page = await listPage(base, limit, nextToken, filter, true);
    return { items: await instancesRepo.withLive(page.items), nextToken: page.nextToken };
  },
  countInstances: (role: InstanceRole, filter?: ListFilter) => countQuery(index('GSI3', 'GSI3PK', rolePk(role)), filter),
  countClientInstances: (clientId: string, filter?: ListFilter) =>
    countQuery(index('GSI2', 'GSI2PK', keys.instancesOfClientIndex(clientId, '', '').GSI2PK), filter),
  /**
   * A client's fleet at a glance (the admin's client list, the global-stats export): agents online
   * or switching and instances in service (PRIMARY or REPLICA), counted by Query COUNT; the live
   * agents are the client's own counter (`agents_live`, kept by registration and delete).
   */
  async clientFleet(client: { id: string; agents_live?: number }) {
    const [online, active] = await Promise.all([
      adminRepo.countClientAgents(client.id, { statuses: ['online', 'switching'] }),
      adminRepo.countClientInstances(client.id, { roles: ['PRIMARY', 'REPLICA'] }),
    ]);
    return { agents_online: online, agents_total: Math.max(0, Number(client.agents_live ?? 0)), instances_active: active };
  },
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
    countQuery(index('GSI2', 'GSI2PK', keys.openCommandIndex('', '').GSI2PK), { statuses: ['pending'] }),

  // ---- activity (GSI3 ACTIVITY on notifications), newest first ----
  /** Every notification (GSI3 `ACTIVITY`) or, with `clientId` (null: system-wide), one client's (GSI1), newest first. */
  async notificationsPage(scope: 'all' | { clientId: string | null }, limit: number, nextToken: string | undefined, filter?: ListFilter) {
    const base =
      scope === 'all'
        ? index('GSI3', 'GSI3PK', ACTIVITY_PK)
        : index('GSI1', 'GSI1PK', keys.notificationsOfClientIndex(scope.clientId, '', '').GSI1PK);
    const page = await listPage(base, limit, nextToken, filter, true);
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
