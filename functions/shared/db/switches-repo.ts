import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Switch } from '../domain/switches.js';
import type { Command } from '../domain/types.js';
import { ddb, tableName } from './client.js';
import { commandsRepo } from './commands-repo.js';
import { getItem, queryAll, queryPage, stripKeys, txPut, txUpdate, where } from './conditions.js';
import { keys } from './keys.js';
import { TransactionConflict, transact, type TxPart, txPart } from './transaction.js';

/**
 * Switch items and the open-switch slot.
 *
 * Access patterns (keys.ts):
 * - an agent's switches by time: `PK=AGENT#<aid>`, `SK=SWITCH#<initiated_at>#<id>` (limits, statistics);
 * - a client's history, newest first: GSI1 `CLIENT#<cid>#SWITCHES` / `<initiated_at>#<id>`;
 * - the natural key of switch-report: guard `PK=AGENT#<aid>`, `SK=SWITCHNK#<new_instance_id>` → switch id;
 * - installation counters: `STATS#SWITCHES` (ADDed in the same transaction as the switch).
 * Switches are history: they carry no TTL.
 */

const toSwitch = (item: Record<string, unknown>) => stripKeys(item) as unknown as Switch;

export function switchItem(sw: Switch) {
  return {
    ...keys.switch(sw.agent_id, sw.initiated_at, sw.id),
    ...keys.switchesOfClientIndex(sw.client_id, sw.initiated_at, sw.id),
    entity: 'switch',
    ...sw,
  };
}

/** Transaction parts storing a switch exactly once per (agent, new instance): guard + switch + counters. */
function recordTx(sw: Switch): TxPart[] {
  return [
    txPart(
      'switch-key',
      txPut({
        ...keys.switchNaturalKey(sw.agent_id, sw.new_instance_id),
        entity: 'switch-key',
        switch_id: sw.id,
        switch_sk: keys.switch(sw.agent_id, sw.initiated_at, sw.id).SK,
        savings_impact: sw.savings_impact,
        old_instance_outcome: sw.old_instance_outcome,
      }),
    ),
    txPart('switch', txPut(switchItem(sw))),
    txPart(
      'switch-counters',
      txUpdate(keys.switchCounters(), { set: { entity: 'switch-counters' }, add: { total: 1, [sw.trigger_type]: 1 }, bumpVersion: false, mustExist: false }),
    ),
  ];
}

export interface SwitchFilters {
  agentId?: string;
  instanceId?: string;
  trigger?: string;
  /** Inclusive ISO bounds on initiated_at. */
  from?: string;
  to?: string;
}

