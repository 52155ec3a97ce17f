import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../domain/errors.js';
import { ddb, tableName } from './client.js';
import { type Condition, decodeNextToken, encodeNextToken, type Item, type Page, queryAll, withFilter } from './conditions.js';

/**
 * A logical index partition written across shards (keys.ts `shardKeys`): every shard holds part of
 * the items under the same sort-key order, so a parallel Query of the shards, merged on the sort
 * key, reads it as one partition. The sort key must be unique across shards (`<created_at>#<id>`).
 */
export interface ShardedIndex {
  readonly indexName: string;
  readonly pkAttr: string;
  readonly skAttr: string;
  readonly partitions: readonly string[];
}

export interface ShardedRead {
  filter?: Condition | undefined;
  newestFirst?: boolean;
  /** ProjectionExpression attributes (the sort key is always added: the merge needs it). */
  projection?: readonly string[];
}

type Input = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>;

function shardInput(ix: ShardedIndex, pk: string, read: ShardedRead, after?: string): Input {
  const names: Record<string, string> = {};
  const projection = read.projection
    ? [...new Set([...read.projection, ix.skAttr])].map((attr, i) => {
        names[`#q${i}`] = attr;
        return `#q${i}`;
      })
    : undefined;
  const input: Input = {
    IndexName: ix.indexName,
    KeyConditionExpression: after
      ? `${ix.pkAttr} = :pk AND ${ix.skAttr} ${read.newestFirst ? '<' : '>'} :after`
      : `${ix.pkAttr} = :pk`,
    ExpressionAttributeValues: { ':pk': pk, ...(after ? { ':after': after } : {}) },
    ScanIndexForward: !read.newestFirst,
    ...(projection ? { ProjectionExpression: projection.join(', '), ExpressionAttributeNames: names } : {}),
  };
  return withFilter(input, read.filter);
}

/** Every item of every shard, in sort-key order (bounded collections: a client's agents, online agents…). */
export async function shardedAll<T = Item>(ix: ShardedIndex, read: ShardedRead = {}): Promise<T[]> {
  const shards = await Promise.all(ix.partitions.map((pk) => queryAll<Item>(shardInput(ix, pk, read))));
  const sk = (i: Item) => String(i[ix.skAttr]);
  const items = shards.flat().sort((a, b) => sk(a).localeCompare(sk(b)));
  return (read.newestFirst ? items.reverse() : items) as T[];
}

/** How many items of the logical partition match (Select COUNT on every shard, every page). */
export async function shardedCount(ix: ShardedIndex, filter?: Condition): Promise<number> {
  const counts = await Promise.all(
    ix.partitions.map(async (pk) => {
      let count = 0;
      let start: Item | undefined;
      do {
        const out = await ddb.send(
          new QueryCommand({ TableName: tableName(), ...shardInput(ix, pk, { filter }), Select: 'COUNT', ExclusiveStartKey: start }),
        );
        count += out.Count ?? 0;
        start = out.LastEvaluatedKey;
      } while (start);
      return count;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

interface ShardState {
  pk: string;
  buffer: Item[];
  start: Item | undefined;
  /** Sort key the shard has been read through (its LastEvaluatedKey). */
  readTo: string | undefined;
  done: boolean;
}

/**
 * One page of the logical partition, merged from its shards: a k-way merge on the sort key that
 * reads each shard only as far as the page needs (filters are applied by DynamoDB, so a shard may
 * need several calls). The token is the last sort key handed out, so it is valid for every shard.
 */
export async function shardedPage<T = Item>(
  ix: ShardedIndex,
  limit: number,
  nextToken: string | undefined,
  read: ShardedRead = {},
  maxCalls = 64,
): Promise<Page<T>> {
  const after = decodeAfter(nextToken);
  const before = (a: string, b: string) => (read.newestFirst ? a > b : a < b);
  const sk = (i: Item) => String(i[ix.skAttr]);
  const perCall = Math.max(2, Math.ceil((limit * 1.5) / ix.partitions.length));
  const states: ShardState[] = ix.partitions.map((pk) => ({ pk, buffer: [], start: undefined, readTo: after, done: false }));
  let calls = 0;
  const fetch = async (s: ShardState) => {
    calls++;
    const out = await ddb.send(
      new QueryCommand({ TableName: tableName(), ...shardInput(ix, s.pk, read, after), Limit: perCall, ExclusiveStartKey: s.start }),
    );
    s.buffer.push(...(out.Items ?? []));
    s.start = out.LastEvaluatedKey;
    s.readTo = out.LastEvaluatedKey ? String(out.LastEvaluatedKey[ix.skAttr]) : undefined;
    s.done = !out.LastEvaluatedKey;
  };
  await Promise.all(states.map(fetch));
  const page: Item[] = [];
  let cursor = after;
  for (;;) {
    if (page.length >= limit) break;
    let best: ShardState | undefined;
    for (const s of states) if (s.buffer[0] && (!best || before(sk(s.buffer[0]), sk(best.buffer[0] as Item)))) best = s;
    // A shard whose buffer is empty but which is not exhausted may still hold an earlier item.
    const head = best ? sk(best.buffer[0] as Item) : undefined;
    const blockers = states.filter(
      (s) => !s.done && s.buffer.length === 0 && (head === undefined || s.readTo === undefined || before(s.readTo, head)),
    );
    if (blockers.length > 0) {
      if (calls + blockers.length > maxCalls) {
        // Out of budget: hand out what is settled; without any item, the point every blocker passed.
        if (page.length === 0) cursor = blockers.map((s) => s.readTo as string).reduce((a, b) => (before(a, b) ? a : b));
        break;
      }
      await Promise.all(blockers.map(fetch));
      continue;
    }
    if (!best) break;
    const item = best.buffer.shift() as Item;
    page.push(item);
    cursor = sk(item);
  }
  const more = states.some((s) => s.buffer.length > 0 || !s.done);
  return { items: page as T[], nextToken: more && cursor !== undefined ? encodeNextToken({ after: cursor }) : null };
}

function decodeAfter(token: string | undefined): string | undefined {
  const decoded = decodeNextToken(token);
  if (decoded === undefined) return undefined;
  if (typeof decoded.after !== 'string' || Object.keys(decoded).length !== 1) {
    throw new ValidationError('nextToken is not valid', [{ field: 'query.nextToken', issue: 'invalid' }], 'INVALID_NEXT_TOKEN');
  }
  return decoded.after;
}
