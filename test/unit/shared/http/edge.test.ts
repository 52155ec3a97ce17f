import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ValidationError } from '../../../../functions/shared/domain/errors.js';
import { errorResult } from '../../../../functions/shared/http/responses.js';
import { parsePart } from '../../../../functions/shared/http/validation.js';

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
