import { describe, expect, it } from 'vitest';
import { addConsumed, operationOf, writeOpsOf } from '../../../bin/bench/capacity-capture.js';
import { installVirtualClock } from '../../../bin/support/virtual-clock.js';

describe('capacity capture: what a DynamoDB call wrote and consumed', () => {
  it('names the operation behind both command spellings', () => {
    expect(['GetCommand', 'GetItemCommand', 'UpdateCommand', 'TransactWriteCommand', 'TransactWriteItemsCommand', 'BatchWriteCommand', 'QueryCommand'].map(operationOf)).toEqual([
      'GetItem', 'GetItem', 'UpdateItem', 'TransactWriteItems', 'TransactWriteItems', 'BatchWriteItem', 'Query',
    ]);
  });

  it('lists the items a write addresses, transactional ones marked', () => {
    const k = (pk: string) => ({ PK: pk, SK: 'S' });
    expect(writeOpsOf('PutCommand', { Item: { ...k('A'), x: 1 } })).toEqual([{ key: k('A'), kind: 'put', transactional: false }]);
    expect(writeOpsOf('UpdateItemCommand', { Key: k('B') })).toEqual([{ key: k('B'), kind: 'update', transactional: false }]);
    expect(writeOpsOf('BatchWriteCommand', { RequestItems: { t: [{ PutRequest: { Item: k('C') } }, { DeleteRequest: { Key: k('D') } }] } }).map((o) => o.kind)).toEqual(['put', 'delete']);
    const items = [{ Put: { Item: k('E') } }, { Update: { Key: k('F') } }, { Delete: { Key: k('G') } }, { ConditionCheck: { Key: k('H') } }];
    const tx = writeOpsOf('TransactWriteCommand', { TransactItems: items });
    expect(tx.map((o) => [o.key.PK, o.kind, o.transactional])).toEqual([['E', 'put', true], ['F', 'update', true], ['G', 'delete', true], ['H', 'condition-check', true]]);
    expect(writeOpsOf('QueryCommand', {})).toEqual([]);
  });

  it('adds ConsumedCapacity per target, one object or a list', () => {
    const into: Record<string, number> = {};
    addConsumed(into, { CapacityUnits: 4, Table: { CapacityUnits: 2 }, GlobalSecondaryIndexes: { GSI1: { CapacityUnits: 2 } } });
    const transaction = { Table: { WriteCapacityUnits: 1 }, GlobalSecondaryIndexes: { GSI3: { WriteCapacityUnits: 4 } } };
    addConsumed(into, [{ Table: { ReadCapacityUnits: 0.5 } }, transaction]);
    addConsumed(into, undefined);
    expect(into).toEqual({ table: 3.5, GSI1: 2, GSI3: 4 });
  });
});

describe('virtual clock', () => {
  it('moves Date.now() and new Date() but leaves explicit dates, instanceof and real time alone', () => {
    const before = new Date();
    const clock = installVirtualClock(Date.parse('2030-01-01T00:00:00Z'));
    try {
      expect(new Date().toISOString()).toBe('2030-01-01T00:00:00.000Z');
      clock.set(Date.parse('2030-01-01T01:00:00Z'));
      expect(Date.now()).toBe(Date.parse('2030-01-01T01:00:00Z'));
      clock.set(0); // never backwards
      expect(clock.now()).toBe(Date.parse('2030-01-01T01:00:00Z'));
      expect(new Date('2025-01-15T12:00:00Z').getTime()).toBe(Date.parse('2025-01-15T12:00:00Z'));
      expect(before instanceof Date).toBe(true);
      expect(new Date() instanceof Date).toBe(true);
    } finally {
      clock.uninstall();
    }
    expect(Math.abs(Date.now() - before.getTime())).toBeLessThan(60_000);
  });
});
