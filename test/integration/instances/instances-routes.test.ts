import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { consolidatePrices } from '../../../functions/jobs/pricing-consolidation/job.js';
import { putIfAbsent } from '../../../functions/shared/db/conditions.js';
import { instanceItem } from '../../../functions/shared/db/instances-repo.js';
import { pricesRepo, type StagedPoint } from '../../../functions/shared/db/prices-repo.js';
import type { Instance } from '../../../functions/shared/domain/types.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { createClientInProcess, randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

const HOUR = 3_600_000;
const TYPE = `zi${randomBytes(3).toString('hex')}.large`;
const REGION = 'us-east-1';
const pool = (az: string) => `${TYPE}.${REGION}${az}`;
const OD = 0.096;

// Response bodies are read field by field; their shapes are enforced by the route schemas (VALIDATE_RESPONSES=1).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let tokenA: string;
let tokenB: string;
let clientA: string;
let agent1: string;
let agent2: string;
const i1 = randomInstanceId(); // agent 1's first PRIMARY, then ZOMBIE
const i2 = randomInstanceId(); // agent 2, on-demand
const i3 = randomInstanceId(); // agent 1's PRIMARY after re-registration
const iPast = randomInstanceId(); // a terminated spot instance that ran 10 h in pool a
let started: number;

async function register(token: string, logical: string, instanceId: string, az: string, mode: 'spot' | 'ondemand') {
  const res = await invoke<Json>('agents', 'POST', '/api/agents/register', {
    token,
    body: { logical_agent_id: logical, instance_id: instanceId, instance_type: TYPE, region: REGION, az: `${REGION}${az}`, mode, hostname: `Host-${logical}` },
  });
  expect([200, 201]).toContain(res.status);
  return res.json.agent_id as string;
}

const get = (path: string, query?: Json, token = tokenA) => invoke<Json>('instances', 'GET', path, { token, query });

/** Pool a swings hourly (0.05/0.07), b is flat at 0.03, c drifts slowly around 0.05. */
function priceOf(az: string, t: number): number {
  const hour = Math.floor(t / HOUR);
  if (az === 'a') return hour % 2 === 0 ? 0.05 : 0.07;
  if (az === 'b') return 0.03;
  return 0.05 + (hour % 3) * 0.002;
}

beforeAll(async () => {
  started = Date.now();
  const a = await createClientInProcess();
  const b = await createClientInProcess();
  tokenA = a.token;
  tokenB = b.token;
  clientA = a.client.id;
  const logical1 = `log-${randomUUID()}`;
  agent1 = await register(tokenA, logical1, i1, 'a', 'spot');
  agent2 = await register(tokenA, `log-${randomUUID()}`, i2, 'b', 'ondemand');
  await new Promise((r) => setTimeout(r, 20));
  expect(await register(tokenA, logical1, i3, 'a', 'spot')).toBe(agent1);

  // 30 h of agent reports for the three pools, consolidated; latest prices on the POOL items.
  const now = Date.now();
  const points: StagedPoint[] = [];
  for (const az of ['a', 'b', 'c']) {
    for (let t = now - 30 * HOUR; t < now - 60_000; t += 5 * 60_000) {
      points.push({
        pool_id: pool(az),
        instance_type: TYPE,
        region: REGION,
        az: `${REGION}${az}`,
        price: priceOf(az, t),
        on_demand_price: OD,
        collected_at: new Date(t).toISOString(),
        source_role: 'PRIMARY',
        agent_id: agent1,
        client_id: clientA,
        reporter_instance_id: i1,
      });
    }
  }
  await pricesRepo.stage(points);
  await consolidatePrices(new Date(now), {
    windowStart: new Date(now - 31 * HOUR),
    pools: ['a', 'b', 'c'].map(pool),
    trigger: 'manual',
  });
  for (const [az, price] of [
    ['a', 0.06],
    ['b', 0.03],
    ['c', 0.05],
  ] as const) {
    await pricesRepo.recordMarketPrice({
      pool_id: pool(az),
      instance_type: TYPE,
      region: REGION,
      az: `${REGION}${az}`,
      price,
      on_demand_price: OD,
      priced_at: new Date(now - 60_000).toISOString(),
      source: 'test',
    });
  }
  const past: Instance = {
    id: iPast,
    client_id: clientA,
    agent_id: randomUUID(),
    instance_type: TYPE,
    region: REGION,
    az: `${REGION}a`,
    mode: 'spot',
    pool_id: pool('a'),
    role: 'TERMINATED',
    spot_price: 0.06,
    ondemand_price: OD,
    baseline_ondemand_price: OD,
    notice_status: 'none',
    last_seen_at: null,
    zombie_since: null,
    terminated_at: new Date(now - 2 * HOUR).toISOString(),
    termination_confirmed: true,
    next_listing_at: null,
    ami_id: null,
    private_ip: '10.1.2.3',
    public_ip: null,
    hostname: null,
    created_at: new Date(now - 12 * HOUR).toISOString(),
    version: 1,
  };
  await putIfAbsent(instanceItem(past));
}, 60_000);

