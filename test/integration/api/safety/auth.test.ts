import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../../../../functions/route-table.js';
import { routeKey } from '../../../../functions/shared/http/route.js';
import { buildWorld, digestOfB, send, validRequest, type World } from './world.js';

/**
 * Generated from ROUTE_TABLE (a new route is covered without anyone listing it): every protected
 * route refuses a request without a token or with an unknown one (401), and every admin route
 * refuses a client token (403 ADMIN_REQUIRED) — with a request that would otherwise be valid, so
 * the refusal is the auth check's and not the validator's. Refusals write nothing.
 */
let world: World;
beforeAll(async () => {
  world = await buildWorld();
});

const protectedRoutes = ROUTE_TABLE.filter((r) => r.auth !== 'none');
const adminRoutes = ROUTE_TABLE.filter((r) => r.auth === 'admin');
const name = (r: (typeof ROUTE_TABLE)[number]) => routeKey(r);

describe('route coverage', () => {
  it('covers every route of the table: protected + public = all, and admin routes are protected', () => {
    const publicRoutes = ROUTE_TABLE.filter((r) => r.auth === 'none');
    expect(protectedRoutes.length + publicRoutes.length).toBe(ROUTE_TABLE.length);
    expect(publicRoutes.map(name).sort()).toEqual(['GET /', 'GET /console', 'GET /console/assets/{file}', 'GET /health']);
    expect(adminRoutes.every((r) => r.path.startsWith('/api/admin/'))).toBe(true);
    expect(ROUTE_TABLE.filter((r) => r.path.startsWith('/api/admin/')).every((r) => r.auth === 'admin')).toBe(true);
  });

  it('can build a valid request for every route (else the tests below would test the validator)', () => {
    const invalid = ROUTE_TABLE.map((r) => ({ route: name(r), ...validRequest(r, world) })).filter((x) => !x.valid);
    expect(invalid.map((x) => `${x.route}: ${x.issues.join('; ')}`)).toEqual([]);
  });
});

describe('no token → 401', () => {
  it.each(protectedRoutes.map((r) => [name(r), r] as const))('%s', async (_name, route) => {
    const before = await digestOfB(world);
    const req = validRequest(route, world);
    // The register route also takes a token in its body: this request carries none anywhere.
    const body = req.body && typeof req.body === 'object' ? { ...(req.body as object), client_token: undefined } : req.body;
    const res = await send(route, { ...req, body });
    expect(res.status, res.text).toBe(401);
    expect((res.json as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    expect(await digestOfB(world)).toBe(before);
  });
});

describe('unknown token → 401', () => {
  it.each(protectedRoutes.map((r) => [name(r), r] as const))('%s', async (_name, route) => {
    const res = await send(route, validRequest(route, world), `unknown-${'x'.repeat(40)}`);
    expect(res.status, res.text).toBe(401);
  });
});

describe('admin route with a client token → 403 ADMIN_REQUIRED', () => {
  it.each(adminRoutes.map((r) => [name(r), r] as const))('%s', async (_name, route) => {
    const before = await digestOfB(world);
    // B's own token on B's resources: still not an admin.
    const res = await send(route, validRequest(route, world), world.b.token);
    expect(res.status, res.text).toBe(403);
    expect((res.json as { error: { code: string } }).error.code).toBe('ADMIN_REQUIRED');
    expect(await digestOfB(world)).toBe(before);
  });
});
