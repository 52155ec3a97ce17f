import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, ForbiddenError, UnprocessableError, VersionConflictError } from '../domain/errors.js';
import type { Agent, AgentStatus, Instance } from '../domain/types.js';
import { ddb, tableName } from './client.js';
import {
  batchGet,
  buildUpdate,
  type Condition,
  getItem,
  type Item,
  isConditionFailure,
  stripKeys,
  txDelete,
  txPut,
  txUpdate,
  updateIf,
  where,
} from './conditions.js';
import { instancesRepo } from './instances-repo.js';
import { keys } from './keys.js';
import { putSearchEntries, searchEntryTx } from './search-repo.js';
import { type ShardedIndex, shardedAll, shardedPage } from './sharded.js';
import { TransactionConflict, transact, type TxPart, type TxPatch, txPart } from './transaction.js';

/**
 * An agent is two items in its partition (README "Access patterns"):
 * - the agent item (`AGENT`): its state, in the sharded client / all-agents / online indexes;
 *   written only when that state changes;
 * - the live item (`AGENT#LIVE`, < 1 KB, in no index): the fast-changing fields (last heartbeat,
 *   savings watermark) and a copy of what the heartbeat decides on (status, PRIMARY, in-flight
 *   command, placement, config version). Every write of a copied field goes through this module and
 *   patches the live item in the same transaction, so a heartbeat can check and write the live item
 *   alone: one conditional UpdateItem of 1 unit, no index touched.
 */

/** Statuses whose heartbeat the timeout job watches (the sparse online index holds exactly these agents). */
const HEARTBEAT_TRACKED = new Set<AgentStatus>(['online', 'switching']);
/** Fields whose home is the live item. */
const LIVE_FIELDS = new Set(['last_heartbeat_at', 'accrued_until', 'accrued_savings_total']);
/** Agent fields copied on the live item (the heartbeat's decision inputs). */
const MIRRORED = ['status', 'primary_instance_id', 'inflight_command_id', 'instance_type', 'az', 'current_mode'] as const;

/** What the live item holds (see above); `replica_rev`/`replicas_seen` belong to replicas-repo. */
export interface AgentLive {
  agent_id?: string;
  client_id?: string;
  last_heartbeat_at?: string | null;
  accrued_until?: string | null;
  accrued_savings_total?: number;
  status?: AgentStatus;
  primary_instance_id?: string | null;
  inflight_command_id?: string | null;
  instance_type?: string | null;
  az?: string | null;
  current_mode?: string | null;
  config_version?: number;
  /** Bumped by every command queued for the agent (commands-repo), and the poll's "nothing deliverable" mark. */
  command_rev?: number;
  commands_seen?: string;
  replica_rev?: number;
  replicas_seen?: { rev: number; active: number; launching: number; unconfirmed: number };
}

const toAgent = (item: Record<string, unknown>) => stripKeys(item) as unknown as Agent;

/** The agent as readers see it: the agent item with the live item's own fields over it. */
function merged(agentItem: Item, live: AgentLive | undefined): Agent {
  const agent = toAgent(agentItem);
  if (!live) return agent;
  const total = (agent as { accrued_savings_total?: number }).accrued_savings_total;
  return {
    ...agent,
    last_heartbeat_at: live.last_heartbeat_at ?? agent.last_heartbeat_at ?? null,
    ...(live.accrued_until !== undefined ? { accrued_until: live.accrued_until } : {}),
    ...(live.accrued_savings_total !== undefined || total !== undefined
      ? { accrued_savings_total: (total ?? 0) + (live.accrued_savings_total ?? 0) }
      : {}),
  };
}

/** The copy of the heartbeat's inputs, as the live item stores it. */
const mirrorOf = (agent: Agent) => ({
  agent_id: agent.id,
  client_id: agent.client_id,
  status: agent.status,
  primary_instance_id: agent.primary_instance_id,
  inflight_command_id: agent.inflight_command_id ?? null,
  instance_type: agent.instance_type,
  az: agent.az,
  current_mode: agent.current_mode,
  config_version: agent.config.config_version,
});

