import { type TransactWriteCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { addSeconds, deliveredLifetimeSeconds } from '../domain/commands.js';
import { ConflictError } from '../domain/errors.js';
import type { Command, CommandStatus } from '../domain/types.js';
import { ddb, tableName } from './client.js';
import { cancellationReasons, getItem, queryAll, queryPage, stripKeys, transact } from './conditions.js';
import { keys } from './keys.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

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

/** Transaction item that creates a command (never overwrites). */
export const putCommandTx = (command: Command): TxItem => ({
  Put: { TableName: tableName(), Item: commandItem(command), ConditionExpression: 'attribute_not_exists(PK)' },
});

/** Transaction item that cancels a pending command (no-op condition failure if it moved on). */
export const cancelCommandTx = (command: Command, at: string, reason: string): TxItem => ({
  Update: {
    TableName: tableName(),
    Key: keys.command(command.agent_id, command.id),
    UpdateExpression:
      'SET #status = :cancelled, completed_at = :at, message = :reason, #v = #v + :one REMOVE GSI1PK, GSI1SK, GSI2PK, GSI2SK',
    ConditionExpression: '#status = :pending',
    ExpressionAttributeNames: { '#status': 'status', '#v': 'version' },
    ExpressionAttributeValues: { ':cancelled': 'cancelled', ':at': at, ':reason': reason, ':one': 1, ':pending': 'pending' },
  },
});

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

  /** Every command of an agent (item collection), for history views and cancellation sweeps. */
  async listByAgent(agentId: string): Promise<Command[]> {
    const items = await queryAll<Record<string, unknown>>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.agent(agentId).PK, ':prefix': keys.commandPrefix },
    });
    return items.map(toCommand);
  },

  async create(command: Command): Promise<void> {
    await transact([putCommandTx(command)]);
  },

  /**
   * Delivers the first pending command: pending → acknowledged and the agent's in-flight slot taken,
   * in one transaction (API.md §4.4: at most one command in flight per agent). Returns false when
   * the slot is taken or the command moved on.
   */
  async deliver(command: Command, at: string, switching: boolean): Promise<boolean> {
    const expiresAt = addSeconds(at, deliveredLifetimeSeconds(command));
    const open = keys.openCommandIndex(expiresAt, command.id);
    try {
      await transact([
        {
          Update: {
            TableName: tableName(),
            Key: keys.command(command.agent_id, command.id),
            UpdateExpression:
              'SET #status = :ack, delivered_at = :at, expires_at = :exp, GSI2SK = :gsi2, #v = #v + :one REMOVE GSI1PK, GSI1SK',
            ConditionExpression: '#status = :pending',
            ExpressionAttributeNames: { '#status': 'status', '#v': 'version' },
            ExpressionAttributeValues: {
              ':ack': 'acknowledged',
              ':at': at,
              ':exp': expiresAt,
              ':gsi2': open.GSI2SK,
              ':one': 1,
              ':pending': 'pending',
            },
          },
        },
        {
          Update: {
            TableName: tableName(),
            Key: keys.agent(command.agent_id),
            UpdateExpression: switching
              ? 'SET inflight_command_id = :cmd, #status = :switching'
              : 'SET inflight_command_id = :cmd',
            ConditionExpression:
              '(attribute_not_exists(inflight_command_id) OR inflight_command_id = :null) AND #status <> :deleted',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':cmd': command.id,
              ':null': null,
              ':deleted': 'deleted',
              ...(switching ? { ':switching': 'switching' } : {}),
            },
          },
        },
      ]);
      return true;
    } catch (err) {
      if (cancellationReasons(err)) return false;
      throw err;
    }
  },

  /**
   * Records a command's result and frees the agent's in-flight slot; a switching agent returns to
   * online. Conditioned on the command not being final, so a duplicate report cannot apply twice.
   */
  async finish(command: Command, status: Extract<CommandStatus, 'completed' | 'failed' | 'expired'>, at: string, message: string | null): Promise<void> {
    const items: TxItem[] = [
      {
        Update: {
          TableName: tableName(),
          Key: keys.command(command.agent_id, command.id),
          UpdateExpression:
            'SET #status = :status, completed_at = :at, success = :success, message = :message, #v = #v + :one REMOVE GSI1PK, GSI1SK, GSI2PK, GSI2SK',
          ConditionExpression: '#status IN (:pending, :ack, :exec)',
          ExpressionAttributeNames: { '#status': 'status', '#v': 'version' },
          ExpressionAttributeValues: {
            ':status': status,
            ':at': at,
            ':success': status === 'completed' ? true : status === 'failed' ? false : null,
            ':message': message,
            ':one': 1,
            ':pending': 'pending',
            ':ack': 'acknowledged',
            ':exec': 'executing',
          },
        },
      },
    ];
    items.push({
      Update: {
        TableName: tableName(),
        Key: keys.agent(command.agent_id),
        UpdateExpression: 'REMOVE inflight_command_id',
        ConditionExpression: 'inflight_command_id = :cmd',
        ExpressionAttributeValues: { ':cmd': command.id },
      },
    });
    try {
      await transact(items);
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) throw err;
      if (reasons[0] === 'ConditionalCheckFailed') {
        throw new ConflictError('INVALID_TRANSITION', 'the command already has a final status');
      }
      // The agent's slot no longer names this command (e.g. it was never delivered): finish alone.
      await transact([items[0] as TxItem]);
    }
    if (status !== 'expired') {
      // Leaving `switching` is a separate, conditional write: only a switching agent changes.
      await ddb
        .send(
          new UpdateCommand({
            TableName: tableName(),
            Key: keys.agent(command.agent_id),
            UpdateExpression: 'SET #status = :online',
            ConditionExpression: '#status = :switching',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':online': 'online', ':switching': 'switching' },
          }),
        )
        .catch((err: unknown) => {
          if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
        });
    }
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

  async cancel(command: Command, at: string, reason: string): Promise<boolean> {
    try {
      await transact([cancelCommandTx(command, at, reason)]);
      return true;
    } catch (err) {
      if (cancellationReasons(err)) return false;
      throw err;
    }
  },
};
