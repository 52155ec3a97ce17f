import { describe, expect, it } from 'vitest';
import {
  type IndexShape,
  type PartitionLoad,
  type TableShape,
  classifyPartition,
  hottestByTarget,
  itemSize,
  keyPattern,
  modelItemWrite,
  rateAt,
  valueSize,
  writeUnits,
} from '../../../bin/bench/capacity-model.js';

const index = (n: number, projection: IndexShape['projection'] = { type: 'ALL' }): IndexShape => ({
  indexName: `GSI${n}`,
  partitionKey: `GSI${n}PK`,
  sortKey: `GSI${n}SK`,
  projection,
});
const table = (...indexes: IndexShape[]): TableShape => ({ partitionKey: 'PK', sortKey: 'SK', indexes });
const pad = (bytes: number) => 'x'.repeat(bytes);

describe('item size (DynamoDB "Item sizes and formats")', () => {
  it('counts attribute names and values: strings in UTF-8, numbers by significant digits, maps and lists with overhead', () => {
    expect(valueSize('abc')).toBe(3);
    expect(valueSize('é')).toBe(2);
    expect(valueSize(true)).toBe(1);
    expect(valueSize(null)).toBe(1);
    expect(valueSize(12345)).toBe(4); // 5 significant digits → 3 bytes + 1
    expect(valueSize(1000)).toBe(2); // trailing zeros trimmed: 1 digit → 1 + 1
    expect(valueSize(0.0125)).toBe(3); // "125"
    expect(valueSize(['ab', 1])).toBe(3 + (1 + 2) + (1 + 2));
    expect(valueSize({ k: 'v' })).toBe(3 + 1 + 1 + 1);
    expect(valueSize(new Set(['a', 'bc']))).toBe(3);
    expect(itemSize({ PK: 'AGENT#1', SK: 'AGENT', n: 7, gone: undefined })).toBe(2 + 7 + 2 + 5 + 1 + 2);
  });

  it('a write costs one unit per started KB, at least one', () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(writeUnits(3000)).toBe(3);
  });
});

describe('write units per partition, table and indexes', () => {
  const base = { PK: 'AGENT#a', SK: 'AGENT' };

  it('a put of a 1.5 KB item in one index: 2 units on the table, 2 on the index', () => {
    const item = { ...base, GSI1PK: 'CLIENT#c#AGENTS', GSI1SK: 't#a', data: pad(1500) };
    const writes = modelItemWrite({ outcome: 'written', transactional: false, partition: 'AGENT#a', newImage: item }, table(index(1), index(2)));
    expect(writes).toEqual([
      { target: 'table', partition: 'AGENT#a', units: 2, kind: 'put' },
      { target: 'GSI1', partition: 'CLIENT#c#AGENTS', units: 2, kind: 'put' },
    ]);
  });

  it('a heartbeat-like update: same GSI1/GSI2 keys rewritten (ALL projection), GSI3 sort key moved = delete + put', () => {
    const old = { ...base, GSI1PK: 'C', GSI1SK: '1', GSI2PK: 'AGENTS', GSI2SK: '1', GSI3PK: 'AGENTS#ONLINE', GSI3SK: 't1', data: pad(1100) };
    const next = { ...old, GSI3SK: 't2', last: 't2' };
    const writes = modelItemWrite({ outcome: 'written', transactional: false, partition: 'AGENT#a', oldImage: old, newImage: next }, table(index(1), index(2), index(3)));
    const byTarget = (t: string) => writes.filter((w) => w.target === t).map((w) => [w.kind, w.units]);
    expect(byTarget('table')).toEqual([['update', 2]]);
    expect(byTarget('GSI1')).toEqual([['update', 2]]);
    expect(byTarget('GSI2')).toEqual([['update', 2]]);
    expect(byTarget('GSI3')).toEqual([['delete', 2], ['put', 2]]);
    expect(writes.reduce((n, w) => n + w.units, 0)).toBe(10);
  });

  it('a narrow projection is not rewritten when neither its key nor its projected attributes change', () => {
    const old = { ...base, GSI1PK: 'C', GSI1SK: '1', status: 'online', last: 't1' };
    const next = { ...old, last: 't2' };
    const keysOnly = modelItemWrite({ outcome: 'written', transactional: false, partition: 'AGENT#a', oldImage: old, newImage: next }, table(index(1, { type: 'KEYS_ONLY' })));
    expect(keysOnly.map((w) => w.target)).toEqual(['table']);
    const include = table(index(1, { type: 'INCLUDE', nonKeyAttributes: ['status'] }));
    expect(modelItemWrite({ outcome: 'written', transactional: false, partition: 'AGENT#a', oldImage: old, newImage: next }, include).map((w) => w.target)).toEqual(['table']);
    const statusChange = { ...next, status: 'offline' };
    expect(modelItemWrite({ outcome: 'written', transactional: false, partition: 'AGENT#a', oldImage: old, newImage: statusChange }, include)).toContainEqual({
      target: 'GSI1',
      partition: 'C',
      units: 1,
      kind: 'update',
    });
  });

  it('leaving a sparse index is one delete; a delete removes the item from every index it was in', () => {
    const old = { ...base, GSI2PK: 'COMMANDS#OPEN', GSI2SK: 'x' };
    const { GSI2PK: _pk, GSI2SK: _sk, ...left } = old;
    expect(modelItemWrite({ outcome: 'written', transactional: false, partition: 'AGENT#a', oldImage: old, newImage: left }, table(index(2)))).toEqual([
      { target: 'table', partition: 'AGENT#a', units: 1, kind: 'update' },
      { target: 'GSI2', partition: 'COMMANDS#OPEN', units: 1, kind: 'delete' },
    ]);
    expect(modelItemWrite({ outcome: 'written', transactional: false, partition: 'AGENT#a', oldImage: old }, table(index(2))).map((w) => w.kind)).toEqual(['delete', 'delete']);
  });

  it('transactional writes cost twice; failed, no-op and condition-check items cost the table only', () => {
    const item = { ...base, GSI1PK: 'C', GSI1SK: '1' };
    const tx = modelItemWrite({ outcome: 'written', transactional: true, partition: 'AGENT#a', newImage: item }, table(index(1)));
    expect(tx.map((w) => w.units)).toEqual([2, 2]);
    for (const outcome of ['failed', 'unchanged', 'condition-check'] as const) {
      expect(modelItemWrite({ outcome, transactional: false, partition: 'AGENT#a', existingSize: 2500 }, table(index(1)))).toEqual([
        { target: 'table', partition: 'AGENT#a', units: 3, kind: 'update' },
      ]);
    }
    expect(modelItemWrite({ outcome: 'condition-check', transactional: true, partition: 'X', existingSize: 0 }, table())[0]?.units).toBe(2);
  });
});