/** Stored agent = entity + index attributes; online agents are in the sparse online index. */
export function agentItem(agent: Agent) {
  const { last_heartbeat_at: _hb, accrued_until: _au, ...rest } = agent;
  return {
    ...keys.agent(agent.id),
    ...keys.agentsOfClientIndex(agent.client_id, agent.created_at, agent.id),
    ...keys.allAgentsIndex(agent.created_at, agent.id),
    ...(HEARTBEAT_TRACKED.has(agent.status) ? keys.onlineAgentsIndex(agent.id) : {}),
    entity: 'agent',
    ...rest,
  };
}

/** The live item of a new agent. */
export const liveItem = (agent: Agent) => ({
  ...keys.agentLive(agent.id),
  entity: 'agent-live',
  ...mirrorOf(agent),
  last_heartbeat_at: agent.last_heartbeat_at,
  ...(agent.accrued_until !== undefined ? { accrued_until: agent.accrued_until } : {}),
});

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

/** What an agent change checks on the agent as the caller read it (besides "not deleted"). */
export interface AgentGuard {
  /** The version read: two writers that read the same agent cannot both commit. */
  version?: number;
  /** `primary_instance_id` as read (null: none). */
  primary?: string | null;
  /** `inflight_command_id` as read (null: none). */
  inflight?: string | null;
  /** The open-switch slot as read (null: empty). */
  openSwitch?: string | null;
  status?: AgentStatus;
}

export interface AgentChange {
  set?: Record<string, unknown>;
  remove?: Array<'inflight_command_id' | 'open_switch_id' | 'open_switch_priority'>;
  /** The agent leaves the online index (it has no PRIMARY to heartbeat); implied by a set status. */
  leaveHeartbeatIndex?: boolean;
  guard?: AgentGuard;
  /** A further condition on the agent item. */
  condition?: Condition | undefined;
  /** Telemetry and slot moves do not bump `version` (default: bump). */
  bumpVersion?: boolean;
  mustExist?: boolean;
  /** Further attributes of the live item, and a condition on it. */
  live?: Record<string, unknown>;
  liveCondition?: Condition | undefined;
}

const guardCondition = (guard: AgentGuard) =>
  where.and(
    where.ne('status', 'deleted'),
    guard.status !== undefined && where.eq('status', guard.status),
    guard.primary !== undefined && where.is('primary_instance_id', guard.primary),
    guard.inflight !== undefined && where.is('inflight_command_id', guard.inflight),
    guard.openSwitch !== undefined && where.is('open_switch_id', guard.openSwitch),
  );

/**
 * Splits a change between the agent item and its live item: live fields go to the live item only,
 * copied fields to both; a set status moves the agent in or out of the online index.
 */
function routeChange(agentId: string, change: AgentChange) {
  const agentSet: Record<string, unknown> = {};
  const liveSet: Record<string, unknown> = { ...change.live };
  const agentRemove: string[] = [...(change.remove ?? [])];
  const liveRemove: string[] = [];
  for (const [attr, value] of Object.entries(change.set ?? {})) {
    if (value === undefined) continue;
    if (LIVE_FIELDS.has(attr)) liveSet[attr] = value;
    else agentSet[attr] = value;
  }
  for (const attr of MIRRORED) if (attr in agentSet) liveSet[attr] = agentSet[attr];
  const config = agentSet.config as { config_version?: number } | undefined;
  if (config?.config_version !== undefined) liveSet.config_version = config.config_version;
  if (agentRemove.includes('inflight_command_id')) liveRemove.push('inflight_command_id');
  const status = agentSet.status as AgentStatus | undefined;
  const watched = status !== undefined && HEARTBEAT_TRACKED.has(status) && !change.leaveHeartbeatIndex;
  if (watched) Object.assign(agentSet, keys.onlineAgentsIndex(agentId));
  else if (status !== undefined || change.leaveHeartbeatIndex) agentRemove.push('GSI3PK', 'GSI3SK');
  const patch: TxPatch | undefined =
    Object.keys(liveSet).length > 0 || liveRemove.length > 0 || change.liveCondition
      ? { part: 'agent-live', key: keys.agentLive(agentId), set: liveSet, remove: liveRemove, condition: change.liveCondition }
      : undefined;
  return { agentSet, agentRemove, patch };
}

