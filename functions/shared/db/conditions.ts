import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
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

/**
 * A condition of a write or a filter of a read, built from named parts (`where.eq('status', 'x')`)
 * and rendered with placeholders that cannot collide with the rest of the request.
 */
export interface Condition {
  readonly op: 'atom' | 'and' | 'or' | 'not';
  render(e: ExpressionBuilder): string;
}

/** Collects the attribute names and values of one expression under a placeholder prefix. */
export class ExpressionBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Item = {};
  readonly #ids = new Map<string, string>();
  #next = 0;

  constructor(private readonly prefix: string) {}

  /** A placeholder for an attribute path (`config.enabled` → `#c0.#c1`). */
  name(path: string): string {
    return path
      .split('.')
      .map((segment) => {
        let id = this.#ids.get(segment);
        if (!id) {
          id = `#${this.prefix}${this.#next++}`;
          this.#ids.set(segment, id);
          this.names[id] = segment;
        }
        return id;
      })
      .join('.');
  }

  value(v: unknown): string {
    const id = `:${this.prefix}${this.#next++}`;
    this.values[id] = v;
    return id;
  }

  /** The condition as text; an OR is parenthesised when `nested` (DynamoDB rejects `((…))`). */
  render(condition: Condition, nested = false): string {
    const text = condition.render(this);
    return nested && condition.op === 'or' ? `(${text})` : text;
  }
}

const atom = (render: (e: ExpressionBuilder) => string): Condition => ({ op: 'atom', render });
const compare = (op: string) => (attr: string, value: unknown): Condition => atom((e) => `${e.name(attr)} ${op} ${e.value(value)}`);

type MaybeCondition = Condition | false | undefined | null | '';

function combine(op: 'and' | 'or', parts: Condition[]): Condition {
  if (parts.length === 1) return parts[0] as Condition;
  const joiner = op === 'and' ? ' AND ' : ' OR ';
  return {
    op,
    render: (e) => parts.map((c) => (c.op === 'atom' || c.op === 'not' || c.op === op ? c.render(e) : `(${c.render(e)})`)).join(joiner),
  };
}

/** Joins the given conditions (falsy ones are skipped); undefined when none is left. */
const group = (op: 'and' | 'or', conditions: MaybeCondition[]): Condition | undefined => {
  const parts = conditions.filter((c): c is Condition => Boolean(c));
  return parts.length > 0 ? combine(op, parts) : undefined;
};

/** Condition builders (the only place besides the repositories where expression text is written). */
export const where = {
  eq: compare('='),
  ne: compare('<>'),
  lt: compare('<'),
  le: compare('<='),
  gt: compare('>'),
  in: (attr: string, values: readonly unknown[]): Condition =>
    atom((e) => `${e.name(attr)} IN (${values.map((v) => e.value(v)).join(', ')})`),
  exists: (attr: string): Condition => atom((e) => `attribute_exists(${e.name(attr)})`),
  absent: (attr: string): Condition => atom((e) => `attribute_not_exists(${e.name(attr)})`),
  contains: (attr: string, value: unknown): Condition => atom((e) => `contains(${e.name(attr)}, ${e.value(value)})`),
  /** Unset or null. */
  empty: (attr: string): Condition => combine('or', [where.absent(attr), where.eq(attr, null)]),
  /** Equal to `value`, or unset/null when `value` is null. */
  is: (attr: string, value: unknown): Condition => (value === null ? where.empty(attr) : where.eq(attr, value)),
  and: (...conditions: MaybeCondition[]): Condition | undefined => group('and', conditions),
  or: (...conditions: MaybeCondition[]): Condition | undefined => group('or', conditions),
  not: (condition: Condition): Condition => ({ op: 'not', render: (e) => `NOT (${condition.render(e)})` }),
};

/** A rendered condition: expression text plus its names and values (`prefix` keeps placeholders apart). */
export function renderCondition(condition: Condition, prefix = 'c') {
  const e = new ExpressionBuilder(prefix);
  const expression = e.render(condition);
  return { expression, names: e.names, values: e.values };
}

export interface UpdateSpec {
  /** Attributes to set (undefined values are skipped). */
  set?: Item;
  /** Attributes to remove (e.g. leaving a sparse index). */
  remove?: string[];
  /** Numbers to add (counters). */
  add?: Record<string, number>;
  /** Version the caller read; the write fails with VERSION_CONFLICT if the stored one differs. */
  expectedVersion?: number;
  /** Extra condition. */
  condition?: Condition | undefined;
  /** Whether the item must exist (default true). */
  mustExist?: boolean;
  /** An edit bumps `version` (default); telemetry, counters and links do not. */
  bumpVersion?: boolean;
}

