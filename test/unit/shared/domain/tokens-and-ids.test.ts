import { describe, expect, it } from 'vitest';
import { parsePoolId, parseTimestamp } from '../../../../functions/shared/domain/ids.js';
import { digestsEqual, hashToken, tokenHint } from '../../../../functions/shared/domain/tokens.js';

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
