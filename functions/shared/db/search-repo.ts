import { BatchGetCommand, BatchWriteCommand, PutCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.js';
import { type Item, type Key, queryPage } from './conditions.js';
import { keys } from './keys.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export type SearchKind = 'client' | 'agent' | 'instance';

/** Names shorter than the minimum query (2 characters) can never match a prefix: not indexed. */
const MIN_INDEXED = 2;

/**
 * Transaction item adding a search entry for `name` (admin search, keys.searchEntry), or undefined
 * when there is nothing to index. Unconditional Put of a deterministic key: writing it again is a
 * no-op, so it can join any create/rename transaction without a condition of its own.
 */
export function searchEntryPut(kind: SearchKind, name: string | null | undefined, id: string): TxItem | undefined {
  const trimmed = name?.trim() ?? '';
  if (trimmed.length < MIN_INDEXED) return undefined;
  return {
    Put: {
      TableName: tableName(),
      Item: { ...keys.searchEntry(kind, trimmed, id), entity: 'search-entry', kind, ref_id: id, name: trimmed },
    },
  };
}

/** The search entries for a list of (name, id) pairs, without gaps. */
export function searchEntryPuts(kind: SearchKind, entries: Array<[string | null | undefined, string]>): TxItem[] {
  // A transaction may not touch one key twice (e.g. a hostname equal to the instance id).
  const byKey = new Map<string, TxItem>();
  for (const [name, id] of entries) {
    const put = searchEntryPut(kind, name, id);
    if (put?.Put) byKey.set(`${String(put.Put.Item?.PK)}|${String(put.Put.Item?.SK)}`, put);
  }
  return [...byKey.values()];
}

/** Writes search entries outside a transaction (renames done by a plain update). */
export async function putSearchEntries(kind: SearchKind, entries: Array<[string | null | undefined, string]>): Promise<void> {
  for (const tx of searchEntryPuts(kind, entries)) {
    if (tx.Put) await ddb.send(new PutCommand({ TableName: tx.Put.TableName, Item: tx.Put.Item }));
  }
}

export interface SearchHit {
  kind: SearchKind;
  ref_id: string;
  name: string;
}

export const searchRepo = {
  /**
   * Entries whose lower-cased name starts with `prefix` (≥ 2 characters), in name order. One
   * page of a Query on the prefix's partition; `nextToken` continues it.
   */
  async prefix(kind: SearchKind, prefix: string, limit: number, nextToken?: string) {
    const lower = prefix.trim().toLowerCase();
    const pk = keys.searchEntry(kind, lower, '').PK;
    const page = await queryPage<SearchHit & Item>(
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': lower },
      },
      limit,
      nextToken,
    );
    return page;
  },

  /**
   * Deletes entries whose entity no longer exists (it expired by TTL or was never completed):
   * housekeeping done by the reader that found them, so dead names do not pile up in front of
   * live ones. Idempotent (deleting a missing key is a no-op).
   */
  async removeDangling(entries: Key[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 25) {
      const batch = entries.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      await ddb.send(new BatchWriteCommand({ RequestItems: { [tableName()]: batch } }));
    }
  },
};

/**
 * BatchGetItem for up to any number of keys (100 per call, unprocessed keys retried). Returns the
 * items found, keyed by `PK|SK`; missing keys are simply absent.
 */
export async function batchGet(keyList: Key[], projection?: string[]): Promise<Map<string, Item>> {
  const out = new Map<string, Item>();
  const unique = [...new Map(keyList.map((k) => [`${k.PK}|${k.SK}`, k])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let pending: Key[] | undefined = unique.slice(i, i + 100);
    for (let attempt = 0; pending && pending.length > 0 && attempt < 5; attempt++) {
      const names: Record<string, string> = {};
      const projectionExpression = projection
        ? ['PK', 'SK', ...projection]
            .map((attr, j) => {
              names[`#p${j}`] = attr;
              return `#p${j}`;
            })
            .join(', ')
        : undefined;
      const res = await ddb.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName()]: {
              Keys: pending,
              ...(projectionExpression ? { ProjectionExpression: projectionExpression, ExpressionAttributeNames: names } : {}),
            },
          },
        }),
      );
      for (const item of res.Responses?.[tableName()] ?? []) out.set(`${String(item.PK)}|${String(item.SK)}`, item);
      pending = res.UnprocessedKeys?.[tableName()]?.Keys as Key[] | undefined;
      if (pending?.length) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    }
  }
  return out;
}
