/**
 * Builds a VALID example request part (body or query) from a route's own zod schema, so the
 * generated safety tests can reach each route's implementation (ownership checks, 501) without a
 * hand-written request per route. It walks the schema's JSON Schema (zod's input side), picks
 * candidate values, and repairs the fields zod still rejects (refinements the JSON Schema cannot
 * express) by trying their next candidate, until the whole part parses.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';

type Js = Record<string, unknown>;

/** Field name → value to use (e.g. `agent_id` → a real agent), tried before anything else. */
export type Hints = Record<string, string>;

const ISO = '2025-01-15T12:00:00.000Z';
const GENERIC_STRINGS = [
  'sample',
  ISO,
  't3.medium.us-east-1a',
  'i-0123456789abcdef0',
  'https://example.com/hook',
  '123456789012',
  'spot',
  'clients',
  'agent_status_changed',
  'us-east-1',
  'us-east-1a',
  't3.medium',
];

const TIME_FIELD = /(_at|time|since|before|from|^to|timestamp|cutoff_date)$/;

class Generator {
  /** Candidate index per path (bumped when zod rejects the value at that path). */
  readonly choice = new Map<string, number>();

  constructor(
    private readonly hints: Hints,
    private readonly strings: boolean,
  ) {}

  private pick<T>(path: string, options: T[]): T | undefined {
    if (options.length === 0) return undefined;
    return options[(this.choice.get(path) ?? 0) % options.length];
  }

  private stringCandidates(js: Js, name: string): string[] {
    const out: string[] = [];
    const hint = this.hints[name];
    if (hint !== undefined) out.push(hint);
    if (Array.isArray(js.enum)) out.push(...(js.enum as unknown[]).map(String));
    if (js.const !== undefined) out.push(String(js.const));
    if (js.format === 'uuid') out.push(randomUUID());
    if (js.format === 'email') out.push('ops@example.com');
    if (/url|webhook/i.test(name)) out.push('https://example.com/hook');
    if (TIME_FIELD.test(name)) out.push(ISO);
    const min = typeof js.minLength === 'number' ? js.minLength : 1;
    out.push(...GENERIC_STRINGS, 'x'.repeat(Math.max(1, min)));
    const max = typeof js.maxLength === 'number' ? js.maxLength : Number.POSITIVE_INFINITY;
    const pattern = typeof js.pattern === 'string' ? new RegExp(js.pattern) : undefined;
    const fitting = out.filter((s) => s.length >= min && s.length <= max && (!pattern || pattern.test(s)));
    return [...new Set(fitting.length > 0 ? fitting : out)];
  }

  private numberCandidates(js: Js): number[] {
    const lo = typeof js.minimum === 'number' ? js.minimum : typeof js.exclusiveMinimum === 'number' ? js.exclusiveMinimum + 1 : undefined;
    const hi = typeof js.maximum === 'number' ? js.maximum : undefined;
    const base = [lo ?? 1, hi, 1, 0, 5].filter((n): n is number => n !== undefined);
    return base.map((n) => (js.type === 'integer' ? Math.ceil(n) : n));
  }

  value(js: Js, path: string, name: string): unknown {
    if (js.const !== undefined) return js.const;
    const variants = (js.anyOf ?? js.oneOf) as Js[] | undefined;
    if (variants) {
      // Non-null variants first: a null is valid but exercises less of the route.
      const ordered = [...variants.filter((v) => v.type !== 'null'), ...variants.filter((v) => v.type === 'null')];
      return this.value(this.pick(`${path}#variant`, ordered) ?? {}, path, name);
    }
    const type = Array.isArray(js.type) ? (js.type as string[]).find((t) => t !== 'null') : (js.type as string | undefined);
    switch (type) {
      case 'string':
        return this.pick(path, this.stringCandidates(js, name));
      case 'number':
      case 'integer': {
        const n = this.pick(path, this.numberCandidates(js));
        return this.strings ? String(n) : n;
      }
      case 'boolean': {
        const b = this.pick(path, [true, false]);
        return this.strings ? String(b) : b;
      }
      case 'array': {
        const count = Math.max(typeof js.minItems === 'number' ? js.minItems : 0, this.pick(`${path}#len`, [0, 1]) ?? 0);
        const items = Array.from({ length: count }, (_, i) => this.value((js.items as Js) ?? {}, `${path}.${i}`, name));
        return this.strings ? items.join(',') : items;
      }
      case 'object':
        return this.object(js, path);
      default:
        return this.pick(path, this.strings ? ['sample'] : [{}, 'sample', 1]);
    }
  }

  object(js: Js, path: string): Record<string, unknown> {
    const props = (js.properties ?? {}) as Record<string, Js>;
    const required = new Set((js.required ?? []) as string[]);
    const withOptional = (this.choice.get(`${path}#optional`) ?? 0) % 2 === 1;
    const out: Record<string, unknown> = {};
    for (const [key, sub] of Object.entries(props)) {
      const hinted = this.hints[key] !== undefined;
      if (!required.has(key) && !withOptional && !hinted) continue;
      out[key] = this.value(sub, path ? `${path}.${key}` : key, key);
    }
    return out;
  }
}

export interface Example {
  value: unknown;
  valid: boolean;
  issues: string[];
}

/**
 * A value that `schema` accepts, or the best attempt with zod's remaining issues. `strings`:
 * build query-string values (every leaf a string, arrays comma-joined).
 */
export function exampleFor(schema: z.ZodType, hints: Hints = {}, strings = false): Example {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Js;
  const gen = new Generator(hints, strings);
  let value: unknown;
  let issues: z.core.$ZodIssue[] = [];
  for (let attempt = 0; attempt < 60; attempt++) {
    value = js.type === 'object' ? gen.object(js, '') : gen.value(js, '', '');
    const parsed = schema.safeParse(value);
    if (parsed.success) return { value, valid: true, issues: [] };
    issues = parsed.error.issues;
    for (const issue of issues) {
      const path = issue.path.map(String).join('.');
      gen.choice.set(path, (gen.choice.get(path) ?? 0) + 1);
      gen.choice.set(`${path}#variant`, (gen.choice.get(`${path}#variant`) ?? 0) + 1);
      // A rule across fields (or a missing optional one): try with the optional fields present.
      const parent = issue.path.slice(0, -1).map(String).join('.');
      if (issue.code === 'custom' || issue.path.length === 0 || /required/i.test(issue.message)) {
        // Sticky: once the optional fields of an object are in, they stay in.
        gen.choice.set(`${path}#optional`, 1);
        gen.choice.set(`${parent}#optional`, 1);
      }
      gen.choice.set(`${parent}#len`, (gen.choice.get(`${parent}#len`) ?? 0) + (attempt % 3 === 2 ? 1 : 0));
    }
  }
  return { value, valid: false, issues: issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
}
