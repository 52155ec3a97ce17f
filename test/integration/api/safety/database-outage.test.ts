import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../../../../functions/route-table.js';
import { MAX_BODY_BYTES } from '../../../../functions/shared/http/create-handler.js';
import { type RouteDef, routeKey } from '../../../../functions/shared/http/route.js';
import { FaultInjector } from '../../../support/faults.js';
import {
  buildHttpEvent,
  createLambdaContext,
  groupHandlerPath,
  type HttpHandler,
  loadHandler,
  normalizeResult,
} from '../../../../bin/support/local-gateway.js';
import { addDbHook } from '../../../../functions/shared/db/client.js';
import { api, startLocalApi } from '../../../support/http.js';
import { randomInstanceId } from '../../../support/factories.js';
import { buildWorld, send, tokenFor, validRequest, type World } from './world.js';

/**
 * Generated from ROUTE_TABLE (lib/OPERATIONS.md, `Http5xxRate`: 503 vs 500): while DynamoDB throttles or cannot be
 * reached, every route answers 503 SERVICE_UNAVAILABLE with Retry-After — never a 500 — and input
 * that is wrong whatever the database says (invalid JSON, an oversized or schema-invalid body, an
 * unknown route) is refused before the first DynamoDB call, counted through the db layer's hook.
 */
const faults = new FaultInjector();
let world: World;
beforeAll(async () => {
  faults.install();
  world = await buildWorld();
});
afterAll(() => faults.uninstall());

const name = (r: RouteDef) => routeKey(r);
/** Routes whose answer reports the outage itself: the admin's system health, and bulk's per-agent results. */
const REPORTS_OUTAGE = new Set(['getSystemHealth', 'bulkExecute']);
type ErrorBody = { error?: { code: string; details: { field: string }[] }; status?: string };