/** Transaction part: a guarded change of a live agent (its version is bumped unless told not to); see {@link AgentChange}. */
function agentUpdateTx(agentId: string, change: AgentChange, part = 'agent'): TxPart {
  const guard = change.guard ?? {};
  const { agentSet, agentRemove, patch } = routeChange(agentId, change);
  return txPart(
    part,
    txUpdate(keys.agent(agentId), {
      set: agentSet,
      remove: agentRemove,
      expectedVersion: guard.version,
      condition: where.and(guardCondition(guard), change.condition),
      ...(change.bumpVersion === false ? { bumpVersion: false } : {}),
      ...(change.mustExist === false ? { mustExist: false } : {}),
    }),
    patch ? [patch] : [],
  );
}

/**
 * Moves an agent's PRIMARY pointer (and the placement fields it mirrors) inside a transaction,
 * conditioned on the pointer still naming `expectedPrimary` (or being empty) and the agent being
 * live: the condition that makes "exactly one PRIMARY per agent" hold under races (API.md §4.4).
 */
const movePrimaryTx = (agentId: string, expectedPrimary: string | null, fields: Record<string, unknown>): TxPart =>
  agentUpdateTx(agentId, { set: fields, guard: { primary: expectedPrimary } });

/** The old PRIMARY becomes a ZOMBIE, conditioned on it still being this agent's PRIMARY. */
const demotePrimaryTx = (agentId: string, instanceId: string, at: string): TxPart =>
  instancesRepo.changeRoleTx({ id: instanceId, agent_id: agentId }, 'ZOMBIE', at, {
    expect: { role: 'PRIMARY', agentId },
    set: { zombie_since: at },
  }, 'old-primary');

const clientIndex = (clientId: string): ShardedIndex => ({
  indexName: 'GSI1',
  pkAttr: 'GSI1PK',
  skAttr: 'GSI1SK',
  partitions: keys.agentsOfClientShards(clientId),
});
const onlineIndex = (): ShardedIndex => ({ indexName: 'GSI3', pkAttr: 'GSI3PK', skAttr: 'GSI3SK', partitions: keys.onlineAgentsShards() });

/** Agents read from an index, with their live items (one BatchGetItem per 100, eventually consistent). */
export async function withLive(items: Item[]): Promise<Agent[]> {
  if (items.length === 0) return [];
  const liveKey = (i: Item) => keys.agentLive(String(i.id));
  const lives = await batchGet(items.map(liveKey));
  return items.map((i) => merged(i, lives.get(`${liveKey(i).PK}|${liveKey(i).SK}`) as AgentLive | undefined));
}

/** The input of the heartbeat's one write. */
export interface HeartbeatWrite {
  status: AgentStatus;
  at: string;
  /** The instance that sent it (the PRIMARY, or a replica / zombie). */
  instanceId?: string;
  placement: { instance_type?: string; az?: string; current_mode?: string };
  /** A client caller: the agent must be this client's. */
  clientId?: string;
}

