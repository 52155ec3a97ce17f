/**
 * The db layer's hook seam (functions/shared/db/client.ts addDbHook): sees every call of the shared
 * client with its command and plain input, may rewrite the input (the capacity bench asks for
 * ConsumedCapacity), may fail a call (fault injection), and is gone once removed.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type DbCall, addDbHook, ddb } from '../../functions/shared/db/client.js';
import { getItem, putIfAbsent } from '../../functions/shared/db/conditions.js';

const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

describe('addDbHook', () => {
  it('sees each call once with its command and document-client input, and can rewrite input and output', async () => {
    const seen: DbCall[] = [];
    const consumed: unknown[] = [];
    removers.push(
      addDbHook('test-observer', async (call, send) => {
        seen.push(call);
        const output = await send({ ...call.input, ReturnConsumedCapacity: 'INDEXES' });
        consumed.push(output.ConsumedCapacity);
        return output;
      }),
    );
    const key = { PK: `HOOK#${randomUUID()}`, SK: 'HOOK' };
    expect(await putIfAbsent({ ...key, GSI1PK: 'HOOKS', GSI1SK: key.PK })).toBe(true);
    expect(await getItem(key)).toMatchObject(key);
    expect(seen.map((c) => c.command)).toEqual(['PutItemCommand', 'GetItemCommand']);
    // Plain values, before marshalling.
    expect((seen[0]?.input.Item as Record<string, unknown>).PK).toBe(key.PK);
    expect(consumed[0]).toMatchObject({ Table: { CapacityUnits: 1 }, GlobalSecondaryIndexes: { GSI1: { CapacityUnits: 1 } } });
    expect(consumed[1]).toMatchObject({ Table: { CapacityUnits: expect.any(Number) } });
  });

  it('can fail a call instead of sending it (fault injection), and stops once removed', async () => {
    const key = { PK: `HOOK#${randomUUID()}`, SK: 'HOOK' };
    const remove = addDbHook('test-fault', async (call, send) => {
      if (call.command.startsWith('PutItem')) throw Object.assign(new Error('injected'), { name: 'ProvisionedThroughputExceededException' });
      return send({ ...call.input });
    });
    await expect(putIfAbsent(key)).rejects.toThrow('injected');
    expect(await getItem(key)).toBeUndefined();
    remove();
    expect(ddb.middlewareStack.identify().some((m) => m.startsWith('test-fault'))).toBe(false);
    expect(await putIfAbsent(key)).toBe(true);
  });

  it('a second hook with the same name replaces the first', async () => {
    let first = 0;
    let second = 0;
    removers.push(addDbHook('test-same', async (c, send) => (first++, send({ ...c.input }))));
    removers.push(addDbHook('test-same', async (c, send) => (second++, send({ ...c.input }))));
    await getItem({ PK: 'NONE', SK: 'NONE' });
    expect([first, second]).toEqual([0, 1]);
  });
});
