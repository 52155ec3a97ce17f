import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.js';
import { batchGet, type Item, type Key, queryPage, stripKeys, txPut } from './conditions.js';
import { keys } from './keys.js';
import { type TxPart, txPart } from './transaction.js';

export type SearchKind = 'client' | 'agent' | 'instance';

/** Names shorter than the minimum query (2 characters) can never match a prefix: not indexed. */
const MIN_INDEXED = 2;

const entryItem = (kind: SearchKind, name: string, id: string) => ({
  ...keys.searchEntry(kind, name, id),
  entity: 'search-entry',
  kind,
  ref_id: id,
  name,
});

/**
 * Transaction parts adding search entries for (name, id) pairs (admin search, keys.searchEntry),
 * without the names too short to index. Unconditional Puts of deterministic keys: writing one again
 * is a no-op, so they join any create/rename transaction without a condition of their own.
 */
export function searchEntryTx(kind: SearchKind, entries: Array<[string | null | undefined, string]>): TxPart[] {
  // A transaction may not touch one key twice (e.g. a hostname equal to the instance id).
  const byKey = new Map<string, TxPart>();
  for (const [name, id] of entries) {
    const trimmed = name?.trim() ?? '';
    if (trimmed.length < MIN_INDEXED) continue;
    const item = entryItem(kind, trimmed, id);
    byKey.set(`${item.PK}|${item.SK}`, txPart('search-entry', txPut(item, { overwrite: true })));
  }
  return [...byKey.values()];
}

/** Writes search entries outside a transaction (renames done by a plain update). */
export async function putSearchEntries(kind: SearchKind, entries: Array<[string | null | undefined, string]>): Promise<void> {
  for (const { item } of searchEntryTx(kind, entries)) {
    if (item.Put) await ddb.send(new PutCommand({ TableName: item.Put.TableName, Item: item.Put.Item }));
  }
}

interface SearchHit extends Item {
  kind: SearchKind;
  ref_id: string;
  name: string;
}

const entityKey = (kind: SearchKind, id: string): Key =>
  kind === 'client' ? keys.client(id) : kind === 'agent' ? keys.agent(id) : keys.instance(id);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Does the entity still carry a name that the prefix matches (entries of renamed names stay behind)? */
function stillMatches(kind: SearchKind, entity: Item, prefix: string): boolean {
  const name = kind === 'client' ? entity.name : entity.hostname;
  return typeof name === 'string' && name.toLowerCase().startsWith(prefix);
}

/** Entries whose lower-cased name starts with `prefix` (≥ 2 characters), in name order: one page. */
function prefixPage(kind: SearchKind, prefix: string, limit: number, nextToken?: string) {
  return queryPage<SearchHit>(
    {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.searchEntry(kind, prefix, '').PK, ':prefix': prefix },
    },
    limit,
    nextToken,
  );
}

/**
 * Deletes entries whose entity no longer exists (it expired by TTL or was never completed):
 * housekeeping done by the reader that found them, so dead names do not pile up in front of
 * live ones. Idempotent (deleting a missing key is a no-op).
 */
async function removeDangling(entries: Key[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 25) {
    const batch = entries.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
    await ddb.send(new BatchWriteCommand({ RequestItems: { [tableName()]: batch } }));
  }
}

export const searchRepo = {
  /**
   * Up to `limit` entities of a kind for a query (admin search, no Scan): an exact id first (an
   * instance id as typed or lower-cased, a UUID for clients and agents), then prefix matches of
   * the search index verified against the entity itself. Entries of gone entities are removed on
   * the way (`onCleanupError` hears about a failed cleanup; the search still answers).
   */
  async find(kind: SearchKind, query: string, limit: number, onCleanupError: (err: unknown) => void): Promise<Item[]> {
    const prefix = query.toLowerCase();
    const found = new Map<string, Item>();
    const exactIds = kind === 'instance' ? [...new Set([query, prefix])] : UUID.test(query) ? [prefix] : [];
    if (exactIds.length > 0) {
      const exact = await batchGet(exactIds.map((id) => entityKey(kind, id)));
      for (const item of exact.values()) found.set(String(item.id), item);
    }
    let token: string | undefined;
    for (let round = 0; round < 3 && found.size < limit; round++) {
      const page = await prefixPage(kind, prefix, 2 * limit, token);
      const hits = page.items.filter((h) => !found.has(String(h.ref_id)));
      const entities = await batchGet(hits.map((h) => entityKey(kind, String(h.ref_id))));
      const dangling: Key[] = [];
      for (const hit of hits) {
        const key = entityKey(kind, String(hit.ref_id));
        const entity = entities.get(`${key.PK}|${key.SK}`);
        if (!entity) dangling.push({ PK: String(hit.PK), SK: String(hit.SK) });
        else if (stillMatches(kind, entity, prefix) && found.size < limit) found.set(String(hit.ref_id), entity);
      }
      if (dangling.length > 0) await removeDangling(dangling).catch(onCleanupError);
      if (!page.nextToken) break;
      token = page.nextToken;
    }
    return [...found.values()].slice(0, limit).map(stripKeys);
  },
};
