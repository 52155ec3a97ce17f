import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildUpdate } from '../../functions/shared/db/conditions.js';
import { ValidationError } from '../../functions/shared/domain/errors.js';
import { parsePoolId, parseTimestamp } from '../../functions/shared/domain/ids.js';
import { digestsEqual, hashToken, tokenHint } from '../../functions/shared/domain/tokens.js';
import { errorResult } from '../../functions/shared/http/responses.js';
import { parsePart } from '../../functions/shared/http/validation.js';

describe('validation details', () => {
  const schema = z.object({ a: z.string(), nested: z.object({ n: z.number() }) });
  it('names every bad field with its location', () => {
    try {
      parsePart('body', schema, { nested: { n: 'x' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).details).toEqual([
        { field: 'body.a', issue: 'required' },
        { field: 'body.nested.n', issue: expect.stringContaining('expected number') },
      ]);
    }
  });
});

describe('error mapping', () => {
  it('never serialises an unknown error', () => {
    const result = errorResult(new Error('secret internals at db.ts:42'), 'req-1');
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('secret');
    expect(JSON.parse(result.body)).toEqual({
      error: { code: 'INTERNAL_ERROR', message: 'internal error', details: [], request_id: 'req-1' },
    });
  });
});

describe('tokens', () => {
  it('hashes, compares in constant time and masks', () => {
    const h = hashToken('so_abc');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(digestsEqual(h, hashToken('so_abc'))).toBe(true);
    expect(digestsEqual(h, hashToken('so_abd'))).toBe(false);
    expect(digestsEqual(h, '')).toBe(false);
    expect(tokenHint('so_abcdefgh1234')).toBe('so_a…1234');
  });
});

describe('ids and times', () => {
  it('reads a timestamp without an offset as UTC', () => {
    expect(parseTimestamp('2025-01-15T12:00:00').toISOString()).toBe('2025-01-15T12:00:00.000Z');
    expect(parseTimestamp('2025-01-15T12:00:00+02:00').toISOString()).toBe('2025-01-15T10:00:00.000Z');
  });
  it('splits pool ids at the last dot', () => {
    expect(parsePoolId('t3.medium.us-east-1b')).toEqual({ instanceType: 't3.medium', az: 'us-east-1b', region: 'us-east-1' });
  });
});

describe('conditional update builder', () => {
  it('always bumps the version and checks the expected one', () => {
    const u = buildUpdate({ PK: 'A', SK: 'B' }, { set: { x: 1, skipped: undefined }, remove: ['GSI1PK'], expectedVersion: 3 });
    expect(u.UpdateExpression).toBe('SET #version = if_not_exists(#version, :zero) + :one, #s0 = :s0 REMOVE #r0');
    expect(u.ConditionExpression).toBe('attribute_exists(PK) AND #version = :expected');
    expect(u.ExpressionAttributeValues).toMatchObject({ ':expected': 3, ':s0': 1 });
  });
});
