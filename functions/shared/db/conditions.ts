import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, ValidationError, VersionConflictError } from '../domain/errors.js';
import { ddb, tableName } from './client.js';

export type Item = Record<string, unknown>;
export type Key = { PK: string; SK: string };

const errorName = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'name' in err ? String((err as { name: unknown }).name) : undefined;

export const isConditionFailure = (err: unknown): boolean => errorName(err) === 'ConditionalCheckFailedException';

/** Per-item cancellation codes of a failed transaction (`ConditionalCheckFailed`, `None`, …), or undefined. */
export function cancellationReasons(err: unknown): string[] | undefined {
  if (errorName(err) !== 'TransactionCanceledException') return undefined;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

/** The item as it was when a condition failed (lib-dynamodb does not unmarshall `err.Item`). */
export function oldItemOf(err: unknown): Item | undefined {
  const raw = (err as { Item?: Record<string, never> }).Item;
  return raw ? unmarshall(raw) : undefined;
}

export async function getItem<T = Item>(key: Key, consistent = true): Promise<T | undefined> {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: consistent }));
  return out.Item as T | undefined;
}

/** Create-if-absent. Returns false (and writes nothing) when the key already exists. */
export async function putIfAbsent(item: Item & Key): Promise<boolean> {
  try {
    await ddb.send(
      new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

export interface UpdateSpec {
  /** Attributes to set (undefined values are skipped). */
  set?: Item;
  /** Attributes to remove (e.g. leaving a sparse index). */
  remove?: string[];
  /** Version the caller read; the write fails with VERSION_CONFLICT if the stored one differs. */
  expectedVersion?: number;
  /** Extra condition with its own placeholders (names `#c_*`, values `:c_*`). */
  condition?: { expression: string; names?: Record<string, string>; values?: Item };
  /** Whether the item must exist (default true). */
  mustExist?: boolean;
}

/** Builds an UpdateItem from named parts: always `version = version + 1` and `attribute_exists(PK)`. */
export function buildUpdate(key: Key, spec: UpdateSpec) {
  const names: Record<string, string> = { '#version': 'version' };
  const values: Item = { ':one': 1 };
  const sets: string[] = ['#version = if_not_exists(#version, :zero) + :one'];
  values[':zero'] = 0;
  let i = 0;
  for (const [attr, value] of Object.entries(spec.set ?? {})) {
    if (value === undefined || attr === 'version') continue;
    names[`#s${i}`] = attr;
    values[`:s${i}`] = value;
    sets.push(`#s${i} = :s${i}`);
    i++;
  }
  const removes = (spec.remove ?? []).map((attr, j) => {
    names[`#r${j}`] = attr;
    return `#r${j}`;
  });
  const conditions: string[] = [];
  if (spec.mustExist !== false) conditions.push('attribute_exists(PK)');
  if (spec.expectedVersion !== undefined) {
    conditions.push('#version = :expected');
    values[':expected'] = spec.expectedVersion;
  }
  if (spec.condition) {
    conditions.push(`(${spec.condition.expression})`);
    Object.assign(names, spec.condition.names ?? {});
    Object.assign(values, spec.condition.values ?? {});
  }
  return {
    TableName: tableName(),
    Key: key,
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: conditions.length ? conditions.join(' AND ') : undefined,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * A version-checked update. On a failed condition it reports why: the item is gone (returns
 * undefined), the version is stale (VersionConflictError with the current version), or the extra
 * condition did not hold (ConflictError `onConditionCode`).
 */
export async function updateItem<T = Item>(
  key: Key,
  spec: UpdateSpec,
  onConditionCode = 'INVALID_TRANSITION',
): Promise<T | undefined> {
  try {
    const out = await ddb.send(
      new UpdateCommand({
        ...buildUpdate(key, spec),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return out.Attributes as T;
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const old = oldItemOf(err);
    if (!old) return undefined;
    if (spec.expectedVersion !== undefined && old.version !== spec.expectedVersion) {
      throw new VersionConflictError(old.version as number, { cause: err });
    }
    throw new ConflictError(onConditionCode, 'the resource is not in a state that allows this change', [], {
      cause: err,
    });
  }
}

/** Runs a transaction; the caller inspects `cancellationReasons` on failure. */
/** One item of a TransactWriteItems call (services compose them; only this layer talks to DynamoDB). */
export type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export async function transact(items: TxItem[]): Promise<void> {
  await ddb.send(new TransactWriteCommand({ TransactItems: items }));
}

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

/** Opaque pagination token: base64url of the LastEvaluatedKey. */
export const encodeNextToken = (key: Item | undefined): string | null =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;

export function decodeNextToken(token: string | undefined): Item | undefined {
  if (!token) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    for (const v of Object.values(parsed)) if (typeof v !== 'string' && typeof v !== 'number') throw new Error('bad');
    return parsed as Item;
  } catch {
    throw new ValidationError('nextToken is not valid', [{ field: 'query.nextToken', issue: 'invalid' }], 'INVALID_NEXT_TOKEN');
  }
}

/** One page of a Query (limit default 50, max 200 is enforced by the route schemas). */
export async function queryPage<T = Item>(
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>,
  limit: number,
  nextToken?: string,
): Promise<Page<T>> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      ...input,
      Limit: limit,
      ExclusiveStartKey: decodeNextToken(nextToken),
    }),
  );
  return { items: (out.Items ?? []) as T[], nextToken: encodeNextToken(out.LastEvaluatedKey) };
}

/** Every item of a Query (for bounded collections such as an agent's replicas). */
export async function queryAll<T = Item>(
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  maxItems = 10_000,
): Promise<T[]> {
  const items: T[] = [];
  let start: Item | undefined;
  do {
    const out = await ddb.send(new QueryCommand({ TableName: tableName(), ...input, ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as T[]));
    start = out.LastEvaluatedKey;
  } while (start && items.length < maxItems);
  return items;
}

/** Strips key and index attributes before an item leaves the repository layer. */
export function stripKeys<T extends Item>(item: T): Item {
  const {
    PK: _pk,
    SK: _sk,
    GSI1PK: _a,
    GSI1SK: _b,
    GSI2PK: _c,
    GSI2SK: _d,
    GSI3PK: _e,
    GSI3SK: _f,
    ttl: _t,
    entity: _en,
    ...rest
  } = item;
  return rest;
}

/**
 * Writes items with BatchWriteItem (25 per call, `concurrency` calls in flight, unprocessed items
 * retried). Items with the same key are written once (the last wins): BatchWriteItem rejects a
 * batch that names one key twice (e.g. a report listing a pool twice, or a retried report).
 */
export async function batchPut(items: Item[], concurrency = 8): Promise<void> {
  const unique = [...new Map(items.map((item) => [`${item.PK as string}\u0000${item.SK as string}`, item])).values()];
  const batches: Item[][] = [];
  for (let i = 0; i < unique.length; i += 25) batches.push(unique.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] as Item[];
      let pending: { PutRequest: { Item: Item } }[] | undefined = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt >= 8) throw new Error(`BatchWriteItem left ${pending.length} items unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2000)));
        const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [tableName()]: pending } }));
        pending = out.UnprocessedItems?.[tableName()] as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
}
