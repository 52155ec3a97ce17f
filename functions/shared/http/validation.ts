import type { z } from 'zod';
import type { ErrorDetail } from '../domain/errors.js';
import { ValidationError } from '../domain/errors.js';

type Location = 'body' | 'query' | 'path' | 'header';

/** Zod issues → API.md §1.3 details, with field paths rooted at body./query./path. */
export function issuesToDetails(location: Location, issues: z.core.$ZodIssue[]): ErrorDetail[] {
  return issues.map((issue) => {
    const field = [location, ...issue.path.map(String)].join('.');
    const missing =
      issue.code === 'invalid_type' && /received undefined/i.test(issue.message);
    return { field, issue: missing ? 'required' : issue.message };
  });
}

/** Parses one part of the request, throwing a 400 that names every bad field. */
export function parsePart<S extends z.ZodType>(location: Location, schema: S | undefined, value: unknown): z.infer<S> {
  if (!schema) return {} as z.infer<S>;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = issuesToDetails(location, result.error.issues);
  const first = details[0];
  throw new ValidationError(
    first ? `${first.field}: ${first.issue}` : `invalid ${location}`,
    details,
  );
}
