import { ConflictError } from '../domain/errors.js';
import type { Client, TokenRecord } from '../domain/types.js';
import { batchGet, type Condition, getItem, queryPage, stripKeys, txDelete, txPut, txUpdate, where } from './conditions.js';
import { keys } from './keys.js';
import { searchEntryTx } from './search-repo.js';
import { TransactionConflict, transact, type TxPart, txPart } from './transaction.js';

const tokenItem = (hash: string, record: TokenRecord, ttl?: number) => ({
  ...keys.token(hash),
  entity: 'token',
  ...record,
  ...(ttl ? { ttl } : {}),
});

/** A client that may still change: not being deleted, not deleted. */
const LIVE = where.in('status', ['active', 'inactive']) as Condition;

/** At most this many replaced tokens stay valid in their grace period; a further regenerate revokes the oldest. */
export const MAX_GRACE_TOKENS = 5;

/** Every token hash the client holds: the current one and those in their grace period. */
const tokenHashesOf = (client: Client): string[] => [...new Set([client.token_hash, ...Object.keys(client.grace_tokens ?? {})])];

/** Clients and their token items. */
export const clientsRepo = {
  async get(clientId: string): Promise<Client | undefined> {
    const item = await getItem(keys.client(clientId));
    return item ? (stripKeys(item) as unknown as Client) : undefined;
  },

  async findToken(tokenHash: string): Promise<TokenRecord | undefined> {
    // Strongly consistent: a token revoked a moment ago must not be read back from a lagging replica.
    const item = await getItem(keys.token(tokenHash), true);
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
   * Replaces the token in one transaction, version-checked against the client as read (so the set of
   * grace tokens below is the current one): the new token item and hash; with a grace period the old
   * token is limited to `validUntil` and joins `grace_tokens` (the oldest beyond
   * {@link MAX_GRACE_TOKENS} is revoked now); without one, the old token and every grace token are
   * deleted at once. There is never a moment with no valid token or with a revoked one accepted.
   */
  async replaceToken(
    client: Client,
    next: { hash: string; hint: string; createdAt: string; issuedBy?: string | null },
    grace: { validUntil: string; ttl: number } | null,
    /** With no grace: keep the other tokens' grace periods, revoke only the current token (one nobody saw). */
    options: { keepGraceTokens?: boolean } = {},
  ): Promise<void> {
    const previous = Object.entries(client.grace_tokens ?? {}).filter(([hash]) => hash !== client.token_hash);
    const kept = grace ? [...previous, [client.token_hash, grace.validUntil] as [string, string]] : options.keepGraceTokens ? previous : [];
    // Expired grace tokens are revoked (their items may already be gone by TTL: deleting is harmless).
    const live = kept.filter(([, until]) => until > next.createdAt).sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0));
    const keep = live.slice(Math.max(0, live.length - MAX_GRACE_TOKENS));
    const keptHashes = new Set(keep.map(([hash]) => hash));
    const revoked = [client.token_hash, ...previous.map(([hash]) => hash)].filter((hash) => !keptHashes.has(hash));
    try {
      await transact([
        txPart(
          'client',
          txUpdate(keys.client(client.id), {
            set: {
              token_hash: next.hash,
              token_hint: next.hint,
              token_created_at: next.createdAt,
              token_issued_by: next.issuedBy ?? null,
              grace_tokens: Object.fromEntries(keep),
            },
            expectedVersion: client.version,
            condition: LIVE,
          }),
        ),
        ...(grace && keptHashes.has(client.token_hash)
          ? [txPart('old-token', txUpdate(keys.token(client.token_hash), { set: { valid_until: grace.validUntil, ttl: grace.ttl }, bumpVersion: false, mustExist: false }))]
          : []),
        ...revoked.map((hash) => txPart('revoked-token', txDelete(keys.token(hash)))),
        txPart('new-token', txPut(tokenItem(next.hash, { client_id: client.id, client_status: client.status, valid_until: null }))),
      ]);
    } catch (err) {
      if (err instanceof TransactionConflict && err.failedOn('client')) {
        throw new ConflictError('VERSION_CONFLICT', 'the client changed while its token was being replaced; retry');
      }
      throw err;
    }
  },

  /**
   * First step of a client delete: status `deleting` with a lease, and every token of the client
   * (current and grace) deleted — one transaction, version-checked so a concurrent regenerate cannot
   * slip a token past it. From then on the client's tokens are 401 everywhere, and registration and
   * alert creation (whose transactions require a live client) are refused. A delete whose lease has
   * expired (it crashed or timed out) is taken over. Returns the client as it was, or why not.
   */
  async beginDelete(client: Client, nowIso: string, leaseUntil: string): Promise<'begun' | 'changed'> {
    const resumable = where.and(where.eq('status', 'deleting'), where.or(where.empty('delete_lease_until'), where.lt('delete_lease_until', nowIso)));
    try {
      await transact([
        txPart(
          'client',
          txUpdate(keys.client(client.id), {
            set: { status: 'deleting', delete_lease_until: leaseUntil },
            expectedVersion: client.version,
            condition: where.or(LIVE, resumable),
          }),
        ),
        ...tokenHashesOf(client).map((hash) => txPart('token', txDelete(keys.token(hash)))),
      ]);
      return 'begun';
    } catch (err) {
      if (err instanceof TransactionConflict && (err.failedOn('client') || err.contended.length > 0)) return 'changed';
      throw err;
    }
  },

  /** Last step of a client delete: `deleted`, the name released, any token left deleted; data expires after `ttl`. */
  async finishDelete(client: Client, deletedAt: string, ttl: number): Promise<void> {
    await transact([
      txPart(
        'client',
        txUpdate(keys.client(client.id), {
          set: { status: 'deleted', deleted_at: deletedAt, ttl, grace_tokens: {} },
          remove: ['delete_lease_until'],
          condition: where.eq('status', 'deleting'),
        }),
      ),
      ...tokenHashesOf(client).map((hash) => txPart('token', txDelete(keys.token(hash)))),
      txPart('client-name', txDelete(keys.clientName(client.name), where.or(where.absent('PK'), where.eq('client_id', client.id)))),
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
