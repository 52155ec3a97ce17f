import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type z } from 'zod';
import { ROUTE_TABLE } from '../../../../functions/route-table.js';
import { type RouteDef, routeKey } from '../../../../functions/shared/http/route.js';
import { randomUUID } from 'node:crypto';
import { randomInstanceId } from '../../../support/factories.js';
import { buildWorld, digestOfB, fillPath, send, tokenFor, validRequest, type World } from './world.js';
import { useIsolatedTable } from '../../../support/isolated-table.js';

/**
 * Generated from ROUTE_TABLE, like malformed-bodies: every route, called by its rightful caller on
 * B's resources, with property-based (fast-check) query strings — its own query fields and unknown
 * ones set to junk, impossible dates, reversed ranges, huge numbers — and, on every paginated route,
 * forged, altered and borrowed `nextToken`s. Never a 5xx, never a write; a page token this server
 * did not mint for this caller and this listing is 400 INVALID_NEXT_TOKEN.
 */
const NUM_RUNS = 15;

// A table of its own: the installation-wide routes (global export, admin lists) then read only this
// file's world, however many clients the rest of the suite has created meanwhile.
useIsolatedTable();

let world: World;
/** Genuine page tokens, each minted for another listing or another caller than the one it is replayed on. */
const genuine: { route: string; token: string }[] = [];

const queryShape = (route: RouteDef): Record<string, z.ZodType> =>
  ((route.query as unknown as { shape?: Record<string, z.ZodType> } | undefined)?.shape ?? {});
const paginated = ROUTE_TABLE.filter((r) => 'nextToken' in queryShape(r));

beforeAll(async () => {
  world = await buildWorld();
  // A second page exists wherever a listing holds two items: mint tokens with limit=1.
  for (const route of paginated) {
    const base = validRequest(route, world);
    const res = await send(route, { path: base.path, query: { ...(base.query ?? {}), limit: '1' } }, tokenFor(route, world.b.token));
    const token = (res.json as { nextToken?: unknown } | undefined)?.nextToken;
    if (res.status === 200 && typeof token === 'string') genuine.push({ route: routeKey(route), token });
  }
});

const junkValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    '-1',
    '0',
    '1e309',
    '99999999999999999999',
    'NaN',
    'null',
    'true',
    '[]',
    '{}',
    '2025-02-30',
    '2025-13-01T00:00:00Z',
    '2025-01-15T24:00:00Z',
    '9999-12-31T23:59:59Z',
    '%00',
    '\u0000',
    'x'.repeat(5000),
    'i-0123456789abcdef0,i-0123456789abcdef1',
    '../../etc/passwd',
    "' OR 1=1 --",
  ),
);

