import { addSeconds, deliveredLifetimeSeconds } from '../domain/commands.js';
import { ConflictError } from '../domain/errors.js';
import type { Command, CommandStatus } from '../domain/types.js';
import { agentsRepo } from './agents-repo.js';
import { getItem, queryAll, queryPage, stripKeys, txPut, txUpdate, where } from './conditions.js';
import { keys } from './keys.js';
import { TransactionConflict, transact, type TxPart, txPart } from './transaction.js';

const toCommand = (item: Record<string, unknown>) => stripKeys(item) as unknown as Command;

/** Stored command: pending ones are in the pending index, open ones in the expiry index. */
export function commandItem(command: Command) {
  return {
    ...keys.command(command.agent_id, command.id),
    ...(command.status === 'pending'
      ? keys.pendingCommandIndex(command.agent_id, command.priority, command.created_at, command.id)
      : {}),
    ...keys.openCommandIndex(command.expires_at, command.id),
    entity: 'command',
    ...command,
  };
}

const OPEN_STATUSES = ['pending', 'acknowledged', 'executing'];
/** Leaving every index: a final command is neither pending nor open. */
const INDEXES = ['GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK'];

/**
 * Transaction part that creates a command (never overwrites). It bumps the agent's command revision
 * on its live item in the same transaction: the pending-commands poll trusts its "nothing
 * deliverable" mark only while that revision is unchanged.
 */
const createTx = (command: Command, part = 'command'): TxPart =>
  txPart(part, txPut(commandItem(command)), [{ part: 'agent-live', key: keys.agentLive(command.agent_id), add: { command_rev: 1 } }]);

/** Transaction part that cancels a pending command (its condition fails if it moved on). */
const cancelTx = (command: Command, at: string, reason: string, part = 'cancel-command'): TxPart =>
  txPart(
    part,
    txUpdate(keys.command(command.agent_id, command.id), {
      set: { status: 'cancelled', completed_at: at, message: reason },
      remove: INDEXES,
      condition: where.eq('status', 'pending'),
      mustExist: false,
    }),
  );

/** Transaction part recording a command's result, conditioned on it not being final yet. */
const finishTx = (
  command: Command,
  status: Extract<CommandStatus, 'completed' | 'failed' | 'expired'>,
  at: string,
  message: string | null,
  part = 'command',
): TxPart =>
  txPart(
    part,
    txUpdate(keys.command(command.agent_id, command.id), {
      set: {
        status,
        completed_at: at,
        success: status === 'completed' ? true : status === 'failed' ? false : null,
        message,
      },
      remove: INDEXES,
      condition: where.in('status', OPEN_STATUSES),
      mustExist: false,
    }),
  );

