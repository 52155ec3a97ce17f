import { type TransactWriteCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../domain/errors.js';
import type { Client, TokenRecord } from '../domain/types.js';
import { ddb, tableName } from './client.js';
import { cancellationReasons, getItem, queryPage, stripKeys, transact } from './conditions.js';
import { keys } from './keys.js';
import { searchEntryPuts } from './search-repo.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const tokenItem = (hash: string, record: TokenRecord, ttl?: number) => ({
  ...keys.token(hash),
  entity: 'token',
  ...record,
  ...(ttl ? { ttl } : {}),
});

/** Clients and their token items. */
export const clientsRepo = {
  async get(clientId: string): Promise<Client | undefined> {
    const item = await getItem(keys.client(clientId));
    return item ? (stripKeys(item) as unknown as Client) : undefined;
  },

  async findToken(tokenHash: string): Promise<TokenRecord | undefined> {
    const item = await getItem(keys.token(tokenHash), false);
    return item as TokenRecord | undefined;
  },

  /** Client + name guard + token in one transaction: a duplicate name writes nothing. */
  async create(client: Client): Promise<void> {
    try {
      await transact([
        {
          Put: {
            TableName: tableName(),
            Item: { ...keys.client(client.id), ...keys.clientsIndex(client.created_at, client.id), entity: 'client', ...client },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        {
          Put: {
            TableName: tableName(),
            Item: { ...keys.clientName(client.name), entity: 'client-name', client_id: client.id },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        {
          Put: {
            TableName: tableName(),
            Item: tokenItem(client.token_hash, { client_id: client.id, client_status: 'active', valid_until: null }),
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        // Admin search entry for the name (last, so the cancellation indexes above stay put).
        ...searchEntryPuts('client', [[client.name, client.id]]),
      ]);
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (reasons?.[1] === 'ConditionalCheckFailed') {
        throw new ConflictError('ALREADY_EXISTS', `a client named "${client.name}" already exists`, [
          { field: 'body.name', issue: 'duplicate' },
        ]);
      }
      throw err;
    }
  },

  /**
   * Replaces the token: the new token item, the client's hash, and the old token either deleted
   * (no grace) or limited to `validUntil` — one transaction, so there is never a moment with no
   * valid token or with a revoked one still accepted.
   */
  async replaceToken(
    client: Client,
    next: { hash: string; hint: string; createdAt: string },
    grace: { validUntil: string; ttl: number } | null,
  ): Promise<void> {
    const oldToken: TxItem = grace
      ? {
          Update: {
            TableName: tableName(),
            Key: keys.token(client.token_hash),
            UpdateExpression: 'SET valid_until = :until, #ttl = :ttl',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':until': grace.validUntil, ':ttl': grace.ttl },
          },
        }
      : { Delete: { TableName: tableName(), Key: keys.token(client.token_hash) } };
    try {
      await transact([
        {
          Update: {
            TableName: tableName(),
            Key: keys.client(client.id),
            UpdateExpression:
              'SET token_hash = :hash, token_hint = :hint, token_created_at = :at, #v = #v + :one',
            ConditionExpression: '#v = :expected AND #status <> :deleted',
            ExpressionAttributeNames: { '#v': 'version', '#status': 'status' },
            ExpressionAttributeValues: {
              ':hash': next.hash,
              ':hint': next.hint,
              ':at': next.createdAt,
              ':one': 1,
              ':expected': client.version,
              ':deleted': 'deleted',
            },
          },
        },
        oldToken,
        {
          Put: {
            TableName: tableName(),
            Item: tokenItem(next.hash, { client_id: client.id, client_status: client.status, valid_until: null }),
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
      ]);
    } catch (err) {
      if (cancellationReasons(err)?.[0] === 'ConditionalCheckFailed') {
        throw new ConflictError('VERSION_CONFLICT', 'the client changed while its token was being replaced; retry');
      }
      throw err;
    }
  },

  /** Soft delete: status deleted, token and name guard removed, data expires after `ttl`. */
  async markDeleted(client: Client, deletedAt: string, ttl: number): Promise<void> {
    await transact([
      {
        Update: {
          TableName: tableName(),
          Key: keys.client(client.id),
          UpdateExpression: 'SET #status = :deleted, deleted_at = :at, #ttl = :ttl, #v = #v + :one',
          ConditionExpression: '#status <> :deleted',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl', '#v': 'version' },
          ExpressionAttributeValues: { ':deleted': 'deleted', ':at': deletedAt, ':ttl': ttl, ':one': 1 },
        },
      },
      { Delete: { TableName: tableName(), Key: keys.token(client.token_hash) } },
      { Delete: { TableName: tableName(), Key: keys.clientName(client.name) } },
    ]);
  },

  async list(limit: number, nextToken?: string) {
    const page = await queryPage<Record<string, unknown>>(
      {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': 'CLIENTS' },
      },
      limit,
      nextToken,
    );
    return { items: page.items.map((i) => stripKeys(i) as unknown as Client), nextToken: page.nextToken };
  },

  /** Adds to the client's running savings total (ledger and snapshot job); not a versioned edit. */
  async addSavings(clientId: string, amount: number, lastSyncAt: string): Promise<void> {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.client(clientId),
        UpdateExpression: 'SET last_sync_at = :at ADD total_savings :amount',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':amount': amount, ':at': lastSyncAt },
      }),
    );
  },
};