/** A base64url JSON object, the repositories' own token format (what a caller could forge without the key). */
const forgedJson = fc
  .dictionary(fc.constantFrom('PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'r', 't', 'x'), fc.oneof(fc.string({ maxLength: 40 }), fc.integer()), { maxKeys: 4 })
  .map((o) => Buffer.from(JSON.stringify(o)).toString('base64url'));

/** Flips one byte of a genuine token (or truncates / extends it). */
const altered = (token: string) =>
  fc.oneof(
    fc.nat({ max: Math.max(0, Buffer.from(token, 'base64url').length - 1) }).map((i) => {
      const raw = Buffer.from(token, 'base64url');
      raw[i] = (raw[i] as number) ^ 0x01;
      return raw.toString('base64url');
    }),
    // At least one character: an empty nextToken asks for the first page (a valid request).
    fc.integer({ min: 1, max: token.length - 1 }).map((n) => token.slice(0, n)),
    fc.string({ minLength: 1, maxLength: 8 }).map((s) => `${token}${Buffer.from(s).toString('base64url')}`),
  );

function badTokens(route: RouteDef): fc.Arbitrary<string> {
  const key = routeKey(route);
  const borrowed = genuine.filter((g) => g.route !== key).map((g) => g.token);
  const own = genuine.find((g) => g.route === key)?.token;
  const options: fc.Arbitrary<string>[] = [
    forgedJson,
    fc.string({ minLength: 1, maxLength: 60 }),
    fc.constantFrom('e30', 'e30=', '{}', '123', 'null', 'W10', 'eyJQSyI6MX0', '%7B%7D', 'AAAA', 'A'.repeat(2048)),
    fc.uint8Array({ minLength: 1, maxLength: 120 }).map((b) => Buffer.from(b).toString('base64url')),
  ];
  if (borrowed.length > 0) options.push(fc.constantFrom(...borrowed));
  if (own) options.push(altered(own));
  return fc.oneof(...options);
}

function junkQueries(route: RouteDef, valid: Record<string, string>): fc.Arbitrary<Record<string, string>> {
  const fields = [...new Set([...Object.keys(queryShape(route)), ...Object.keys(valid), 'from', 'to', 'limit', 'nextToken'])];
  return fc
    .dictionary(fc.oneof(fc.constantFrom(...fields), fc.string({ minLength: 1, maxLength: 12 })), junkValue, { minKeys: 1, maxKeys: 4 })
    .map((junk) => ({ ...valid, ...junk }));
}

/** Path parameters naming nothing that exists. */
const nowhere = (): Record<string, string> => ({
  cid: randomUUID(),
  aid: randomUUID(),
  iid: randomInstanceId(),
  rid: randomUUID(),
  cmd: randomUUID(),
  nid: randomUUID(),
});

const isServerError = (status: number) => status >= 500;

describe('fuzzed query strings → never 5xx, nothing written', () => {
  it('covers every route; the paginated ones are known', () => {
    expect(ROUTE_TABLE.length).toBeGreaterThan(80);
    expect(paginated.length).toBeGreaterThan(10);
  });

  it.each(ROUTE_TABLE.map((r) => [routeKey(r), r] as const))('%s', async (_name, route) => {
    const base = validRequest(route, world);
    expect(base.valid, base.issues.join('; ')).toBe(true);
    const valid = (base.query ?? {}) as Record<string, string>;
    const token = tokenFor(route, world.b.token);
    const before = await digestOfB(world);
    // A write route is aimed at resources that do not exist and given a body its schema refuses, so
    // a query the route accepts cannot delete or change B's data mid-run (a GET is aimed at B).
    // pending-commands is the one GET with an effect (it acknowledges the first command, API.md §3.5).
    const path = route.method === 'GET' && route.operationId !== 'getPendingCommands' ? base.path : fillPath(route, nowhere());
    const body = route.body ? '[]' : undefined;
    await fc.assert(
      fc.asyncProperty(junkQueries(route, valid), async (query) => {
        const res = await send(route, { path, query, ...(body !== undefined ? { body } : {}) }, token);
        if (isServerError(res.status)) {
          throw new Error(`${routeKey(route)} answered ${res.status} to ?${new URLSearchParams(query).toString().slice(0, 300)}: ${res.text.slice(0, 300)}`);
        }
      }),
      { numRuns: NUM_RUNS },
    );
    expect(await digestOfB(world)).toBe(before);
  });
});

describe('page tokens: only a token minted for this caller and this listing is accepted', () => {
  it('minted genuine tokens to replay and alter', () => {
    expect(genuine.length).toBeGreaterThan(3);
  });

  it.each(paginated.map((r) => [routeKey(r), r] as const))('%s', async (_name, route) => {
    const base = validRequest(route, world);
    const valid = (base.query ?? {}) as Record<string, string>;
    const token = tokenFor(route, world.b.token);
    await fc.assert(
      fc.asyncProperty(badTokens(route), async (nextToken) => {
        const res = await send(route, { path: base.path, query: { ...valid, nextToken } }, token);
        const code = (res.json as { error?: { code?: string } } | undefined)?.error?.code;
        if (res.status !== 400 || code !== 'INVALID_NEXT_TOKEN') {
          throw new Error(`${routeKey(route)} answered ${res.status} ${code ?? ''} to nextToken=${nextToken.slice(0, 80)}: ${res.text.slice(0, 200)}`);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("a genuine token works for its own listing and caller, and not for another client's token", async () => {
    const own = genuine.find((g) => g.route.startsWith('GET /api/admin/clients'));
    expect(own).toBeDefined();
    const route = ROUTE_TABLE.find((r) => routeKey(r) === own?.route) as RouteDef;
    const page = await send(route, { path: route.path, query: { limit: '1', nextToken: own?.token ?? '' } }, tokenFor(route, world.b.token));
    expect(page.status).toBe(200);
    const clientRoute = paginated.find((r) => r.auth === 'client' && r.path.includes('{cid}')) as RouteDef;
    const base = validRequest(clientRoute, world);
    const res = await send(clientRoute, { path: base.path, query: { ...(base.query ?? {}), nextToken: own?.token ?? '' } }, world.b.token);
    expect(res.status).toBe(400);
  });
});

describe('ranges and calendar dates', () => {
  const ranged = ROUTE_TABLE.filter((r) => 'from' in queryShape(r) && 'to' in queryShape(r));

  it('every route with a range refuses from > to and impossible dates, naming the field', async () => {
    expect(ranged.map(routeKey).sort()).toEqual(
      expect.arrayContaining([
        'GET /api/client/{cid}/switch-history',
        'GET /api/client/{cid}/switches',
        'GET /api/client/{cid}/export/savings',
        'GET /api/client/{cid}/export/switch-history',
      ]),
    );
    for (const route of ranged) {
      const base = validRequest(route, world);
      const send1 = (query: Record<string, string>) =>
        send(route, { path: base.path, query: { ...(base.query as Record<string, string>), ...query } }, world.b.token);
      const reversed = await send1({ from: '2025-03-01T00:00:00Z', to: '2025-02-01T00:00:00Z' });
      expect(reversed.status, routeKey(route)).toBe(400);
      expect(reversed.text).toContain('query.from');
      const impossible = await send1({ from: '2025-02-30' });
      expect(impossible.status, routeKey(route)).toBe(400);
      expect(impossible.text).toContain('query.from');
      const fine = await send1({ from: '2025-02-28', to: '2025-03-01T00:00:00+01:00' });
      expect(fine.status, `${routeKey(route)}: ${fine.text.slice(0, 200)}`).toBe(200);
    }
  });
});
