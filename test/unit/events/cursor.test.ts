import { describe, expect, it } from 'vitest';
import { parseCursor } from '../../../functions/events/service.js';

describe('events cursor', () => {
  it('accepts feed cursors and ISO times, refuses anything else', () => {
    expect(parseCursor('2025-01-15T12:00:00.000Z#ab12', 'query.since')).toBe('2025-01-15T12:00:00.000Z#ab12');
    expect(parseCursor('2025-01-15T12:00:00', 'query.since')).toBe('2025-01-15T12:00:00.000Z');
    expect(parseCursor('2025-01-15T13:00:00+01:00', 'query.since')).toBe('2025-01-15T12:00:00.000Z');
    expect(() => parseCursor('garbage', 'query.since')).toThrow(/cursor/);
    expect(() => parseCursor('2025-99-99', 'query.since')).toThrow();
  });
});