describe('GET /api/client/{cid}/instances', () => {
  const ids = (res: { json: Json }) => (res.json.instances as Json[]).map((i) => i.id).sort();

  it('lists active instances by default and filters by status, mode, agent and search', async () => {
    const path = `/api/client/${clientA}/instances`;
    const active = await get(path);
    expect(active.status).toBe(200);
    expect(ids(active)).toEqual([i2, i3].sort());
    const primary = (active.json.instances as Json[]).find((i) => i.id === i3);
    expect(primary).toMatchObject({
      instance_id: i3,
      role: 'PRIMARY',
      instance_status: 'running_primary',
      is_primary: true,
      is_active: true,
      mode: 'spot',
      pool_id: pool('a'),
      agent_id: agent1,
    });
    expect(ids(await get(path, { status: 'zombie' }))).toEqual([i1]);
    expect(ids(await get(path, { status: 'terminated' }))).toEqual([iPast]);
    expect(ids(await get(path, { status: 'all' }))).toEqual([i1, i2, i3, iPast].sort());
    expect(ids(await get(path, { status: 'all', mode: 'ondemand' }))).toEqual([i2]);
    expect(ids(await get(path, { status: 'all', agent_id: agent1 }))).toEqual([i1, i3].sort());
    expect(ids(await get(path, { status: 'all', search: i3.slice(2, 12) }))).toEqual([i3]);
    expect(ids(await get(path, { status: 'all', search: '10.1.2' }))).toEqual([iPast]);
    expect(ids(await get(path, { status: 'all', search: 'no-such-thing' }))).toEqual([]);
  });

  it('paginates with limit and nextToken', async () => {
    const path = `/api/client/${clientA}/instances`;
    const seen: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await get(path, { status: 'all', limit: 1, ...(token ? { nextToken: token } : {}) });
      expect(res.status).toBe(200);
      expect((res.json.instances as Json[]).length).toBeLessThanOrEqual(1);
      seen.push(...(res.json.instances as Json[]).map((i) => i.id as string));
      token = res.json.nextToken ?? undefined;
      if (!token) break;
    }
    expect(seen.sort()).toEqual([i1, i2, i3, iPast].sort());
  });

  it("refuses another client's cid (403)", async () => {
    const res = await get(`/api/client/${clientA}/instances`, {}, tokenB);
    expect(res.status).toBe(403);
  });
});

