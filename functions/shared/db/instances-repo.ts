import { ttlAfterDays } from '../domain/ids.js';
import { TERMINATED_RETENTION_DAYS } from '../domain/instances.js';
import type { Instance, InstanceRole, Mode } from '../domain/types.js';
import {
  batchGet,
  type Condition,
  filledPage,
  getItem,
  type Item,
  queryAll,
  stripKeys,
  txPut,
  txUpdate,
  updateIf,
  updateItem,
  type UpdateSpec,
  where,
  withFilter,
} from './conditions.js';
import { keys } from './keys.js';
import { type TxPart, txPart } from './transaction.js';

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

/** What a role change checks on the instance as the caller read it. */
export interface RoleExpectation {
  role?: InstanceRole;
  /** The instance still belongs to this agent. */
  agentId?: string;
  version?: number;
}

export interface RoleChangeOptions {
  expect?: RoleExpectation;
  /** Other attributes written together with the role (prices, timestamps, …). */
  set?: Record<string, unknown>;
}

/**
 * The update of a role change: the role is part of the instance's GSI1 sort key and of its GSI3
 * partition (`INSTANCES#<role>`, keys.allInstancesIndex), so they always move together; a
 * TERMINATED instance is kept 90 days (TTL). `at` is the time of the change.
 */
function roleChangeSpec(instance: Pick<Instance, 'id' | 'agent_id'>, role: InstanceRole, at: string, options: RoleChangeOptions): UpdateSpec {
  const { expect = {} } = options;
  return {
    set: {
      ...(role === 'TERMINATED' ? { ttl: ttlAfterDays(new Date(at), TERMINATED_RETENTION_DAYS) } : {}),
      ...options.set,
      role,
      GSI1SK: keys.instancesOfAgentIndex(instance.agent_id, role, instance.id).GSI1SK,
      GSI3PK: keys.allInstancesIndex(role, '', '').GSI3PK,
    },
    expectedVersion: expect.version,
    condition: where.and(expect.role && where.eq('role', expect.role), expect.agentId && where.eq('agent_id', expect.agentId)),
  };
}

/** The typed filters of a client's instance list (API.md §3.8). */
export interface ClientInstanceFilter {
  roles?: InstanceRole[];
  mode?: Mode;
  agentId?: string;
  /** Substring of the id, type, AZ, pool, hostname or private IP (as typed, and lower-cased). */
  search?: string;
}

const SEARCHED_FIELDS = ['id', 'instance_type', 'az', 'pool_id', 'hostname', 'private_ip'];

function clientInstanceFilter(f: ClientInstanceFilter): Condition | undefined {
  const search = f.search?.trim();
  const variants = search ? [...new Set([search, search.toLowerCase()])] : [];
  const conditions = [
    f.roles && where.in('role', f.roles),
    f.mode && where.eq('mode', f.mode),
    f.agentId && where.eq('agent_id', f.agentId),
    variants.length > 0 && where.or(...SEARCHED_FIELDS.flatMap((field) => variants.map((v) => where.contains(field, v)))),
  ];
  return conditions.some(Boolean) ? where.and(...conditions) : undefined;
}

const toInstance = (item: Record<string, unknown>) => stripKeys(item) as unknown as Instance;

/**
 * An instance's telemetry lives on its own small item (keys.instanceLive), in no index: the
 * `last_seen_at` of heartbeats and reports and the accrued savings change every few minutes, and on
 * the instance item each change would rewrite its three index entries (ALL projections). Readers
 * see one instance: the later `last_seen_at` of the two items, and the sum of the savings.
 */
interface InstanceLive {
  agent_id?: string;
  last_seen_at?: string | null;
  accrued_savings?: number;
}

function withTelemetry(item: Item, live: InstanceLive | undefined): Instance {
  const instance = toInstance(item);
  if (!live) return instance;
  const seen = [instance.last_seen_at, live.last_seen_at].filter((t): t is string => typeof t === 'string').sort().at(-1) ?? null;
  return {
    ...instance,
    last_seen_at: seen,
    ...(live.accrued_savings !== undefined ? { accrued_savings: (instance.accrued_savings ?? 0) + live.accrued_savings } : {}),
  };
}

/** Instances read from an index, with their telemetry items (one BatchGetItem per 100). */
async function withLive(items: Item[]): Promise<Instance[]> {
  if (items.length === 0) return [];
  const liveKey = (i: Item) => keys.instanceLive(String(i.id));
  const lives = await batchGet(items.map(liveKey));
  return items.map((i) => withTelemetry(i, lives.get(`${liveKey(i).PK}|${liveKey(i).SK}`) as InstanceLive | undefined));
}

/** Prices a report refreshes: telemetry too (no version bump), but shown in the indexed lists. */
const PRICE_FIELDS = new Set(['spot_price', 'ondemand_price', 'baseline_ondemand_price']);

