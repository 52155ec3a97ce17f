import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../../../../functions/route-table.js';
import { addDbHook } from '../../../../functions/shared/db/client.js';
import { actionsOf, TABLE_ACTIONS } from '../../../../functions/shared/db/table-access.js';
import { GROUP_TABLE_ACCESS, routeKey } from '../../../../functions/shared/http/route.js';
import { TEST_ADMIN_TOKEN } from '../../../support/constants.js';
import { buildWorld, send, validRequest, type World } from './world.js';

/**
 * Least privilege, checked against behaviour: every route of the route table, called with a valid
 * request, sends only DynamoDB commands its group's declared table access allows (the same
 * declaration the stack's IAM policies are built from). Read-only groups never write; nothing scans.
 */
let world: World;
const calls: { command: string; input: Readonly<Record<string, unknown>> }[] = [];
let remove: (() => void) | undefined;

beforeAll(async () => {
  world = await buildWorld();
  remove = addDbHook('table-access-recorder', async (call, sendCall) => {
    calls.push(call);
    return sendCall({ ...call.input });
  });
});
afterAll(() => remove?.());

// Destructive routes last, so the others run against live data.
const destructive = (method: string, path: string) => method === 'DELETE' || path.endsWith('/regenerate-token');
const routes = [...ROUTE_TABLE].sort((a, b) => Number(destructive(a.method, a.path)) - Number(destructive(b.method, b.path)));

describe('each route sends only the DynamoDB commands its group may', () => {
  it.each(routes.map((r) => [routeKey(r), r] as const))('%s', async (_name, route) => {
    const req = validRequest(route, world);
    calls.length = 0;
    const res = await send(route, req, route.auth === 'none' ? undefined : route.auth === 'admin' ? TEST_ADMIN_TOKEN : world.b.token);
    expect(res.status, res.text.slice(0, 200)).toBeLessThan(500);
    const allowed = new Set<string>(TABLE_ACTIONS[GROUP_TABLE_ACCESS[route.group]]);
    const used = [...new Set(calls.flatMap((c) => actionsOf(c.command, c.input)))];
    expect(used.filter((a) => !allowed.has(a)), `${route.group} is declared ${GROUP_TABLE_ACCESS[route.group]}`).toEqual([]);
  });
});