describe('instance pricing routes', () => {
  it('pricing: current pool, on-demand and the pools of the type, cheapest first', async () => {
    const res = await get(`/api/client/instances/${i3}/pricing`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      current_mode: 'spot',
      current_pool: { id: pool('a'), az: `${REGION}a`, price: 0.06 },
      on_demand: { price: OD },
    });
    expect((res.json.pools as Json[]).map((p) => [p.pool_id, p.price, p.savings_percent])).toEqual([
      [pool('b'), 0.03, 68.75],
      [pool('c'), 0.05, 47.92],
      [pool('a'), 0.06, 37.5],
    ]);
    const od = await get(`/api/client/instances/${i2}/pricing`);
    expect(od.json).toMatchObject({ current_mode: 'ondemand', current_pool: null });
  });

  it('metrics: prices, uptime, switches and lifetime savings from the canonical series', async () => {
    const res = await get(`/api/client/instances/${i3}/metrics`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      role: 'PRIMARY',
      spot_price: 0.06,
      ondemand_price: OD,
      baseline_ondemand_price: OD,
      total_switches: 0,
      hours_since_last_switch: null,
      savings_rate_per_hour: 0.036,
    });
    expect(res.json.uptime_hours).toBeLessThan((Date.now() - started) / HOUR + 0.01);

    const past = await get(`/api/client/instances/${iPast}/metrics`);
    expect(past.json.uptime_hours).toBeCloseTo(10, 1);
    // 10 h in pool a, alternating 0.05/0.07 (±partial hours): savings ≈ (0.096 − 0.06) × 10 = 0.36.
    expect(past.json.total_savings).toBeGreaterThan(0.3);
    expect(past.json.total_savings).toBeLessThan(0.42);
  });

  it('price-history: hourly and daily points from the canonical series', async () => {
    const hourly = await get(`/api/client/instances/${i3}/price-history`, { days: 2, interval: 'hour' });
    expect(hourly.status).toBe(200);
    expect(hourly.json.pools).toEqual(['a', 'b', 'c'].map((az) => ({ pool_id: pool(az), az: `${REGION}${az}` })));
    const points = hourly.json.points as Json[];
    expect(points.length).toBeGreaterThanOrEqual(30);
    const full = points.find((p) => p.prices[pool('b')] !== null && p.prices[pool('a')] !== null);
    expect(full).toMatchObject({ on_demand: OD });
    expect(full?.prices[pool('b')]).toBe(0.03);
    expect([0.05, 0.07]).toContain(points[5]?.prices[pool('a')]);
    const times = points.map((p) => p.time as string);
    expect([...times].sort()).toEqual(times);

    const daily = await get(`/api/client/instances/${i3}/price-history`, { days: 3, interval: 'day' });
    expect((daily.json.points as Json[]).length).toBeGreaterThanOrEqual(2);
    expect((daily.json.points as Json[]).length).toBeLessThanOrEqual(3);
    expect((daily.json.points as Json[])[0]?.time).toMatch(/T00:00:00.000Z$/);

    const bad = await get(`/api/client/instances/${i3}/price-history`, { days: 91 });
    expect(bad.status).toBe(400);
  });

  it('pricing-history: the most recently seen agent by default, or the one asked for', async () => {
    const res = await invoke<Json>('instances', 'GET', '/api/client/pricing-history', { token: tokenA, query: { days: 2 } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ agent_id: agent1, instance_type: TYPE, region: REGION });
    const entry = (res.json.history as Json[]).find((h) => (h.spot_pools as Json[]).length === 3);
    expect(entry).toMatchObject({ ondemand_price: OD });
    expect(entry?.spot_pools).toContainEqual({ pool_id: pool('b'), az: `${REGION}b`, price: 0.03 });

    const two = await invoke<Json>('instances', 'GET', '/api/client/pricing-history', { token: tokenA, query: { agent_id: agent2 } });
    expect(two.json.agent_id).toBe(agent2);
    const foreign = await invoke<Json>('instances', 'GET', '/api/client/pricing-history', { token: tokenB, query: { agent_id: agent1 } });
    expect(foreign.status).toBe(404);
    const none = await invoke<Json>('instances', 'GET', '/api/client/pricing-history', { token: tokenB });
    expect(none.status).toBe(404);
    const admin = await invoke<Json>('instances', 'GET', '/api/client/pricing-history', { token: TEST_ADMIN_TOKEN });
    expect(admin.status).toBe(400);
  });

  it('available-options: the other pools of the type; other types are informational', async () => {
    const res = await get(`/api/client/instances/${i3}/available-options`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ current_type: TYPE, current_az: `${REGION}a` });
    expect((res.json.available_pools as Json[]).map((p) => p.pool_id)).toEqual([pool('b'), pool('c')]);
    const types = res.json.available_types as Json[];
    expect(types.every((t) => t.switchable === false && t.instance_type !== TYPE)).toBe(true);
  });

  it('logs: the lifecycle of the instance, newest first, with a severity filter and pagination', async () => {
    const res = await get(`/api/client/instances/${i1}/logs`);
    expect(res.status).toBe(200);
    expect((res.json.events as Json[]).map((e) => e.event_type)).toEqual(['became_zombie', 'became_primary', 'registered']);
    expect((res.json.events as Json[])[0]).toMatchObject({ severity: 'warning', metadata: { new_primary: i3 } });
    const warnings = await get(`/api/client/instances/${i1}/logs`, { severity: 'warning' });
    expect((warnings.json.events as Json[]).map((e) => e.event_type)).toEqual(['became_zombie']);
    const page1 = await get(`/api/client/instances/${i1}/logs`, { limit: 2 });
    expect((page1.json.events as Json[]).length).toBe(2);
    const page2 = await get(`/api/client/instances/${i1}/logs`, { limit: 2, nextToken: page1.json.nextToken });
    expect((page2.json.events as Json[]).map((e) => e.event_type)).toEqual(['registered']);
  });

  it('pool-volatility: stats of the current pool and the alternatives, the most stable marked best', async () => {
    const res = await get(`/api/client/instances/${i3}/pool-volatility`, { window_hours: 24 });
    expect(res.status).toBe(200);
    expect(res.json.current_pool).toMatchObject({ pool_id: pool('a'), volatility_category: 'high' });
    expect(res.json.current_pool.volatility_score).toBeGreaterThan(0.15);
    const alternatives = res.json.alternative_pools as Json[];
    expect(alternatives.map((p) => p.pool_id)).toEqual([pool('b'), pool('c')]);
    expect(alternatives[0]).toMatchObject({ avg_price: 0.03, price_stddev: 0, volatility_score: 0, volatility_category: 'low', recommendation: 'best' });
    expect(alternatives[1]).toMatchObject({ volatility_category: 'low' });
    expect(alternatives[1]?.recommendation).toBeUndefined();
  });

  it('simulate-switch: what-if figures without side effects', async () => {
    const path = `/api/client/instances/${i3}/simulate-switch`;
    const viewOf = async () =>
      ((await get(`/api/client/${clientA}/instances`, { agent_id: agent1 })).json.instances as Json[]).find((i) => i.id === i3);
    const before = await viewOf();
    const res = await invoke<Json>('instances', 'POST', path, { token: tokenA, body: {} });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      current_price: 0.06,
      target_pool_id: pool('b'),
      target_price: 0.03,
      hourly_savings: 0.03,
      daily_savings: 0.72,
      monthly_savings: 21.9,
      estimated_downtime_seconds: 60,
      recommendation: 'proceed',
    });
    expect(res.json.confidence).toBeGreaterThan(0);
    expect(res.json.confidence).toBeLessThanOrEqual(1);

    const chosen = await invoke<Json>('instances', 'POST', path, { token: tokenA, body: { target_pool: pool('c') } });
    expect(chosen.json).toMatchObject({ target_pool_id: pool('c'), hourly_savings: 0.01, recommendation: 'proceed' }); // 16.7% ≥ 15%
    const config = await invoke<Json>('agents', 'POST', `/api/client/agents/${agent1}/config`, {
      token: tokenA,
      body: { min_savings_percent: 40 },
    });
    expect(config.status).toBe(200);
    const below = await invoke<Json>('instances', 'POST', path, { token: tokenA, body: { target_pool: pool('c') } });
    expect(below.json).toMatchObject({ target_pool_id: pool('c'), recommendation: 'caution' });
    expect(below.json.reasons).toContain('saves 16.7%, below the 40% required');
    const ondemand = await invoke<Json>('instances', 'POST', path, { token: tokenA, body: { target_type: 'ondemand' } });
    expect(ondemand.json).toMatchObject({ target_pool_id: null, target_price: OD, recommendation: 'not_recommended' });
    const mismatch = await invoke<Json>('instances', 'POST', path, { token: tokenA, body: { target_pool: 'c5.large.us-east-1a' } });
    expect(mismatch.status).toBe(422);
    expect(mismatch.json.error.code).toBe('POOL_MISMATCH');
    const fromOd = await invoke<Json>('instances', 'POST', `/api/client/instances/${i2}/simulate-switch`, { token: tokenA, body: {} });
    expect(fromOd.json).toMatchObject({ current_price: OD, target_pool_id: pool('b'), recommendation: 'proceed' });
    const zombie = await invoke<Json>('instances', 'POST', `/api/client/instances/${i1}/simulate-switch`, { token: tokenA, body: {} });
    expect(zombie.json.recommendation).toBe('not_recommended');

    // No side effects: the instance is unchanged.
    expect(await viewOf()).toEqual(before);
  });
});