export const commandsRepo = {
  async get(agentId: string, commandId: string): Promise<Command | undefined> {
    const item = await getItem(keys.command(agentId, commandId));
    return item ? toCommand(item) : undefined;
  },

  /** Pending commands in delivery order: priority desc, then oldest (GSI1, sparse). */
  async listPending(agentId: string, limit = 20): Promise<Command[]> {
    const page = await queryPage<Record<string, unknown>>(
      {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': `AGENT#${agentId}#PENDING` },
      },
      limit,
    );
    return page.items.map(toCommand);
  },

  /** Whether the agent has a pending command matching `match`: its item collection read strongly (the index may lag). */
  async anyPending(agentId: string, match: (c: Command) => boolean): Promise<boolean> {
    const items = await queryAll<Record<string, unknown>>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      FilterExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pk': keys.agent(agentId).PK, ':prefix': keys.commandPrefix, ':pending': 'pending' },
      ConsistentRead: true,
    });
    return items.map(toCommand).some(match);
  },

  /** Every command of an agent (item collection), for history views and cancellation sweeps. */
  async listByAgent(agentId: string): Promise<Command[]> {
    const items = await queryAll<Record<string, unknown>>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.agent(agentId).PK, ':prefix': keys.commandPrefix },
    });
    return items.map(toCommand);
  },

  createTx,
  cancelTx,
  finishTx,

  /** Creates a command with `extra` parts (its feed event); false when one with its id already exists (ids derived from a fact are written once). */
  async create(command: Command, extra: TxPart[] = []): Promise<boolean> {
    try {
      await transact([createTx(command), ...extra]);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict && err.failedOn('command')) return false;
      throw err;
    }
  },

  /**
   * Delivers the first pending command: pending → acknowledged and the agent's in-flight slot taken,
   * in one transaction (API.md §4.4: at most one command in flight per agent), with `extra` parts
   * (its feed event). Returns false when the slot is taken or the command moved on.
   */
  async deliver(command: Command, at: string, switching: boolean, extra: TxPart[] = []): Promise<boolean> {
    const expiresAt = addSeconds(at, deliveredLifetimeSeconds(command));
    try {
      await transact([
        txPart(
          'command',
          txUpdate(keys.command(command.agent_id, command.id), {
            set: { status: 'acknowledged', delivered_at: at, expires_at: expiresAt, GSI2SK: keys.openCommandIndex(expiresAt, command.id).GSI2SK },
            remove: ['GSI1PK', 'GSI1SK'],
            condition: where.eq('status', 'pending'),
            mustExist: false,
          }),
        ),
        agentsRepo.updateTx(
          command.agent_id,
          {
            set: { inflight_command_id: command.id, ...(switching ? { status: 'switching' } : {}) },
            bumpVersion: false,
            mustExist: false,
            condition: where.empty('inflight_command_id'),
          },
          'inflight-slot',
        ),
        ...extra,
      ]);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict) return false;
      throw err;
    }
  },

  /** Whether `command` was delivered at `at` (a delivery whose commit was not confirmed, read back). */
  async deliveredAt(command: Command, at: string): Promise<boolean> {
    const current = await getItem<Command>(keys.command(command.agent_id, command.id));
    return current?.status === 'acknowledged' && current.delivered_at === at;
  },

  /**
   * Records a command's result, frees the agent's in-flight slot when it holds the command and
   * returns a `switching` agent to online — one transaction with `extra` parts (its feed event),
   * conditioned on the command not being final, so a duplicate report cannot apply twice and no
   * crash can leave the slot taken or the agent switching after its command ended.
   */
  async finish(
    command: Command,
    status: Extract<CommandStatus, 'completed' | 'failed' | 'expired'>,
    at: string,
    message: string | null,
    extra: TxPart[] = [],
  ): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const agent = await getItem<{ status?: string; inflight_command_id?: string | null }>(keys.agent(command.agent_id));
      const holds = agent?.inflight_command_id === command.id;
      // No command in flight any more: the agent is no longer switching (for this one or a lost one).
      const leaveSwitching = agent?.status === 'switching' && (holds || !agent.inflight_command_id);
      const slot =
        holds || leaveSwitching
          ? [
              agentsRepo.updateTx(
                command.agent_id,
                {
                  ...(leaveSwitching ? { set: { status: 'online' } } : {}),
                  remove: holds ? ['inflight_command_id'] : [],
                  bumpVersion: false,
                  condition: where.and(
                    where.is('inflight_command_id', holds ? command.id : null),
                    leaveSwitching && where.eq('status', 'switching'),
                  ),
                },
                'inflight-slot',
              ),
            ]
          : [];
      try {
        await transact([finishTx(command, status, at, message), ...slot, ...extra]);
        return;
      } catch (err) {
        if (!(err instanceof TransactionConflict)) throw err;
        if (err.failedOn('command')) throw new ConflictError('INVALID_TRANSITION', 'the command already has a final status');
        // The agent changed between the read and the write: read it again.
      }
    }
    throw new ConflictError('VERSION_CONFLICT', 'the agent kept changing while the command was finished; retry');
  },

  /** Open commands whose expiry time has passed (GSI2, sparse), oldest first. */
  async listExpired(now: string, limit = 500): Promise<Command[]> {
    const items = await queryAll<Record<string, unknown>>(
      {
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK < :now',
        ExpressionAttributeValues: { ':pk': 'COMMANDS#OPEN', ':now': now },
      },
      limit,
    );
    return items.map(toCommand);
  },

  /** Cancels a pending command with `extra` parts (its feed event); false when it moved on. */
  async cancel(command: Command, at: string, reason: string, extra: TxPart[] = []): Promise<boolean> {
    try {
      await transact([cancelTx(command, at, reason), ...extra]);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict) return false;
      throw err;
    }
  },
};