export const agentsRepo = {
  async get(agentId: string): Promise<Agent | undefined> {
    return (await this.getWithLive(agentId))?.agent;
  },

  /** The agent and its live item: one strongly consistent Query of both (≤ 4 KB: 1 read unit). */
  async getWithLive(agentId: string): Promise<{ agent: Agent; live: AgentLive | undefined } | undefined> {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.agent(agentId).PK, ':prefix': keys.agentItemsPrefix },
        ConsistentRead: true,
      }),
    );
    const items = out.Items ?? [];
    const agentItemRead = items.find((i) => i.SK === keys.agent(agentId).SK);
    if (!agentItemRead) return undefined;
    const live = items.find((i) => i.SK === keys.agentLive(agentId).SK) as AgentLive | undefined;
    return { agent: merged(agentItemRead, live), live };
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
  async createWithPrimary(agent: Agent, primary: Instance, maxAgents: number, extra: TxPart[] = []): Promise<'created' | 'lost-race'> {
    try {
      await transact([
        txPart('agent', txPut(agentItem(agent))),
        txPart('agent-live', txPut(liveItem(agent), { overwrite: true })),
        txPart('logical-id', txPut({ ...keys.logicalAgent(agent.client_id, agent.logical_agent_id), entity: 'logical-agent', agent_id: agent.id })),
        instancesRepo.createTx(primary, {}, 'primary'),
        txPart(
          'agent-limit',
          txUpdate(keys.client(agent.client_id), {
            add: { agents_live: 1 },
            bumpVersion: false,
            condition: where.and(where.eq('status', 'active'), where.or(where.absent('agents_live'), where.lt('agents_live', maxAgents))),
          }),
        ),
        ...searchEntryTx('agent', [[agent.hostname, agent.id]]),
        ...searchEntryTx('instance', [[primary.hostname, primary.id]]),
        ...extra,
      ]);
      return 'created';
    } catch (err) {
      if (!(err instanceof TransactionConflict)) throw err;
      if (err.failedOn('agent-limit')) {
        // The same condition refuses a client that stopped being active (deleted or being deleted meanwhile).
        const client = await getItem<{ status?: string }>(keys.client(agent.client_id));
        if (client?.status !== 'active') throw new ForbiddenError('CLIENT_INACTIVE', 'the client is not active');
        throw new UnprocessableError('AGENT_LIMIT_REACHED', `the client already has ${maxAgents} agents`);
      }
      if (err.failedOn('logical-id', 'primary')) return 'lost-race';
      throw err;
    }
  },

  /**
   * An existing agent gets a new PRIMARY: the new instance is created, the old PRIMARY becomes a
   * ZOMBIE, and the agent's pointer moves — conditioned on the pointer still being `expectedPrimary`
   * (exactly one PRIMARY per agent, API.md §4.4). `extra`: parts that commit with it (its records).
   */
  async replacePrimary(agent: Agent, next: Instance, at: string, set: Record<string, unknown> = {}, extra: TxPart[] = []): Promise<Agent> {
    const expected = agent.primary_instance_id;
    const fields = { ...primaryFields(next), ...set, pool_since: at };
    const items: TxPart[] = [movePrimaryTx(agent.id, expected, fields), instancesRepo.createTx(next, {}, 'new-primary')];
    if (expected) items.push(demotePrimaryTx(agent.id, expected, at));
    // Admin search entries (hostname prefixes; ids are exact GetItems) — unconditional, idempotent.
    const hostname = typeof set.hostname === 'string' ? set.hostname : agent.hostname;
    items.push(
      ...searchEntryTx('instance', [[next.hostname, next.id]]),
      ...(hostname !== agent.hostname ? searchEntryTx('agent', [[hostname, agent.id]]) : []),
      ...extra,
    );
    try {
      await transact(items);
    } catch (err) {
      if (err instanceof TransactionConflict) {
        throw new ConflictError('VERSION_CONFLICT', 'the agent changed PRIMARY concurrently; retry', [], { cause: err });
      }
      throw err;
    }
    return (await this.get(agent.id)) as Agent;
  },

  /**
   * Version-checked (or unconditional, when no version is given) change of agent fields; live
   * fields land on the live item. Undefined when the agent does not exist.
   */
  async update(agentId: string, spec: { set: Record<string, unknown>; expectedVersion?: number }): Promise<Agent | undefined> {
    const liveOnly = Object.keys(spec.set).every((k) => LIVE_FIELDS.has(k)) && spec.expectedVersion === undefined;
    try {
      await transact([
        liveOnly
          ? txPart('agent-live', txUpdate(keys.agentLive(agentId), { set: spec.set, bumpVersion: false, mustExist: false }))
          : agentUpdateTx(agentId, { set: spec.set, guard: { version: spec.expectedVersion }, condition: undefined }),
      ]);
    } catch (err) {
      if (!(err instanceof TransactionConflict) || !err.failedOn('agent')) throw err;
      const current = await this.get(agentId);
      if (!current) return undefined;
      if (spec.expectedVersion !== undefined && current.version !== spec.expectedVersion) {
        throw new VersionConflictError(current.version, { cause: err });
      }
      throw new ConflictError('INVALID_TRANSITION', 'the resource is not in a state that allows this change', [], { cause: err });
    }
    // A changed hostname becomes searchable (admin search; the entry is idempotent).
    if (typeof spec.set.hostname === 'string') await putSearchEntries('agent', [[spec.set.hostname, agentId]]);
    return this.get(agentId);
  },

  /** Transaction part: a guarded change of a live agent (version bumped); see {@link AgentChange}. */
  updateTx: agentUpdateTx,

  /** Transaction part: the agent is unchanged since it was read (check and bump of its version). */
  versionGuardTx: (agent: Pick<Agent, 'id' | 'version'>, part = 'agent-version'): TxPart =>
    agentUpdateTx(agent.id, { guard: { version: agent.version } }, part),

  /** Transaction part: the PRIMARY pointer and the placement fields move to `next` (see movePrimaryTx). */
  movePrimaryTx: (agent: Pick<Agent, 'id' | 'primary_instance_id'>, next: Instance, set: Record<string, unknown>): TxPart =>
    movePrimaryTx(agent.id, agent.primary_instance_id ?? null, { ...primaryFields(next), ...set }),

  /** A status change outside a wider transaction (no version bump): false when the agent is deleted or gone. */
  async setStatus(agentId: string, status: AgentStatus): Promise<boolean> {
    try {
      await transact([agentUpdateTx(agentId, { set: { status }, bumpVersion: false })]);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict && err.failedOn('agent')) return false;
      throw err;
    }
  },

  /**
   * Remembers that a pending-commands poll found nothing deliverable at command revision
   * `revision` (`mark` also names the agent's major version); a command queued meanwhile bumped the
   * revision, so the condition keeps the mark from hiding it.
   */
  async markCommandsSeen(agentId: string, revision: number, mark: string): Promise<boolean> {
    return updateIf(keys.agentLive(agentId), {
      set: { commands_seen: mark },
      bumpVersion: false,
      mustExist: false,
      condition: revision === 0 ? where.or(where.absent('command_rev'), where.eq('command_rev', 0)) : where.eq('command_rev', revision),
    });
  },

  /**
   * Ends a rebalance notice once its window passed, only while the notice and the PRIMARY are
   * still the ones the caller read; false when they changed (or the agent is gone).
   */
  async clearRebalanceNotice(agentId: string, primaryInstanceId: string): Promise<boolean> {
    try {
      await transact([
        agentUpdateTx(agentId, {
          set: { notice_status: 'none', notice_deadline: null },
          condition: where.and(where.eq('notice_status', 'rebalance'), where.eq('primary_instance_id', primaryInstanceId)),
        }),
      ]);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict && err.failedOn('agent')) return false;
      throw err;
    }
  },

  /**
   * The heartbeat's one write (README "Access patterns"): `last_heartbeat_at` on the live item,
   * conditioned on everything the heartbeat would otherwise change being already so — the caller
   * owns the agent, the status stays (`switching` is kept while a command is in flight), the
   * sender is the PRIMARY and the placement is unchanged. 1 write unit, no index, no version bump.
   * When it refuses (a change, a replica, a deleted agent, a live item not written yet), the caller
   * takes the slow path: {@link agentsRepo.applyHeartbeat}.
   */
  async recordHeartbeat(agentId: string, hb: HeartbeatWrite): Promise<AgentLive | undefined> {
    const { placement } = hb;
    const update = buildUpdate(keys.agentLive(agentId), {
      set: { last_heartbeat_at: hb.at },
      bumpVersion: false,
      condition: where.and(
        hb.clientId ? where.eq('client_id', hb.clientId) : where.exists('client_id'),
        hb.status === 'online'
          ? where.or(
              where.eq('status', 'online'),
              where.and(where.eq('status', 'switching'), where.exists('inflight_command_id'), where.ne('inflight_command_id', null)),
            )
          : where.eq('status', hb.status),
        hb.instanceId
          ? where.eq('primary_instance_id', hb.instanceId)
          : where.and(where.exists('primary_instance_id'), where.ne('primary_instance_id', null)),
        placement.instance_type !== undefined && where.eq('instance_type', placement.instance_type),
        placement.az !== undefined && where.eq('az', placement.az),
        placement.current_mode !== undefined && where.eq('current_mode', placement.current_mode),
      ),
    });
    try {
      const out = await ddb.send(new UpdateCommand({ ...update, ReturnValues: 'ALL_OLD' }));
      return out.Attributes as AgentLive;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /**
   * The heartbeat's slow path: the agent as read (`agent`) gets `status` and the placement, its live
   * item the heartbeat and a full copy — one transaction conditioned on the status, PRIMARY and
   * in-flight slot read (false: they moved; re-read and decide again). Re-keys the agent's index
   * entries too, so an agent stored before the sharded indexes moves to them on its next heartbeat.
   */
  async applyHeartbeat(
    agent: Agent,
    status: AgentStatus,
    at: string,
    placement: HeartbeatWrite['placement'],
    extra: TxPart[] = [],
  ): Promise<boolean> {
    const changes = Object.fromEntries(Object.entries(placement).filter(([, v]) => v !== undefined));
    const next: Agent = { ...agent, status, ...changes } as Agent;
    try {
      await transact([
        agentUpdateTx(agent.id, {
          set: {
            status,
            ...changes,
            ...keys.agentsOfClientIndex(agent.client_id, agent.created_at, agent.id),
            ...keys.allAgentsIndex(agent.created_at, agent.id),
          },
          bumpVersion: false,
          guard: { status: agent.status, primary: agent.primary_instance_id ?? null, inflight: agent.inflight_command_id ?? null },
          live: { ...mirrorOf(next), entity: 'agent-live', last_heartbeat_at: at },
        }),
        ...extra,
      ]);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict && err.failedOn('agent')) return false;
      throw err;
    }
  },

  /**
   * Offline by timeout, only if no heartbeat arrived since the cutoff (the live item's condition)
   * and the agent is still watched (online or switching) — with `extra` parts (its feed event and
   * notification) in the same transaction. False when a heartbeat won.
   */
  async markOfflineIfStale(agentId: string, cutoff: string, extra: TxPart[] = []): Promise<boolean> {
    try {
      await transact([
        agentUpdateTx(agentId, {
          set: { status: 'offline' },
          bumpVersion: false,
          condition: where.in('status', ['online', 'switching']),
          liveCondition: where.or(where.absent('last_heartbeat_at'), where.lt('last_heartbeat_at', cutoff)),
        }),
        ...extra,
      ]);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict && (err.failedOn('agent', 'agent-live'))) return false;
      throw err;
    }
  },

  /**
   * Every agent the timeout job watches (online or switching), with its last heartbeat: the sharded
   * online index (only the attributes the job uses travel) and the members' live items.
   */
  async listOnline(): Promise<Array<Pick<Agent, 'id' | 'client_id' | 'status' | 'hostname' | 'last_heartbeat_at'>>> {
    return withLive(await shardedAll<Item>(onlineIndex(), { projection: ['id', 'client_id', 'status', 'hostname', 'last_heartbeat_at'] }));
  },

  /** A client's agents (GSI1, sharded), oldest first; deleted ones included (filter in the caller). */
  async listByClient(clientId: string, limit: number, nextToken?: string, newestFirst = false) {
    const page = await shardedPage<Item>(clientIndex(clientId), limit, nextToken, { newestFirst });
    return { items: await withLive(page.items), nextToken: page.nextToken };
  },

  /** Every agent of a client (bounded by max_agents plus deleted history), oldest first. */
  async listAllByClient(clientId: string): Promise<Agent[]> {
    return withLive(await shardedAll<Item>(clientIndex(clientId)));
  },

  /** Soft delete: status deleted, guard released, live counter decremented — one transaction. */
  async markDeleted(agent: Agent, at: string, extra: TxPart[] = [], ttl?: number): Promise<void> {
    await transact([
      agentUpdateTx(agent.id, {
        set: { 'status': 'deleted', 'deleted_at': at, 'enabled': false, 'config.enabled': false, ...(ttl ? { ttl } : {}) },
        remove: ['inflight_command_id'],
        mustExist: false,
        live: ttl ? { ttl } : {},
      }),
      txPart('logical-id', txDelete(keys.logicalAgent(agent.client_id, agent.logical_agent_id), where.eq('agent_id', agent.id))),
      txPart(
        'live-counter',
        txUpdate(keys.client(agent.client_id), { add: { agents_live: -1 }, bumpVersion: false, mustExist: false, condition: where.gt('agents_live', 0) }),
      ),
      ...extra,
    ]);
  },
};
