import { describe, expect, it } from 'vitest';
import { buildUpdate, type Condition, renderCondition, where } from '../../../../functions/shared/db/conditions.js';
import { TransactionConflict, txPart } from '../../../../functions/shared/db/transaction.js';

describe('conditional update builder', () => {
  it('always bumps the version and checks the expected one', () => {
    const u = buildUpdate({ PK: 'A', SK: 'B' }, { set: { x: 1, skipped: undefined }, remove: ['GSI1PK'], expectedVersion: 3 });
    expect(u.UpdateExpression).toBe('SET #version = if_not_exists(#version, :zero) + :one, #s0 = :s0 REMOVE #r0');
    expect(u.ConditionExpression).toBe('attribute_exists(PK) AND #version = :expected');
    expect(u.ExpressionAttributeValues).toMatchObject({ ':expected': 3, ':s0': 1 });
  });
});

describe('condition builder', () => {
  it('renders named parts with placeholders of their own, and never doubles parentheses', () => {
    const c = renderCondition(
      where.and(
        where.ne('status', 'deleted'),
        where.is('primary_instance_id', null),
        where.or(where.absent('agents_live'), where.lt('agents_live', 5)),
        where.in('role', ['PRIMARY', 'REPLICA']),
        false,
      ) as Condition,
    );
    expect(c.expression).toBe(
      '#c0 <> :c1 AND (attribute_not_exists(#c2) OR #c2 = :c3) AND (attribute_not_exists(#c4) OR #c4 < :c5) AND #c6 IN (:c7, :c8)',
    );
    expect(c.names).toEqual({ '#c0': 'status', '#c2': 'primary_instance_id', '#c4': 'agents_live', '#c6': 'role' });
    expect(c.values).toEqual({ ':c1': 'deleted', ':c3': null, ':c5': 5, ':c7': 'PRIMARY', ':c8': 'REPLICA' });
    expect(where.and(false, undefined)).toBeUndefined();
    expect(renderCondition(where.is('open_switch_id', 'cmd-1')).expression).toBe('#c0 = :c1');
  });

  it('puts a map path, counters and the extra condition into one update', () => {
    const u = buildUpdate(
      { PK: 'A', SK: 'B' },
      { set: { 'config.enabled': false }, add: { agents_live: -1 }, bumpVersion: false, condition: where.gt('agents_live', 0) },
    );
    expect(u.UpdateExpression).toBe('SET #s0.#s0_1 = :s0 ADD #a0 :a0');
    expect(u.ConditionExpression).toBe('attribute_exists(PK) AND #c0 > :c1');
    expect(u.ExpressionAttributeNames).toEqual({ '#s0': 'config', '#s0_1': 'enabled', '#a0': 'agents_live', '#c0': 'agents_live' });
  });
});

describe('transaction conflicts', () => {
  it('name the parts whose condition failed and those another transaction held', () => {
    const parts = ['agent', 'logical-id', 'primary', 'agent-limit', 'search-entry'].map((name) => txPart(name, { Put: undefined }));
    const err = new TransactionConflict(parts, ['None', 'None', 'ConditionalCheckFailed', 'ConditionalCheckFailed', 'TransactionConflict']);
    expect(err.failed).toEqual(['primary', 'agent-limit']);
    expect(err.contended).toEqual(['search-entry']);
    expect(err.failedOn('agent-limit')).toBe(true);
    expect(err.failedOn('agent', 'logical-id')).toBe(false);
    expect(err.message).toBe('transaction cancelled: condition failed on primary, agent-limit; contended on search-entry');
  });
});
