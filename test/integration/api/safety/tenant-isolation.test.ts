import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../../../../functions/route-table.js';
import { routeKey } from '../../../../functions/shared/http/route.js';
import { buildWorld, digestOfB, leakedMarkers, pathParams, RESOURCE_PARAMS, send, validRequest, type World } from './world.js';

/**
 * Generated from ROUTE_TABLE: client A's token aimed at client B's resources, with requests that
 * pass validation (so the route's own access check answers):
 * - a route naming B's `{cid}` → 403 FORBIDDEN (API.md §1.1);
 * - a route naming B's agent, instance, replica, command or notification → 404, as if absent;
 * - any other client route answers for A only: whatever the status, never B's data.
 * No answer ever carries B's data, and nothing of B's is written.
 */
let world: World;
let before: string;
beforeAll(async () => {
  world = await buildWorld();
  before = await digestOfB(world);
});
afterAll(async () => {
  // Checked once more for the whole file: no cross-tenant request changed anything of B's.
  expect(await digestOfB(world)).toBe(before);
});

const clientRoutes = ROUTE_TABLE.filter((r) => r.auth === 'client' || r.auth === 'agent-client');

describe("client A's token on client B's resources", () => {
  it.each(clientRoutes.map((r) => [routeKey(r), r] as const))('%s', async (_name, route) => {
    const req = validRequest(route, world);
    expect(req.valid, req.issues.join('; ')).toBe(true);
    const res = await send(route, req, world.a.token);
    const params = pathParams(route);
    const code = (res.json as { error?: { code?: string } } | undefined)?.error?.code;
    if (params.includes('cid')) {
      expect(res.status, res.text).toBe(403);
      expect(code).toBe('FORBIDDEN');
    } else if (params.some((p) => RESOURCE_PARAMS.includes(p))) {
      expect(res.status, res.text).toBe(404);
      expect(['NOT_FOUND', 'AGENT_DELETED']).toContain(code);
    } else {
      expect(res.status, res.text).toBeLessThan(500);
    }
    expect(leakedMarkers(world, req, res), res.text).toEqual([]);
  });

  // A's own {cid}, but B's agent/instance/… ids in the query and body (e.g. ?agent_id=<B's agent>).
  const ownCidRoutes = clientRoutes.filter((r) => pathParams(r).includes('cid') && (r.query || r.body));
  it.each(ownCidRoutes.map((r) => [routeKey(r), r] as const))('%s with A’s own {cid} and B’s ids in query/body', async (_name, route) => {
    const req = validRequest(route, { ...world, params: { ...world.params, cid: world.a.client.id } });
    expect(req.valid, req.issues.join('; ')).toBe(true);
    const res = await send(route, req, world.a.token);
    expect(res.status, res.text).toBeLessThan(500);
    expect(leakedMarkers(world, req, res), res.text).toEqual([]);
  });

  it('B itself reaches the same resources (so the refusals above are about ownership)', async () => {
    const route = ROUTE_TABLE.find((r) => r.operationId === 'getAgent');
    if (!route) throw new Error('getAgent route missing');
    const res = await send(route, validRequest(route, world), world.b.token);
    expect(res.status).toBe(200);
    expect(res.text).toContain(world.b.agent.hostname);
  });
});
