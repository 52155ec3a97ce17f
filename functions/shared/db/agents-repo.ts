import { UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConflictError, UnprocessableError } from '../domain/errors.js';
import type { Agent, AgentStatus, Instance } from '../domain/types.js';
import { ddb } from './client.js';
import {
  buildUpdate,
  type Condition,
  getItem,
  isConditionFailure,
  oldItemOf,
  queryAll,
  queryPage,
  stripKeys,
  txDelete,
  txPut,
  txUpdate,
  updateItem,
  where,
} from './conditions.js';
import { instancesRepo } from './instances-repo.js';
import { keys } from './keys.js';
import { putSearchEntries, searchEntryTx } from './search-repo.js';
import { TransactionConflict, transact, type TxPart, txPart } from './transaction.js';

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
  /** The agent leaves the heartbeat index (it has no PRIMARY to heartbeat). */
  leaveHeartbeatIndex?: boolean;
  guard?: AgentGuard;
  /** An edit bumps `version` (default); telemetry does not. */
  bumpVersion?: boolean;
}

const guardCondition = (guard: AgentGuard) =>
  where.and(
    where.ne('status', 'deleted'),
    guard.status !== undefined && where.eq('status', guard.status),
    guard.primary !== undefined && where.is('primary_instance_id', guard.primary),
    guard.inflight !== undefined && where.is('inflight_command_id', guard.inflight),
    guard.openSwitch !== undefined && where.is('open_switch_id', guard.openSwitch),
  );

