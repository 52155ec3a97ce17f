import { ConflictError } from '../domain/errors.js';
import type { Client, TokenRecord } from '../domain/types.js';
import { batchGet, getItem, queryPage, stripKeys, txDelete, txPut, txUpdate, where } from './conditions.js';
import { keys } from './keys.js';
import { searchEntryTx } from './search-repo.js';
import { TransactionConflict, transact, type TxPart, txPart } from './transaction.js';

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
        txPart('client', txPut({ ...keys.client(client.id), ...keys.clientsIndex(client.created_at, client.id), entity: 'client', ...client })),
        txPart('client-name', txPut({ ...keys.clientName(client.name), entity: 'client-name', client_id: client.id })),
        txPart('token', txPut(tokenItem(client.token_hash, { client_id: client.id, client_status: 'active', valid_until: null }))),
        ...searchEntryTx('client', [[client.name, client.id]]),
      ]);
    } catch (err) {
      if (err instanceof TransactionConflict && err.failedOn('client-name')) {
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
    next: { hash: string; hint: string; createdAt: string; issuedBy?: string | null },
    grace: { validUntil: string; ttl: number } | null,
  ): Promise<void> {
    const oldToken = grace
      ? txUpdate(keys.token(client.token_hash), {
          set: { valid_until: grace.validUntil, ttl: grace.ttl },
          bumpVersion: false,
          mustExist: false,
        })
      : txDelete(keys.token(client.token_hash));
    try {
      await transact([
        txPart(
          'client',
          txUpdate(keys.client(client.id), {
            set: { token_hash: next.hash, token_hint: next.hint, token_created_at: next.createdAt, token_issued_by: next.issuedBy ?? null },
            expectedVersion: client.version,
            condition: where.ne('status', 'deleted'),
          }),
        ),
        txPart('old-token', oldToken),
        txPart('new-token', txPut(tokenItem(next.hash, { client_id: client.id, client_status: client.status, valid_until: null }))),
      ]);
    } catch (err) {
      if (err instanceof TransactionConflict && err.failedOn('client')) {
        throw new ConflictError('VERSION_CONFLICT', 'the client changed while its token was being replaced; retry');
      }
      throw err;
    }
  },

  /** Soft delete: status deleted, token and name guard removed, data expires after `ttl`. */
  async markDeleted(client: Client, deletedAt: string, ttl: number): Promise<void> {
    await transact([
      txPart(
        'client',
        txUpdate(keys.client(client.id), {
          set: { status: 'deleted', deleted_at: deletedAt, ttl },
          condition: where.ne('status', 'deleted'),
          mustExist: false,
        }),
      ),
      txPart('token', txDelete(keys.token(client.token_hash))),
      txPart('client-name', txDelete(keys.clientName(client.name))),
    ]);
  },

  /** `name` of each client id (one BatchGet); unknown ids are absent. */
  async names(ids: string[]): Promise<Map<string, string | null>> {
    const found = await batchGet([...new Set(ids)].map((id) => keys.client(id)), ['id', 'name']);
    const names = new Map<string, string | null>();
    for (const item of found.values()) names.set(String(item.id), typeof item.name === 'string' ? item.name : null);
    return names;
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

  /** Transaction part adding to the client's running savings total (daily snapshot); not a versioned edit. */
  addSavingsTx(clientId: string, amount: number, lastSyncAt: string): TxPart {
    return txPart('client-total', txUpdate(keys.client(clientId), { set: { last_sync_at: lastSyncAt }, add: { total_savings: amount }, bumpVersion: false }));
  },
};