export const instancesRepo = {
  /** The instance item (its telemetry item only matters to the views: see {@link withLive}). */
  async get(instanceId: string): Promise<Instance | undefined> {
    const item = await getItem(keys.instance(instanceId));
    return item ? toInstance(item) : undefined;
  },

  /** The instance with its telemetry (`last_seen_at`, accrued savings): one strongly consistent Query of both items. */
  async getWithTelemetry(instanceId: string): Promise<Instance | undefined> {
    const items = await queryAll<Item>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.instance(instanceId).PK, ':prefix': keys.instance(instanceId).SK },
      ConsistentRead: true,
    });
    const item = items.find((i) => i.SK === keys.instance(instanceId).SK);
    return item ? withTelemetry(item, items.find((i) => i.SK === keys.instanceLive(instanceId).SK) as InstanceLive | undefined) : undefined;
  },

  /** Instances read from an index, with their telemetry (for the views). */
  withLive,

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

  /**
   * A client's instances, newest first (GSI2 `CLIENT#<cid>#INSTANCES`). Filters are applied by
   * DynamoDB; pages are refilled until `limit` matches or the index ends, so a page is short only
   * at the end.
   */
  async listByClient(clientId: string, limit: number, nextToken: string | undefined, filter: ClientInstanceFilter = {}) {
    const page = await filledPage<Record<string, unknown>>(
      withFilter(
        {
          IndexName: 'GSI2',
          KeyConditionExpression: 'GSI2PK = :pk',
          ExpressionAttributeValues: { ':pk': keys.instancesOfClientIndex(clientId, '', '').GSI2PK },
          ScanIndexForward: false,
        },
        clientInstanceFilter(filter),
      ),
      limit,
      nextToken,
      20,
    );
    return { items: await withLive(page.items), nextToken: page.nextToken };
  },

  /**
   * A field update that keeps the role and the keys (use {@link instancesRepo.changeRole} to change
   * the role). `last_seen_at` goes to the telemetry item; an update of prices only (a report) does
   * not bump the version, so unchanged prices leave the instance and its index entries untouched.
   */
  async update(
    instanceId: string,
    spec: { set: Partial<Omit<Instance, 'id' | 'role' | 'agent_id' | 'client_id' | 'created_at' | 'version'>>; expectedVersion?: number },
  ): Promise<Instance | undefined> {
    const { last_seen_at: seen, ...set } = spec.set;
    const telemetryOnly = spec.expectedVersion === undefined && Object.keys(set).every((k) => PRICE_FIELDS.has(k));
    const [item] = await Promise.all([
      updateItem<Record<string, unknown>>(keys.instance(instanceId), { ...spec, set, ...(telemetryOnly ? { bumpVersion: false } : {}) }),
      typeof seen === 'string' ? updateIf(keys.instanceLive(instanceId), { set: { last_seen_at: seen }, bumpVersion: false, mustExist: false }) : undefined,
    ]);
    if (!item) return undefined;
    return typeof seen === 'string' ? withTelemetry(item, { last_seen_at: seen }) : toInstance(item);
  },

  /**
   * The client's own observation of its instance's prices (a pricing report), and when given the
   * instance's `last_seen_at`: telemetry, no version bump, only on the reporting agent's own instance
   * and only when newer than the prices it holds (an older report that arrives late changes
   * nothing). Returns whether it applied.
   */
  async recordOwnPrices(
    instanceId: string,
    agentId: string,
    prices: { spot_price: number | null; ondemand_price: number | null; baseline_ondemand_price: number | null },
    observedAt: string,
    lastSeenAt?: string,
  ): Promise<boolean> {
    return updateIf(keys.instance(instanceId), {
      set: { ...prices, prices_at: observedAt, ...(lastSeenAt ? { last_seen_at: lastSeenAt } : {}) },
      bumpVersion: false,
      condition: where.and(where.eq('agent_id', agentId), where.or(where.absent('prices_at'), where.lt('prices_at', observedAt))),
    });
  },

  /** Transaction part creating an instance (never overwrites); `extra` attributes are stored with it. */
  createTx(instance: Instance, extra: Record<string, unknown> = {}, part = 'instance'): TxPart {
    return txPart(part, txPut({ ...instanceItem(instance), ...extra }));
  },

  /**
   * Transaction part changing an instance's role — the only writer of `role` and the index
   * attributes that follow it. Fails (by name) when the expectation does not hold.
   */
  changeRoleTx(
    instance: Pick<Instance, 'id' | 'agent_id'>,
    role: InstanceRole,
    at: string,
    options: RoleChangeOptions = {},
    part = 'instance',
  ): TxPart {
    return txPart(part, txUpdate(keys.instance(instance.id), roleChangeSpec(instance, role, at, options)));
  },

  /**
   * The same role change outside a transaction. Undefined when the instance is gone; a failed
   * expectation is ConflictError INVALID_TRANSITION (VERSION_CONFLICT for a stale version).
   */
  async changeRole(
    instance: Pick<Instance, 'id' | 'agent_id'>,
    role: InstanceRole,
    at: string,
    options: RoleChangeOptions = {},
  ): Promise<Instance | undefined> {
    const item = await updateItem<Record<string, unknown>>(keys.instance(instance.id), roleChangeSpec(instance, role, at, options));
    return item ? toInstance(item) : undefined;
  },

  /**
   * The heartbeat of a REPLICA/ZOMBIE: its `last_seen_at` on the telemetry item, only when the
   * instance is `agentId`'s (an instance id of another agent or client is never written). One
   * conditional write; the first time, the owner is read from the instance item and recorded.
   */
  async touch(instanceId: string, agentId: string, at: string): Promise<boolean> {
    const key = keys.instanceLive(instanceId);
    if (await updateIf(key, { set: { last_seen_at: at }, bumpVersion: false, condition: where.eq('agent_id', agentId) })) return true;
    const instance = await getItem<Instance>(keys.instance(instanceId));
    if (instance?.agent_id !== agentId) return false;
    return updateIf(key, {
      set: { last_seen_at: at, agent_id: agentId, entity: 'instance-live' },
      bumpVersion: false,
      mustExist: false,
      condition: where.or(where.absent('agent_id'), where.eq('agent_id', agentId)),
    });
  },

  /** Transaction part adding to the instance's accrued savings (the savings ledger), on its telemetry item. */
  accrueSavingsTx(instanceId: string, amount: number): TxPart {
    return txPart('instance-savings', txUpdate(keys.instanceLive(instanceId), { add: { accrued_savings: amount }, bumpVersion: false, mustExist: false }));
  },
};
