import { beforeAll, describe, expect, it } from 'vitest';
import { groupHandlerPath, loadHandler } from '../../../../bin/support/local-gateway.js';
import { healthRoutes } from '../../../../functions/health/routes.js';
import { ROUTE_TABLE, ROUTES_BY_GROUP } from '../../../../functions/route-table.js';
import { createGroupHandler } from '../../../../functions/shared/http/create-handler.js';
import { type GroupName, routeKey } from '../../../../functions/shared/http/route.js';
import { TEST_ADMIN_TOKEN } from '../../../support/constants.js';
import { buildWorld, send, validRequest, type World } from './world.js';

/**
 * Every route has an implementation: the compiler demands one per route of a group
 * (`Implementations<T>` is total), a handler built without one fails at cold start, every group's
 * handler builds, and every route answers a request its own schemas accept without a server error.
 */

let world: World;
beforeAll(async () => {
  world = await buildWorld();
});

describe('route implementations', () => {
  it('a group handler without an implementation of each route does not compile, and fails when built', () => {
    // @ts-expect-error getHealth is missing: Implementations<T> requires every route of the group.
    expect(() => createGroupHandler(healthRoutes, { getBanner: async () => ({}) })).toThrow(/getHealth/);
  });

  it('every group handler builds with all of its routes', async () => {
    for (const group of Object.keys(ROUTES_BY_GROUP) as GroupName[]) {
      expect(typeof (await loadHandler(groupHandlerPath(group))), group).toBe('function');
    }
  });

  it('every route answers a valid request without a server error', async () => {
    const failed: string[] = [];
    for (const route of ROUTE_TABLE) {
      const req = validRequest(route, world);
      expect(req.valid, `${routeKey(route)}: ${req.issues.join('; ')}`).toBe(true);
      const res = await send(route, req, route.auth === 'none' ? undefined : TEST_ADMIN_TOKEN);
      if (res.status >= 500) failed.push(`${routeKey(route)} → ${res.status} ${res.text.slice(0, 200)}`);
    }
    expect(failed).toEqual([]);
  });
});
