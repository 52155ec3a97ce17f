/**
 * What the capacity bench records about every DynamoDB call, through the db layer's hook
 * (functions/shared/db/client.ts `addDbHook`): each call's command, keys written and
 * `ReturnConsumedCapacity: INDEXES` figures, attributed to the simulated request it ran in
 * (AsyncLocalStorage); and the table's stream (NEW_AND_OLD_IMAGES) read after each request, so every
 * written item's exact partition keys before and after are known.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { addDbHook } from '../../functions/shared/db/client.js';
import type { Image } from './capacity-model.js';

type AddDbHook = typeof addDbHook;

/** ConsumedCapacity as DynamoDB returns it (per table; GSIs by name). */
interface ConsumedCapacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  Table?: { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }>;
}

/** One item a write command addressed. */
export interface WriteOp {
  key: { PK: string; SK: string };
  kind: 'put' | 'update' | 'delete' | 'condition-check';
  transactional: boolean;
}

/** One DynamoDB round trip. */
export interface DbCallRecord {
  /** The DynamoDB operation (`UpdateItem`, `Query`…). */
  command: string;
  kind: 'read' | 'write' | 'other';
  ok: boolean;
  error?: string;
  /** Per target (`table`, `GSI1`…): units DynamoDB Local reported. */
  consumed: Record<string, number>;
  writes: WriteOp[];
}

/**
 * The operation behind a command name: lib-dynamodb's commands report the client command they wrap
 * (`UpdateItemCommand` for `UpdateCommand`), so both spellings are accepted.
 */
export const operationOf = (command: string): string =>
  command.replace(/Command$/, '').replace(/^(Get|Put|Update|Delete)$/, '$1Item').replace(/^Batch(Get|Write)$/, 'Batch$1Item').replace(/^Transact(Get|Write)$/, 'Transact$1Items');

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

const keyOf = (item: unknown): { PK: string; SK: string } => {
  const i = (item ?? {}) as Record<string, unknown>;
  return { PK: String(i.PK), SK: String(i.SK) };
};

/** The items a write command addresses, from its (document-client) input. */
export function writeOpsOf(command: string, input: Record<string, unknown>): WriteOp[] {
  switch (operationOf(command)) {
    case 'PutItem':
      return [{ key: keyOf(input.Item), kind: 'put', transactional: false }];
    case 'UpdateItem':
      return [{ key: keyOf(input.Key), kind: 'update', transactional: false }];
    case 'DeleteItem':
      return [{ key: keyOf(input.Key), kind: 'delete', transactional: false }];
    case 'BatchWriteItem': {
      const ops: WriteOp[] = [];
      const tables = (input.RequestItems ?? {}) as Record<string, Record<string, { Item?: unknown; Key?: unknown }>[]>;
      for (const requests of Object.values(tables)) {
        for (const r of requests) {
          if (r.PutRequest) ops.push({ key: keyOf(r.PutRequest.Item), kind: 'put', transactional: false });
          if (r.DeleteRequest) ops.push({ key: keyOf(r.DeleteRequest.Key), kind: 'delete', transactional: false });
        }
      }
      return ops;
    }
    case 'TransactWriteItems':
      return ((input.TransactItems ?? []) as Record<string, { Item?: unknown; Key?: unknown }>[]).map((t) => {
        if (t.Put) return { key: keyOf(t.Put.Item), kind: 'put', transactional: true };
        if (t.Update) return { key: keyOf(t.Update.Key), kind: 'update', transactional: true };
        if (t.Delete) return { key: keyOf(t.Delete.Key), kind: 'delete', transactional: true };
        return { key: keyOf(t.ConditionCheck?.Key), kind: 'condition-check', transactional: true };
      });
    default:
      return [];
  }
}

/** Adds ConsumedCapacity (one object or a list) into `into`, per target. */
export function addConsumed(into: Record<string, number>, consumed: unknown): void {
  const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as ConsumedCapacity[];
  const units = (c: { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number } | undefined) =>
    c?.CapacityUnits ?? (c?.ReadCapacityUnits ?? 0) + (c?.WriteCapacityUnits ?? 0);
  for (const c of list) {
    into.table = (into.table ?? 0) + units(c.Table);
    for (const [name, gsi] of Object.entries(c.GlobalSecondaryIndexes ?? {})) into[name] = (into[name] ?? 0) + units(gsi);
  }
}