/** Key condition + filter for a client's history (the agent's own collection when agent_id is given). */
function historyQuery(clientId: string, f: SwitchFilters): Omit<QueryCommandInput, 'TableName'> {
  const values: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  const filters: string[] = [];
  // Key values cannot be empty: '0000' sorts before every ISO timestamp; `~` sorts after every
  // character used in ISO timestamps and ids, so `<to>~` includes switches initiated exactly at `to`.
  const lo = f.from ?? '0000';
  const hi = `${f.to ?? '9999'}~`;
  let input: Omit<QueryCommandInput, 'TableName'>;
  if (f.agentId) {
    values[':pk'] = keys.agent(f.agentId).PK;
    values[':lo'] = `${keys.switchPrefix}${lo}`;
    values[':hi'] = `${keys.switchPrefix}${hi}`;
    // The agent's collection: only this client's switches (an agent never changes client).
    values[':cid'] = clientId;
    filters.push('client_id = :cid');
    input = { KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lo AND :hi' };
  } else {
    values[':pk'] = keys.switchesOfClientIndex(clientId, '', '').GSI1PK;
    values[':lo'] = lo;
    values[':hi'] = hi;
    input = { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi' };
  }
  if (f.instanceId) {
    values[':iid'] = f.instanceId;
    filters.push('(old_instance_id = :iid OR new_instance_id = :iid)');
  }
  if (f.trigger) {
    values[':trigger'] = f.trigger;
    names['#trigger'] = 'trigger_type';
    filters.push('#trigger = :trigger');
  }
  return {
    ...input,
    ExpressionAttributeValues: values,
    ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
    ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
    ScanIndexForward: false,
  };
}

export const switchesRepo = {
  recordTx,

  /** The switch a natural key already recorded (switch-report retry), or undefined. */
  async getByNaturalKey(agentId: string, newInstanceId: string): Promise<Switch | undefined> {
    const guard = await getItem<{ switch_sk: string }>(keys.switchNaturalKey(agentId, newInstanceId));
    if (!guard) return undefined;
    const item = await getItem({ PK: keys.agent(agentId).PK, SK: guard.switch_sk });
    return item ? toSwitch(item) : undefined;
  },

  /** An agent's switches initiated in [from, to], oldest first. */
  async listByAgent(agentId: string, from: string, to?: string): Promise<Switch[]> {
    const items = await queryAll<Record<string, unknown>>({
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lo AND :hi',
      ExpressionAttributeValues: {
        ':pk': keys.agent(agentId).PK,
        ':lo': `${keys.switchPrefix}${from}`,
        ':hi': `${keys.switchPrefix}${to ?? '9999'}~`,
      },
    });
    return items.map(toSwitch);
  },

  /** One page of a client's history, newest first, plus the total matching the filters. */
  async pageByClient(clientId: string, filters: SwitchFilters, limit: number, nextToken?: string) {
    const query = historyQuery(clientId, filters);
    const page = await queryPage<Record<string, unknown>>(query, limit, nextToken);
    return { items: page.items.map(toSwitch), nextToken: page.nextToken };
  },

  /** How many switches match (a COUNT query; reads keys and filters only what the range holds). */
  async countByClient(clientId: string, filters: SwitchFilters): Promise<number> {
    const query = historyQuery(clientId, filters);
    let total = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(
        new QueryCommand({ TableName: tableName(), ...query, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      total += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return total;
  },

  /** Every matching switch, newest first, up to `max` (CSV exports, analytics). */
  async listByClient(clientId: string, filters: SwitchFilters, max: number): Promise<Switch[]> {
    const items = await queryAll<Record<string, unknown>>(historyQuery(clientId, filters), max);
    return items.slice(0, max).map(toSwitch);
  },

  /** Installation-wide counts by trigger (admin stats). */
  async counters(): Promise<{ total: number; manual: number; model: number; emergency: number; scheduled: number }> {
    const item = await getItem<Record<string, number>>(keys.switchCounters(), false);
    return {
      total: item?.total ?? 0,
      manual: item?.manual ?? 0,
      model: item?.model ?? 0,
      emergency: item?.emergency ?? 0,
      scheduled: item?.scheduled ?? 0,
    };
  },

  /**
   * Queues a switch command and takes the agent's open-switch slot in ONE transaction.
   *
   * The agent item is conditioned on: not deleted, no command in flight, and the slot being
   * exactly what the caller read (`seenSlot`: empty, a stale/final command, or the lower-priority
   * pending command `supersede` that this transaction cancels). Two concurrent callers that read
   * the same slot cannot both win: the loser's condition fails and it re-reads (and then sees the
   * winner's command). Returns false when a condition failed (re-read and decide again). `extra`:
   * parts that commit with it (its feed events).
   */
  async openSwitch(
    command: Command,
    seenSlot: string | null,
    supersede: Command | null,
    at: string,
    extra: TxPart[] = [],
  ): Promise<boolean> {
    const parts: TxPart[] = [
      txPart(
        'open-switch-slot',
        txUpdate(keys.agent(command.agent_id), {
          set: { open_switch_id: command.id, open_switch_priority: command.priority },
          bumpVersion: false,
          condition: where.and(where.ne('status', 'deleted'), where.empty('inflight_command_id'), where.is('open_switch_id', seenSlot)),
        }),
      ),
      commandsRepo.createTx(command),
    ];
    if (supersede) parts.push(commandsRepo.cancelTx(supersede, at, `superseded by ${command.trigger_type} switch ${command.id}`));
    parts.push(...extra);
    try {
      await transact(parts);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict) return false;
      throw err;
    }
  },
};