/** Transaction part: a guarded change of a live agent (its version is bumped). */
function agentUpdateTx(agentId: string, change: AgentChange, part = 'agent'): TxPart {
  const guard = change.guard ?? {};
  return txPart(
    part,
    txUpdate(keys.agent(agentId), {
      set: change.set,
      remove: [...(change.remove ?? []), ...(change.leaveHeartbeatIndex ? ['GSI3PK', 'GSI3SK'] : [])],
      expectedVersion: guard.version,
      bumpVersion: change.bumpVersion,
      condition: guardCondition(guard),
    }),
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
  async createWithPrimary(agent: Agent, primary: Instance, maxAgents: number, extra: TxPart[] = []): Promise<'created' | 'lost-race'> {
    try {
      await transact([
        txPart('agent', txPut(agentItem(agent))),
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

  /** Version-checked (or unconditional, when no version is given) change of agent fields. */
  async update(agentId: string, spec: { set: Record<string, unknown>; expectedVersion?: number }): Promise<Agent | undefined> {
    const item = await updateItem<Record<string, unknown>>(keys.agent(agentId), spec);
    // A changed hostname becomes searchable (admin search; the entry is idempotent).
    if (item && typeof spec.set.hostname === 'string') await putSearchEntries('agent', [[spec.set.hostname, agentId]]);
    return item ? toAgent(item) : undefined;
  },

  /** Transaction part: a guarded change of a live agent (version bumped); see {@link AgentChange}. */
  updateTx: agentUpdateTx,

  /** Transaction part: the agent is unchanged since it was read (check and bump of its version). */
  versionGuardTx: (agent: Pick<Agent, 'id' | 'version'>, part = 'agent-version'): TxPart =>
    agentUpdateTx(agent.id, { guard: { version: agent.version } }, part),

  /** Transaction part: the PRIMARY pointer and the placement fields move to `next` (see movePrimaryTx). */
  movePrimaryTx: (agent: Pick<Agent, 'id' | 'primary_instance_id'>, next: Instance, set: Record<string, unknown>): TxPart =>
    movePrimaryTx(agent.id, agent.primary_instance_id ?? null, { ...primaryFields(next), ...set }),

  /**
   * Ends a rebalance notice once its window passed, only while the notice and the PRIMARY are
   * still the ones the caller read; false when they changed (or the agent is gone).
   */
  async clearRebalanceNotice(agentId: string, primaryInstanceId: string): Promise<boolean> {
    try {
      const item = await updateItem(keys.agent(agentId), {
        set: { notice_status: 'none', notice_deadline: null },
        condition: where.and(where.eq('notice_status', 'rebalance'), where.eq('primary_instance_id', primaryInstanceId)),
      });
      return item !== undefined;
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
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
    guard: { clientId?: string; primaryInstanceId?: string; keepSwitching?: boolean; sameStatus?: boolean } = {},
  ): Promise<{ updated: boolean; old: Agent | undefined }> {
    const tracked = HEARTBEAT_TRACKED.has(status);
    const update = buildUpdate(keys.agent(agentId), {
      set: { status, last_heartbeat_at: at, ...placement, ...(tracked ? keys.heartbeatIndex(at) : {}) },
      remove: tracked ? [] : ['GSI3PK', 'GSI3SK'],
      bumpVersion: false,
      condition: where.and(
        where.ne('status', 'deleted'),
        guard.clientId && where.eq('client_id', guard.clientId),
        guard.primaryInstanceId && where.or(where.empty('primary_instance_id'), where.eq('primary_instance_id', guard.primaryInstanceId)),
        // `switching` is kept while a command is in flight: such an agent takes the caller's slow path.
        guard.keepSwitching &&
          where.not(where.and(where.eq('status', 'switching'), where.exists('inflight_command_id'), where.ne('inflight_command_id', null)) as Condition),
        // A status change is not telemetry: it takes the caller's slow path (applyHeartbeat) with its feed event.
        guard.sameStatus && where.eq('status', status),
      ),
    });
    try {
      const out = await ddb.send(new UpdateCommand({ ...update, ReturnValues: 'ALL_OLD', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      return { updated: true, old: out.Attributes ? toAgent(out.Attributes) : undefined };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const old = oldItemOf(err);
      return { updated: false, old: old ? toAgent(old) : undefined };
    }
  },

  /**
   * A heartbeat that changes the agent's status: one transaction of the agent — conditioned on its
   * status, PRIMARY and in-flight slot as read — and `extra` parts (its agent_status_changed event).
   * False when the agent moved meanwhile (re-read and decide again).
   */
  async applyHeartbeat(
    agent: Agent,
    status: AgentStatus,
    at: string,
    placement: Record<string, unknown>,
    extra: TxPart[] = [],
  ): Promise<boolean> {
    const tracked = HEARTBEAT_TRACKED.has(status);
    const change = agentUpdateTx(agent.id, {
      set: { status, last_heartbeat_at: at, ...placement, ...(tracked ? keys.heartbeatIndex(at) : {}) },
      leaveHeartbeatIndex: !tracked,
      bumpVersion: false,
      guard: { status: agent.status, primary: agent.primary_instance_id ?? null, inflight: agent.inflight_command_id ?? null },
    });
    try {
      // Nothing rides along (a kept `switching`): one conditional write, not a transaction (half the units).
      if (extra.length === 0) await ddb.send(new UpdateCommand(change.item.Update as UpdateCommandInput));
      else await transact([change, ...extra]);
      return true;
    } catch (err) {
      if ((err instanceof TransactionConflict && err.failedOn('agent')) || isConditionFailure(err)) return false;
      throw err;
    }
  },

  /**
   * Offline by timeout, only if no heartbeat arrived since the job read the agent — with `extra`
   * parts (its feed event and notification) in the same transaction. False when a heartbeat won.
   */
  async markOfflineIfStale(agent: Pick<Agent, 'id' | 'last_heartbeat_at'>, cutoff: string, extra: TxPart[] = []): Promise<boolean> {
    try {
      await transact([
        txPart(
          'agent',
          txUpdate(keys.agent(agent.id), {
            set: { status: 'offline' },
            remove: ['GSI3PK', 'GSI3SK'],
            bumpVersion: false,
            condition: where.and(
              where.in('status', ['online', 'switching']),
              where.eq('last_heartbeat_at', agent.last_heartbeat_at ?? ''),
              where.lt('last_heartbeat_at', cutoff),
            ),
          }),
        ),
        ...extra,
      ]);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict && err.failedOn('agent')) return false;
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
  async markDeleted(agent: Agent, at: string, extra: TxPart[] = [], ttl?: number): Promise<void> {
    await transact([
      txPart(
        'agent',
        txUpdate(keys.agent(agent.id), {
          set: { 'status': 'deleted', 'deleted_at': at, 'enabled': false, 'config.enabled': false, ...(ttl ? { ttl } : {}) },
          remove: ['GSI3PK', 'GSI3SK', 'inflight_command_id'],
          condition: where.ne('status', 'deleted'),
          mustExist: false,
        }),
      ),
      txPart('logical-id', txDelete(keys.logicalAgent(agent.client_id, agent.logical_agent_id), where.eq('agent_id', agent.id))),
      txPart(
        'live-counter',
        txUpdate(keys.client(agent.client_id), { add: { agents_live: -1 }, bumpVersion: false, mustExist: false, condition: where.gt('agents_live', 0) }),
      ),
      ...extra,
    ]);
  },
};
