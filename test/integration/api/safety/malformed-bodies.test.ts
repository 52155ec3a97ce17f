import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ROUTE_TABLE } from '../../../../functions/route-table.js';
import { type RouteDef, routeKey } from '../../../../functions/shared/http/route.js';
import { buildWorld, digestOfB, send, tokenFor, validRequest, type World } from './world.js';

/**
 * Generated from ROUTE_TABLE: every route with a body, called by its rightful caller on B's
 * resources, with property-based malformed bodies (fast-check): invalid JSON text, non-object
 * JSON, fields of the wrong type, missing required fields, huge strings, deeply nested junk.
 * Each must get a 4xx (never a 5xx) and write nothing of B's.
 */
const NUM_RUNS = 25;

let world: World;
beforeAll(async () => {
  world = await buildWorld();
});

type Body = { raw: string };

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** Any JSON value, a few levels deep. */
const junk: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** A JSON value nested `depth` levels deep: {"a":{"a":…}} or [[[…]]]. */
const deep = (depth: number, array: boolean): unknown => {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
};

function malformedBodies(route: RouteDef, valid: Record<string, unknown>): fc.Arbitrary<Body> {
  const schema = route.body as z.ZodType;
  const fields = Object.keys(valid);
  const props = Object.keys((schema as unknown as { shape?: Record<string, unknown> }).shape ?? {});
  const keysToBreak = [...new Set([...fields, ...props])];
  const invalidJson = fc
    .oneof(
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => `{${s}`),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => `${JSON.stringify(valid).slice(0, -1)},${s}`),
      fc.constantFrom('{', '[', '{"a":}', "{'a':1}", 'undefined', 'NaN', '{"a":1,}', '\u0000'),
    )
    .filter((t) => t.trim() !== '' && !isJson(t));
  const notAnObject = fc.oneof(
    fc.integer(),
    fc.string({ maxLength: 20 }),
    fc.array(junk, { maxLength: 3 }),
    fc.constant(null),
    fc.boolean(),
  );
  const arbitraries: fc.Arbitrary<unknown>[] = [notAnObject];
  if (keysToBreak.length > 0) {
    const key = fc.constantFrom(...keysToBreak);
    arbitraries.push(
      fc.tuple(key, junk).map(([k, v]) => ({ ...valid, [k]: v })),
      fc.tuple(key, fc.boolean()).map(([k, array]) => ({ ...valid, [k]: deep(60, array) })),
      fc.tuple(key, fc.constantFrom(10_000, 300_000)).map(([k, n]) => ({ ...valid, [k]: 'x'.repeat(n) })),
    );
  }
  if (fields.length > 0) {
    arbitraries.push(fc.constantFrom(...fields).map((k) => Object.fromEntries(Object.entries(valid).filter(([f]) => f !== k))));
  }
  const invalidJsonValues = fc
    .oneof(...arbitraries)
    .map((v) => ({ raw: JSON.stringify(v) ?? 'null', value: v }))
    // Only bodies the route's schema rejects are malformed (an all-optional body accepts a lot).
    .filter(({ raw }) => raw.length > 256 * 1024 || !schema.safeParse(JSON.parse(raw)).success)
    .map(({ raw }) => ({ raw }));
  return fc.oneof(invalidJson.map((raw) => ({ raw })), invalidJsonValues);
}

const bodyRoutes = ROUTE_TABLE.filter((r) => r.body !== undefined);

describe('malformed bodies → 4xx, never 5xx, nothing written', () => {
  it('covers every route that declares a body (and no GET route declares one)', () => {
    expect(bodyRoutes.length).toBeGreaterThan(20);
    expect(bodyRoutes.filter((r) => r.method === 'GET').map(routeKey)).toEqual([]);
  });

  it.each(bodyRoutes.map((r) => [routeKey(r), r] as const))('%s', async (_name, route) => {
    const base = validRequest(route, world);
    expect(base.valid, base.issues.join('; ')).toBe(true);
    const valid = (base.body ?? {}) as Record<string, unknown>;
    const token = tokenFor(route, world.b.token);
    const before = await digestOfB(world);
    await fc.assert(
      fc.asyncProperty(malformedBodies(route, valid), async ({ raw }) => {
        const res = await send(route, { path: base.path, ...(base.query ? { query: base.query } : {}), body: raw }, token);
        if (res.status < 400 || res.status >= 500) {
          throw new Error(`${routeKey(route)} answered ${res.status} to ${raw.slice(0, 200)}: ${res.text.slice(0, 300)}`);
        }
      }),
      { numRuns: NUM_RUNS },
    );
    expect(await digestOfB(world)).toBe(before);
  });
});