describe.each(['throttle', 'unreachable'] as const)('DynamoDB %s: 503 with Retry-After, never 500', (outage) => {
  it.each(ROUTE_TABLE.map((r) => [name(r), r] as const))('%s', async (_name, route) => {
    const req = validRequest(route, world);
    const token = tokenFor(route, world.b.token);
    const outcome = await faults.run(() => send(route, req, token), { outage });
    expect(outcome.kind, String(outcome.kind === 'error' ? outcome.error : '')).toBe('ok');
    if (outcome.kind !== 'ok') return;
    const res = outcome.value;
    expect(res.status, res.text).not.toBe(500);
    if (outcome.calls.length === 0) {
      // A route that needs no database (the banner, the console's files) keeps answering.
      expect(res.status, res.text).toBeLessThan(500);
      return;
    }
    if (REPORTS_OUTAGE.has(route.operationId)) {
      expect(res.status, res.text).toBe(200);
      expect(res.text).toMatch(/unreachable|SERVICE_UNAVAILABLE/);
      return;
    }
    expect(res.status, res.text).toBe(503);
    if (route.operationId === 'getHealth') {
      expect((res.json as ErrorBody).status).toBe('unhealthy');
      return;
    }
    expect((res.json as ErrorBody).error?.code).toBe('SERVICE_UNAVAILABLE');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

/** Counts the DynamoDB calls a request makes (every call fails, as in an outage). */
async function refusedBeforeDatabase(route: RouteDef, options: { body?: unknown; token?: string | undefined; path?: string }) {
  const req = { ...validRequest(route, world), ...(options.path ? { path: options.path } : {}), body: options.body };
  const outcome = await faults.run(() => send(route, req, options.token), { outage: 'unreachable' });
  if (outcome.kind !== 'ok') throw new Error(`${name(route)} failed: ${String(outcome.kind === 'error' ? outcome.error : 'crash')}`);
  return { res: outcome.value, calls: outcome.calls.length };
}

const withBody = ROUTE_TABLE.filter((r) => r.body);

describe('bad input is refused before any DynamoDB call', () => {
  it.each(withBody.map((r) => [name(r), r] as const))('%s: invalid JSON, oversized and schema-invalid bodies', async (_name, route) => {
    const token = tokenFor(route, world.b.token);
    const invalidJson = await refusedBeforeDatabase(route, { token, body: '{"status": "online",' });
    expect([invalidJson.res.status, (invalidJson.res.json as ErrorBody).error?.code, invalidJson.calls]).toEqual([400, 'INVALID_JSON', 0]);

    const oversized = await refusedBeforeDatabase(route, { token, body: JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) }) });
    expect([oversized.res.status, oversized.calls]).toEqual([413, 0]);

    // A JSON array is never a valid body (every body schema is an object).
    const wrongShape = await refusedBeforeDatabase(route, { token, body: [1, 2, 3] });
    expect([wrongShape.res.status, wrongShape.calls], wrongShape.res.text).toEqual([400, 0]);
  });

  it('register: the token may come from the body (API.md §1.1), yet bad input is still refused before any call', async () => {
    const register = ROUTE_TABLE.find((r) => r.operationId === 'registerAgent') as RouteDef;
    const valid = { logical_agent_id: `l-${randomUUID()}`, instance_id: randomInstanceId(), instance_type: 't3.small', region: 'us-east-1', az: 'us-east-1a' };
    for (const body of [
      `{"client_token": "${world.b.token}", "logical_agent_id": `,
      { ...valid, client_token: world.b.token, instance_type: 42 },
      { ...valid, client_token: world.b.token, logical_agent_id: undefined },
    ]) {
      const { res, calls } = await refusedBeforeDatabase(register, { token: undefined, body });
      expect([res.status, calls], res.text).toEqual([400, 0]);
    }
    // A valid body whose token cannot be checked now: 503, not 401 or 404.
    const { res } = await refusedBeforeDatabase(register, { token: undefined, body: { ...valid, client_token: world.b.token } });
    expect(res.status).toBe(503);
  });

  it('a path parameter of the wrong shape is refused before any call, and never as 404', async () => {
    const getAgent = ROUTE_TABLE.find((r) => r.operationId === 'getAgent') as RouteDef;
    const { res, calls } = await refusedBeforeDatabase(getAgent, { token: world.b.token, path: '/api/agents/not-a-uuid' });
    expect([res.status, calls]).toEqual([400, 0]);
    // An existing route with an unknown token while the database is down: 503, never the 404 that uninstalls the agent.
    const unknown = await refusedBeforeDatabase(getAgent, { token: `unknown-${'x'.repeat(40)}` });
    expect(unknown.res.status).toBe(503);
  });

  it('an unknown route is 404 before any call (the gateway, and a group handler given an unknown route key)', async () => {
    // The local gateway serves requests in its own async context: count every call of the process.
    let calls = 0;
    const remove = addDbHook('count-every-call', async (call, sendCall) => {
      calls++;
      return sendCall({ ...call.input });
    });
    const local = await startLocalApi();
    try {
      for (const [method, path] of [
        ['GET', '/api/agents'],
        ['POST', '/api/agents/register/extra'],
        ['DELETE', '/api/unknown'],
      ] as const) {
        const res = await api(local.baseUrl).request(method, path, { token: world.b.token, ...(method === 'GET' ? {} : { body: {} }) });
        expect([res.status, calls], `${method} ${path}`).toEqual([404, 0]);
      }
      const handler = await loadHandler<HttpHandler>(groupHandlerPath('agents'));
      const event = buildHttpEvent({ method: 'GET', rawPath: '/api/nothing', routeKey: 'GET /api/nothing', headers: { authorization: `Bearer ${world.b.token}` } });
      const result = normalizeResult(await handler(event, createLambdaContext('spot-optimizer-agents')));
      expect([result.statusCode, calls]).toEqual([404, 0]);
    } finally {
      remove();
      await local.close();
    }
  });
});