/** Builds an UpdateItem from named parts: `version = version + 1` (unless told not to) and `attribute_exists(PK)`. */
export function buildUpdate(key: Key, spec: UpdateSpec) {
  const bump = spec.bumpVersion !== false;
  const names: Record<string, string> = bump || spec.expectedVersion !== undefined ? { '#version': 'version' } : {};
  const values: Item = bump ? { ':one': 1 } : {};
  const sets: string[] = bump ? ['#version = if_not_exists(#version, :zero) + :one'] : [];
  if (bump) values[':zero'] = 0;
  let i = 0;
  for (const [attr, value] of Object.entries(spec.set ?? {})) {
    if (value === undefined || attr === 'version') continue;
    // A dotted attribute is a path into a map (`config.enabled`).
    const path = attr.split('.').map((segment, k) => {
      const id = k === 0 ? `#s${i}` : `#s${i}_${k}`;
      names[id] = segment;
      return id;
    });
    values[`:s${i}`] = value;
    sets.push(`${path.join('.')} = :s${i}`);
    i++;
  }
  const removes = (spec.remove ?? []).map((attr, j) => {
    names[`#r${j}`] = attr;
    return `#r${j}`;
  });
  const adds = Object.entries(spec.add ?? {}).map(([attr, value], j) => {
    names[`#a${j}`] = attr;
    values[`:a${j}`] = value;
    return `#a${j} :a${j}`;
  });
  const conditions: string[] = [];
  if (spec.mustExist !== false) conditions.push('attribute_exists(PK)');
  if (spec.expectedVersion !== undefined) {
    conditions.push('#version = :expected');
    values[':expected'] = spec.expectedVersion;
  }
  if (spec.condition) {
    const c = new ExpressionBuilder('c');
    conditions.push(c.render(spec.condition, conditions.length > 0));
    Object.assign(names, c.names);
    Object.assign(values, c.values);
  }
  const clauses = [
    sets.length ? `SET ${sets.join(', ')}` : '',
    removes.length ? `REMOVE ${removes.join(', ')}` : '',
    adds.length ? `ADD ${adds.join(', ')}` : '',
  ].filter(Boolean);
  return {
    TableName: tableName(),
    Key: key,
    UpdateExpression: clauses.join(' '),
    ConditionExpression: conditions.length ? conditions.join(' AND ') : undefined,
    ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
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

/** An update whose failed condition is an expected outcome: returns whether it applied. */
export async function updateIf(key: Key, spec: UpdateSpec): Promise<boolean> {
  try {
    await ddb.send(new UpdateCommand(buildUpdate(key, spec)));
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** One item of a TransactWriteItems call, as the repositories build them (transaction.ts names them). */
export type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Transaction item: a Put, create-only unless `overwrite`, or under `condition`. */
export function txPut(item: Item & Key, options: { overwrite?: boolean; condition?: Condition | undefined } = {}): TxItem {
  if (options.condition) {
    const c = renderCondition(options.condition);
    return {
      Put: {
        TableName: tableName(),
        Item: item,
        ConditionExpression: c.expression,
        ...(Object.keys(c.names).length ? { ExpressionAttributeNames: c.names } : {}),
        ...(Object.keys(c.values).length ? { ExpressionAttributeValues: c.values } : {}),
      },
    };
  }
  return {
    Put: { TableName: tableName(), Item: item, ...(options.overwrite ? {} : { ConditionExpression: 'attribute_not_exists(PK)' }) },
  };
}

/** Transaction item: an update built like {@link buildUpdate}. */
export const txUpdate = (key: Key, spec: UpdateSpec): TxItem => ({ Update: buildUpdate(key, spec) });

/** Transaction item: a Delete, optionally conditioned. */
export function txDelete(key: Key, condition?: Condition | undefined): TxItem {
  if (!condition) return { Delete: { TableName: tableName(), Key: key } };
  const c = renderCondition(condition);
  return {
    Delete: {
      TableName: tableName(),
      Key: key,
      ConditionExpression: c.expression,
      ...(Object.keys(c.names).length ? { ExpressionAttributeNames: c.names } : {}),
      ...(Object.keys(c.values).length ? { ExpressionAttributeValues: c.values } : {}),
    },
  };
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

/**
 * Whether the key condition's `BETWEEN :lo AND :hi` range is empty (lo after hi). DynamoDB refuses
 * such a Query (ValidationException); a caller's range that ends before it starts — a `from` after
 * the default `to` of now — selects nothing.
 */
function emptyRange(input: Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeValues'>): boolean {
  const m = /BETWEEN\s+(:\w+)\s+AND\s+(:\w+)/i.exec(input.KeyConditionExpression ?? '');
  if (!m) return false;
  const [lo, hi] = [input.ExpressionAttributeValues?.[m[1] as string], input.ExpressionAttributeValues?.[m[2] as string]];
  return (typeof lo === 'string' && typeof hi === 'string') || (typeof lo === 'number' && typeof hi === 'number') ? lo > hi : false;
}

/** One page of a Query (limit default 50, max 200 is enforced by the route schemas). */
export async function queryPage<T = Item>(
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>,
  limit: number,
  nextToken?: string,
): Promise<Page<T>> {
  if (emptyRange(input)) return { items: [], nextToken: null };
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
  if (emptyRange(input)) return items;
  let start: Item | undefined;
  do {
    const out = await ddb.send(new QueryCommand({ TableName: tableName(), ...input, ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as T[]));
    start = out.LastEvaluatedKey;
  } while (start && items.length < maxItems);
  return items;
}

/** A Query input with its filter given as a {@link Condition} (rendered with `f` placeholders). */
export function withFilter<Q extends Omit<QueryCommandInput, 'TableName'>>(input: Q, filter: Condition | undefined): Q {
  if (!filter) return input;
  const f = renderCondition(filter, 'f');
  const names = { ...(input.ExpressionAttributeNames ?? {}), ...f.names };
  return {
    ...input,
    FilterExpression: f.expression,
    ExpressionAttributeValues: { ...(input.ExpressionAttributeValues ?? {}), ...f.values },
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
  };
}

/**
 * One page of a filtered Query, filled: DynamoDB applies `Limit` before the filter, so a single
 * call can return few or no matches with more to come. This keeps querying (each call asking for
 * what is still missing, so the page never exceeds `limit`) until the page is full, the index is
 * exhausted, or `maxCalls` calls were made; the returned token continues exactly where it stopped.
 */
export async function filledPage<T = Item>(
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>,
  limit: number,
  nextToken?: string,
  maxCalls = 10,
): Promise<Page<T>> {
  const items: T[] = [];
  let token = nextToken;
  for (let call = 0; call < maxCalls; call++) {
    const page = await queryPage<T>(input, limit - items.length, token);
    items.push(...page.items);
    token = page.nextToken ?? undefined;
    if (!token || items.length >= limit) break;
  }
  return { items, nextToken: token ?? null };
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

/** How often a batch call retries what DynamoDB left unprocessed (throttling), with exponential back-off. */
const BATCH_ATTEMPTS = 8;

/**
 * What is still unprocessed after the last attempt: DynamoDB's throttling, so it carries the name
 * DynamoDB gives throttling (the request pipeline answers it like a throttled call: retry later).
 */
export class BatchIncompleteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvisionedThroughputExceededException';
  }
}
const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));

type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Key } };
const requestKey = (r: WriteRequest): string => {
  const k = 'PutRequest' in r ? r.PutRequest.Item : r.DeleteRequest.Key;
  return `${k.PK as string}\u0000${k.SK as string}`;
};

/**
 * BatchWriteItem for any number of puts/deletes (25 per call, `concurrency` calls in flight). Either
 * every request is applied or it throws: unprocessed items are retried with back-off and, still
 * unprocessed after {@link BATCH_ATTEMPTS} calls, fail the whole write loudly. Requests naming the
 * same key are sent once (the last wins): BatchWriteItem rejects a batch that names one key twice.
 */
async function batchWrite(requests: WriteRequest[], concurrency: number): Promise<void> {
  const unique = [...new Map(requests.map((r) => [requestKey(r), r])).values()];
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < unique.length; i += 25) batches.push(unique.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let pending: WriteRequest[] | undefined = batches[next++] as WriteRequest[];
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt >= BATCH_ATTEMPTS) throw new BatchIncompleteError(`BatchWriteItem left ${pending.length} items unprocessed after ${attempt} attempts`);
        if (attempt > 0) await backoff(attempt);
        const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [tableName()]: pending } }));
        pending = out.UnprocessedItems?.[tableName()] as WriteRequest[] | undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
}