describe('tenant isolation', () => {
  const routes = (iid: string): [string, string, Json?][] => [
    ['GET', `/api/client/instances/${iid}/pricing`],
    ['GET', `/api/client/instances/${iid}/metrics`],
    ['GET', `/api/client/instances/${iid}/price-history`],
    ['GET', `/api/client/instances/${iid}/available-options`],
    ['GET', `/api/client/instances/${iid}/logs`],
    ['GET', `/api/client/instances/${iid}/pool-volatility`],
    ['POST', `/api/client/instances/${iid}/simulate-switch`, {}],
  ];

  it("another client's instance is 404 on every instance route; the admin token sees it", async () => {
    for (const [method, path, body] of routes(i3)) {
      const foreign = await invoke<Json>('instances', method, path, { token: tokenB, ...(body ? { body } : {}) });
      expect(foreign.status, `${method} ${path}`).toBe(404);
      expect(foreign.json.error.code).toBe('NOT_FOUND');
      const admin = await invoke<Json>('instances', method, path, { token: TEST_ADMIN_TOKEN, ...(body ? { body } : {}) });
      expect(admin.status, `${method} ${path} (admin)`).toBe(200);
    }
    const unknown = await get(`/api/client/instances/${randomInstanceId()}/pricing`);
    expect(unknown.status).toBe(404);
  });
});