describe('partition classes and the hottest partition at scale', () => {
  const clientOf = new Map([['a1', 'c1'], ['a2', 'c1'], ['a3', 'c2'], ['a4', 'c2']]);
  const cls = (agents: string[], clients: string[] = []) => classifyPartition(new Set(agents), new Set(clients), clientOf, 4);

  it('classifies by which simulated agents (and clients) write a key', () => {
    expect(cls(['a1'])).toBe('per-agent');
    expect(cls(['a1', 'a2'])).toBe('per-client');
    expect(cls([], ['c2'])).toBe('per-client');
    expect(cls(['a1', 'a3'])).toBe('shared-subset');
    expect(cls(['a1', 'a2', 'a3', 'a4'])).toBe('installation-wide');
    expect(cls([])).toBe('jobs-only');
    expect(cls(['a1'], ['c2'])).toBe('shared-subset');
  });

  it('scales a partition with the writers it would have: one agent, the largest client, or the whole fleet', () => {
    const load = (c: PartitionLoad['cls'], unitsPerSecond: number, writers: number, partition = c): PartitionLoad => ({ target: 'GSI3', partition, cls: c, unitsPerSecond, writers });
    const fleet = { agents: 100_000, agentsPerClient: 100 };
    expect(rateAt(load('per-agent', 0.13, 1), fleet)).toBeCloseTo(0.13);
    expect(rateAt(load('per-client', 0.2, 2), fleet)).toBeCloseTo(10);
    expect(rateAt(load('installation-wide', 0.56, 4), fleet)).toBeCloseTo(14_000);
    expect(rateAt(load('jobs-only', 0.05, 1), fleet)).toBeCloseTo(0.05);
    const hottest = hottestByTarget([load('per-client', 0.2, 2), load('installation-wide', 0.56, 4), load('per-agent', 5, 1)], fleet).get('GSI3');
    expect(hottest?.load.cls).toBe('installation-wide');
    // One client holding every agent: the per-client key grows with the whole fleet too.
    expect(rateAt(load('per-client', 0.2, 2), { agents: 100_000, agentsPerClient: 100_000 })).toBeCloseTo(10_000);
  });

  it('prints keys as patterns', () => {
    const names = new Map([['1f08c6aa', '<aid>'], ['m5.large.us-east-1a', '<pool>'], ['m5.large', '<type>']]);
    expect(keyPattern('AGENT#1f08c6aa#INSTANCES', names)).toBe('AGENT#<aid>#INSTANCES');
    expect(keyPattern('STAGE#m5.large.us-east-1a', names)).toBe('STAGE#<pool>');
    expect(keyPattern('POOLS#us-east-1#m5.large', names)).toBe('POOLS#us-east-1#<type>');
    expect(keyPattern('STAGE#DAY#2025-01-15', names)).toBe('STAGE#DAY#<day>');
    expect(keyPattern('FEED#ALL#2025-01-15T12:00:00.000Z', names)).toBe('FEED#ALL#<time>');
  });
});