/** The context the hook attributes calls to (one simulated request, job run or event). */
export interface CallScope {
  calls: DbCallRecord[];
}

/**
 * Installs the capture hook. `run(fn)` runs one simulated request; every DynamoDB call made inside
 * it (including concurrent ones) is recorded in the scope it returns. Calls outside any scope
 * (setup) are not recorded. Returns the remover too.
 */
export function createCapture(addDbHook: AddDbHook) {
  const storage = new AsyncLocalStorage<CallScope>();
  const remove = addDbHook('capacity-bench', async (call, send) => {
    const scope = storage.getStore();
    const operation = operationOf(call.command);
    const kind: DbCallRecord['kind'] = READS.has(operation) ? 'read' : WRITES.has(operation) ? 'write' : 'other';
    if (!scope || kind === 'other') return send({ ...call.input });
    const record: DbCallRecord = { command: operation, kind, ok: true, consumed: {}, writes: kind === 'write' ? writeOpsOf(call.command, call.input) : [] };
    scope.calls.push(record);
    try {
      const output = await send({ ...call.input, ReturnConsumedCapacity: 'INDEXES' });
      addConsumed(record.consumed, output.ConsumedCapacity);
      // The caller did not ask for it: hand back what it would have received.
      if (call.input.ReturnConsumedCapacity === undefined) delete output.ConsumedCapacity;
      return output;
    } catch (err) {
      record.ok = false;
      record.error = err instanceof Error ? err.name : String(err);
      throw err;
    }
  });
  return {
    async run<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; scope: CallScope; ms: number }> {
      const scope: CallScope = { calls: [] };
      const started = performance.now();
      try {
        const value = await storage.run(scope, fn);
        return { value, scope, ms: performance.now() - started };
      } catch (error) {
        return { error, scope, ms: performance.now() - started };
      }
    },
    remove,
  };
}

/** One change of one item, from the stream: images unmarshalled to document form. */
export interface ItemChange {
  key: { PK: string; SK: string };
  oldImage?: Image;
  newImage?: Image;
}

/**
 * Turns the stream of `tableName` on (NEW_AND_OLD_IMAGES) and reads it from the start: `drain()`
 * returns every change recorded since the previous drain, in order.
 */
export async function openStream(client: DynamoDBClient, endpoint: string, tableName: string) {
  const updated = await client.send(
    new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }),
  );
  const streamArn = updated.TableDescription?.LatestStreamArn;
  if (!streamArn) throw new Error(`no stream on ${tableName}`);
  const streams = new DynamoDBStreamsClient({ endpoint, region: await client.config.region() });
  const iterators = new Map<string, string | undefined>();
  const discover = async () => {
    const described = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of described.StreamDescription?.Shards ?? []) {
      const id = shard.ShardId as string;
      if (iterators.has(id)) continue;
      const it = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: id, ShardIteratorType: 'TRIM_HORIZON' }));
      iterators.set(id, it.ShardIterator);
    }
  };
  await discover();
  const toChange = (r: StreamRecord): ItemChange => {
    const d = r.dynamodb ?? {};
    return {
      key: unmarshall(d.Keys as never) as { PK: string; SK: string },
      ...(d.OldImage ? { oldImage: unmarshall(d.OldImage as never) } : {}),
      ...(d.NewImage ? { newImage: unmarshall(d.NewImage as never) } : {}),
    };
  };
  let drains = 0;
  return {
    async drain(): Promise<ItemChange[]> {
      // Shards roll over rarely: look for new ones now and then, and whenever one closes.
      if (++drains % 500 === 0) await discover();
      const changes: ItemChange[] = [];
      for (const [id, iterator] of iterators) {
        let it = iterator;
        while (it) {
          const page = await streams.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
          for (const r of page.Records ?? []) changes.push(toChange(r));
          it = page.NextShardIterator;
          if (!page.Records?.length) break;
        }
        iterators.set(id, it);
        if (!it) await discover();
      }
      return changes;
    },
    close: () => streams.destroy(),
  };
}
