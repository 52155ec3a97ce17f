/**
 * Batch reads and writes either complete or fail loudly: keys or items DynamoDB leaves
 * unprocessed (throttling) are retried, and still unprocessed after the last attempt the call
 * throws instead of returning a partial answer (the admin search used to drop hits silently).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { addDbHook } from '../../../../functions/shared/db/client.js';
import { batchDelete, batchGet, batchPut, getItem, type Key } from '../../../../functions/shared/db/conditions.js';

const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

const table = () => process.env.TABLE_NAME as string;
const keysOf = (n: number, tag: string): Key[] => Array.from({ length: n }, (_, i) => ({ PK: `BATCH#${tag}#${i}`, SK: 'BATCH' }));

/** DynamoDB answers the first `times` calls of `command` with everything left unprocessed. */
function throttle(command: 'BatchGetItem' | 'BatchWriteItem', times: number) {
  let calls = 0;
  removers.push(
    addDbHook(`throttle-${command}`, async (call, send) => {
      if (!call.command.startsWith(command) || calls++ >= times) return send({ ...call.input });
      const request = (call.input.RequestItems as Record<string, unknown>)[table()];
      return command === 'BatchGetItem'
        ? { Responses: { [table()]: [] }, UnprocessedKeys: { [table()]: request } }
        : { UnprocessedItems: { [table()]: request } };
    }),
  );
  return () => calls;
}

describe('batchGet', () => {
  it('retries unprocessed keys and returns every item', async () => {
    const keys = keysOf(120, randomUUID());
    await batchPut(keys.map((k) => ({ ...k, n: 1 })));
    const calls = throttle('BatchGetItem', 2);
    const found = await batchGet(keys);
    expect(found.size).toBe(120);
    expect(calls()).toBe(4); // two throttled, then the two chunks of 100 and 20
  });

  it('fails loudly when keys stay unprocessed, instead of answering as if they did not exist', async () => {
    const keys = keysOf(3, randomUUID());
    await batchPut(keys.map((k) => ({ ...k, n: 1 })));
    throttle('BatchGetItem', Number.POSITIVE_INFINITY);
    // Named as DynamoDB names throttling: the request pipeline answers "retry later", not a bug.
    await expect(batchGet(keys)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException', message: expect.stringMatching(/BatchGetItem left 3 keys unprocessed/) });
  }, 20_000);
});

describe('batchPut / batchDelete', () => {
  it('retry unprocessed items, and fail loudly when they stay unprocessed', async () => {
    const keys = keysOf(30, randomUUID());
    throttle('BatchWriteItem', 1);
    await batchPut(keys.map((k) => ({ ...k, n: 2 })));
    expect(await getItem(keys[29] as Key)).toMatchObject({ n: 2 });
    await batchDelete(keys);
    expect(await getItem(keys[0] as Key)).toBeUndefined();
    throttle('BatchWriteItem', Number.POSITIVE_INFINITY);
    await expect(batchPut(keys.slice(0, 2).map((k) => ({ ...k, n: 3 })))).rejects.toThrow(/BatchWriteItem left 2 items unprocessed/);
  }, 20_000);
});
