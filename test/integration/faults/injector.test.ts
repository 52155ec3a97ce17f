/**
 * The fault injector itself (test/support/faults.ts), on the shared client: what each mode leaves
 * in the table and what the caller sees, and that only the unit of work it runs is affected.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getItem, putIfAbsent, txPut } from '../../../functions/shared/db/conditions.js';
import { transact, txPart } from '../../../functions/shared/db/transaction.js';
import { isDatabaseUnavailable } from '../../../functions/shared/db/unavailable.js';
import { ServiceUnavailableError } from '../../../functions/shared/domain/errors.js';
import { FaultInjector, ProcessCrashed } from '../../support/faults.js';

const faults = new FaultInjector();
beforeAll(() => faults.install());
afterAll(() => faults.uninstall());

const key = () => ({ PK: `FAULT#${randomUUID()}`, SK: 'FAULT' });

/** Two writes in a row, as a flow makes them. */
async function twoWrites(a: { PK: string; SK: string }, b: { PK: string; SK: string }) {
  await putIfAbsent(a);
  await putIfAbsent(b);
}

describe('fault injector', () => {
  it('records the calls of a unit of work, and only of it', async () => {
    const [a, b] = [key(), key()];
    const outcome = await faults.record(() => twoWrites(a, b));
    expect(outcome.calls).toEqual([
      { index: 0, command: 'PutItemCommand', write: true },
      { index: 1, command: 'PutItemCommand', write: true },
    ]);
  });

  it('throttle: the call is refused before it is sent, and the error means "unavailable"', async () => {
    const [a, b] = [key(), key()];
    const outcome = await faults.run(() => twoWrites(a, b), { at: 1, mode: 'throttle' });
    expect(outcome.kind).toBe('error');
    expect(outcome.kind === 'error' && isDatabaseUnavailable(outcome.error)).toBe(true);
    expect([await getItem(a), await getItem(b)]).toEqual([expect.objectContaining(a), undefined]);
  });

  it('a throttled TransactWriteItems is cancelled with ThrottlingError: an outage, not a lost race', async () => {
    const a = key();
    const outcome = await faults.run(() => transact([txPart('item', txPut(a))]), { at: 0, mode: 'throttle' });
    expect(outcome.kind === 'error' && outcome.error).toBeInstanceOf(ServiceUnavailableError);
    expect(await getItem(a)).toBeUndefined();
  });

  it('timeout: the write lands, the caller sees a timeout, and the unit goes on', async () => {
    const [a, b] = [key(), key()];
    let seen: unknown;
    const outcome = await faults.run(async () => {
      await putIfAbsent(a).catch((err: unknown) => (seen = err));
      await putIfAbsent(b);
    }, { at: 0, mode: 'timeout' });
    expect(outcome.kind).toBe('ok');
    expect((seen as Error).name).toBe('TimeoutError');
    expect(isDatabaseUnavailable(seen)).toBe(true);
    expect([await getItem(a), await getItem(b)]).toEqual([expect.objectContaining(a), expect.objectContaining(b)]);
  });

  it('crash: the write lands, then no later call of the unit reaches the table — even in its cleanup', async () => {
    const [a, b, c] = [key(), key(), key()];
    let cleanup: unknown;
    const outcome = await faults.run(async () => {
      try {
        await twoWrites(a, b);
      } finally {
        await putIfAbsent(c).catch((err: unknown) => (cleanup = err));
      }
    }, { at: 0, mode: 'crash' });
    expect(outcome.kind).toBe('crashed');
    expect(cleanup).toBeInstanceOf(ProcessCrashed);
    expect([await getItem(a), await getItem(b), await getItem(c)]).toEqual([expect.objectContaining(a), undefined, undefined]);
    // Outside the crashed unit the table is reachable.
    expect(await putIfAbsent(b)).toBe(true);
  });

  it('an outage fails every call of the unit', async () => {
    for (const outage of ['throttle', 'unreachable'] as const) {
      const outcome = await faults.run(() => getItem(key()), { outage });
      expect(outcome.kind === 'error' && isDatabaseUnavailable(outcome.error), outage).toBe(true);
    }
  });
});