/** Puts items with {@link batchWrite} (all written, or an error). */
export async function batchPut(items: Item[], concurrency = 8): Promise<void> {
  await batchWrite(items.map((Item) => ({ PutRequest: { Item } })), concurrency);
}

/** Deletes items by key with {@link batchWrite} (all deleted, or an error). */
export async function batchDelete(keyList: Key[], concurrency = 4): Promise<void> {
  await batchWrite(keyList.map((Key) => ({ DeleteRequest: { Key } })), concurrency);
}

/**
 * BatchGetItem for any number of keys (100 per call, `concurrency` calls in flight). Returns the
 * items found, keyed by `PK|SK`; missing keys are simply absent. Keys DynamoDB leaves unprocessed
 * (throttling) are retried with back-off; still unprocessed after {@link BATCH_ATTEMPTS} calls, the
 * read fails loudly — a partial answer would look like items that do not exist.
 */
export async function batchGet(keyList: Key[], projection?: string[], concurrency = 8): Promise<Map<string, Item>> {
  const out = new Map<string, Item>();
  const unique = [...new Map(keyList.map((k) => [`${k.PK}|${k.SK}`, k])).values()];
  const names: Record<string, string> = {};
  const projectionExpression = projection
    ? ['PK', 'SK', ...projection]
        .map((attr, j) => {
          names[`#p${j}`] = attr;
          return `#p${j}`;
        })
        .join(', ')
    : undefined;
  const batches: Key[][] = [];
  for (let i = 0; i < unique.length; i += 100) batches.push(unique.slice(i, i + 100));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let pending: Key[] | undefined = batches[next++] as Key[];
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt >= BATCH_ATTEMPTS) throw new BatchIncompleteError(`BatchGetItem left ${pending.length} keys unprocessed after ${attempt} attempts`);
        if (attempt > 0) await backoff(attempt);
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
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
  return out;
}
