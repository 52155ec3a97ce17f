import { beforeAll, describe, expect, it } from 'vitest';
import { buildHttpEvent, createLambdaContext } from '../../bin/support/local-gateway.js';
import { adminRoutes } from '../../functions/admin/routes.js';
import { ROUTE_TABLE } from '../../functions/route-table.js';
import { createGroupHandler } from '../../functions/shared/http/create-handler.js';
import { routeKey } from '../../functions/shared/http/route.js';
import { TEST_ADMIN_TOKEN } from '../support/constants.js';
import { buildWorld, send, validRequest, type World } from './safety/world.js';

/**
 * The explicit allow-list of routes that may still answer 501 NOT_IMPLEMENTED (issue 2). It must
 * shrink to empty: when a route gets its implementation, this test fails until the route is
 * removed from the list, and a route outside the list that answers 501 fails too.
 *
 * Every route is called with the admin token (it may act for any client) and a request generated
 * from the route's own schemas that passes validation, so a 501 can only mean "no implementation".
 */
const NOT_IMPLEMENTED = new Set<string>([]);

let world: World;
beforeAll(async () => {
  world = await buildWorld();
});

describe('routes answering 501', () => {
  it('are detected: a route without an implementation answers 501 to a valid request', async () => {
    const bare = createGroupHandler(adminRoutes, {});
    const event = buildHttpEvent({
      method: 'GET',
      rawPath: '/api/admin/stats',
      routeKey: 'GET /api/admin/stats',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    const res = (await bare(event, createLambdaContext('test'))) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(501);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'NOT_IMPLEMENTED' } });
  });

  it('lists only real routes', () => {
    const known = new Set(ROUTE_TABLE.map(routeKey));
    expect([...NOT_IMPLEMENTED].filter((k) => !known.has(k))).toEqual([]);
  });

  it('are exactly the allow-listed ones', async () => {
    const answering501: string[] = [];
    for (const route of ROUTE_TABLE) {
      const req = validRequest(route, world);
      expect(req.valid, `${routeKey(route)}: ${req.issues.join('; ')}`).toBe(true);
      const res = await send(route, req, route.auth === 'none' ? undefined : TEST_ADMIN_TOKEN);
      if (res.status === 501) answering501.push(routeKey(route));
    }
    expect(answering501.sort()).toEqual([...NOT_IMPLEMENTED].sort());
  });
});
