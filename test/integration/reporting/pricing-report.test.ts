import { describe, expect, it } from 'vitest';
import { getItem } from '../../../functions/shared/db/conditions.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { pricesRepo } from '../../../functions/shared/db/prices-repo.js';
import { invoke } from '../../support/http.js';
import { type ErrorBody, newTenant, poolOf, REGION, seedPool, type TestTenant } from '../../support/tenants.js';

/**
 * POST /api/agents/{aid}/pricing-report: a client's own observation (README "Pricing, decisions
 * and savings": market data no tenant controls). It is kept and updates the reporter's own instance; it never writes the market's
 * POOL items or staging; implausible reports are 400 naming the field.
 */
const MIN = 60_000;

interface ReportOptions {
  collectedAt?: Date;
  price?: number;
  onDemand?: number | null;
  current?: number | null;
  az?: string;
}

function report(t: TestTenant, o: ReportOptions = {}) {
  const pool = (az: string) => ({ pool_id: poolOf(t.instanceType, az), instance_type: t.instanceType, az: `${REGION}${az}`, price: o.price ?? 0.03 });
  return {
    instance: { instance_id: t.instanceId, instance_type: t.instanceType, region: REGION, az: `${REGION}a`, mode: 'spot', pool_id: poolOf(t.instanceType, 'a') },
    pricing: {
      on_demand_price: o.onDemand === undefined ? 0.1 : o.onDemand,
      current_spot_price: o.current === undefined ? (o.price ?? 0.03) : o.current,
      cheapest_pool: null,
      spot_pools: [pool('a'), pool(o.az ?? 'b')],
      collected_at: (o.collectedAt ?? new Date()).toISOString(),
    },
  };
}

const send = (t: TestTenant, body: unknown, now?: Date) =>
  invoke<ErrorBody & { report_id: string }>('reporting', 'POST', `/api/agents/${t.agentId}/pricing-report`, { token: t.token, body, ...(now ? { now } : {}) });

describe('pricing-report is the client\'s own observation', () => {
  it('updates the reporter\'s own instance, never a POOL item or staging', async () => {
    const t = await newTenant();
    const market = await seedPool(t.instanceType, 'b', 0.05, { onDemand: 0.1 });
    const before = await pricesRepo.getPool(market);
    const collectedAt = new Date();
    const res = await send(t, report(t, { price: 0.0101, collectedAt }));
    expect(res.status, res.text).toBe(200);
    // The market is untouched: no new pool, the known one unchanged, nothing staged.
    expect(await pricesRepo.getPool(market)).toEqual(before);
    expect(await pricesRepo.getPool(poolOf(t.instanceType, 'a'))).toBeUndefined();
    const staged: unknown[] = [];
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await pricesRepo.readStaged(hourAgo, new Date(Date.now() + 60_000).toISOString(), (rows) => staged.push(...rows), new Set([market]));
    expect(staged).toEqual([]);
    // The client's own view moved.
    expect(await instancesRepo.get(t.instanceId)).toMatchObject({ spot_price: 0.0101, ondemand_price: 0.1 });
    // And the observation is kept (natural key agent + collected_at).
    type Kept = { observed: { spot_pools: Record<string, number> } };
    const kept = await getItem<Kept>(keys.pricingReport(t.agentId, collectedAt.toISOString()));
    expect(kept?.observed.spot_pools[market]).toBe(0.0101);
  });

  it("refreshes the instance's last_seen_at at most every 15 minutes", async () => {
    const t = await newTenant();
    const now = Date.now();
    // Registration saw it a moment ago: the next reports within 15 min leave it.
    const first = (await instancesRepo.get(t.instanceId))?.last_seen_at;
    expect(first).toBeTruthy();
    expect((await send(t, report(t, { collectedAt: new Date(now) }), new Date(now))).status).toBe(200);
    expect((await send(t, report(t, { collectedAt: new Date(now + 5 * MIN) }), new Date(now + 5 * MIN))).status).toBe(200);
    expect((await instancesRepo.get(t.instanceId))?.last_seen_at).toBe(first);
    expect((await send(t, report(t, { collectedAt: new Date(now + 16 * MIN) }), new Date(now + 16 * MIN))).status).toBe(200);
    expect((await instancesRepo.get(t.instanceId))?.last_seen_at).toBe(new Date(now + 16 * MIN).toISOString());
  });

  it('an older report arriving late does not overwrite the newer prices of the instance', async () => {
    const t = await newTenant();
    expect((await send(t, report(t, { price: 0.02, collectedAt: new Date(Date.now() - MIN) }))).status).toBe(200);
    expect((await send(t, report(t, { price: 0.03, collectedAt: new Date(Date.now() - 5 * MIN) }))).status).toBe(200);
    expect((await instancesRepo.get(t.instanceId))?.spot_price).toBe(0.02);
  });

  it('a type the market does not know yet goes on the market watch list', async () => {
    const t = await newTenant();
    expect((await send(t, report(t))).status).toBe(200);
    expect(await pricesRepo.listMarketWatch()).toContainEqual({ region: REGION, instance_type: t.instanceType });
  });
});

describe('implausible reports are refused with 400 naming the field', () => {
  it('collected_at in the future beyond the 5 min clock-skew allowance, or more than a day old', async () => {
    const t = await newTenant();
    const now = new Date();
    const future = await send(t, report(t, { collectedAt: new Date('2099-01-01T00:00:00Z') }));
    expect(future.status).toBe(400);
    expect(future.json.error.details).toEqual([{ field: 'body.pricing.collected_at', issue: expect.stringContaining('future') }]);
    expect((await send(t, report(t, { collectedAt: new Date(now.getTime() + 4 * MIN) }), now)).status).toBe(200);
    expect((await send(t, report(t, { collectedAt: new Date(now.getTime() + 6 * MIN) }), now)).status).toBe(400);
    const old = await send(t, report(t, { collectedAt: new Date(now.getTime() - 25 * 60 * MIN) }), now);
    expect(old.status).toBe(400);
    expect(old.json.error.details[0]?.field).toBe('body.pricing.collected_at');
  });

  it('prices ≤ 0, and prices far above the market\'s on-demand price', async () => {
    const t = await newTenant();
    await seedPool(t.instanceType, 'b', 0.05, { onDemand: 0.1 });
    const zero = await send(t, report(t, { price: 0 }));
    expect(zero.status).toBe(400);
    // The pools' prices are refused; the instance's own 0 is "not known" (its two prices may be null).
    expect(zero.json.error.details.map((d) => d.field)).toEqual(['body.pricing.spot_pools.0.price', 'body.pricing.spot_pools.1.price']);
    const negative = await send(t, report(t, { onDemand: -1, current: -0.5 }));
    expect(negative.status).toBe(400);
    expect(negative.json.error.details.map((d) => d.field)).toEqual(['body.pricing.on_demand_price', 'body.pricing.current_spot_price']);
    expect((await send(t, report(t, { onDemand: 0, current: 0 }))).status).toBe(200);
    const far = await send(t, report(t, { price: 0.25 }));
    expect(far.status).toBe(400);
    expect(far.json.error.details[0]).toEqual({ field: 'body.pricing.current_spot_price', issue: expect.stringContaining('on-demand price') });
    // Up to twice the on-demand price is still a price (the market may have moved since its last read).
    expect((await send(t, report(t, { price: 0.19 }))).status).toBe(200);
    // An on-demand instance may say its spot price is 0 (none).
    const ondemand = report(t, { current: 0 });
    ondemand.instance.mode = 'ondemand';
    expect((await send(t, ondemand)).status).toBe(200);
  });

  it('instance ids as EC2 writes them (i- + 8 or 17 hex), on every route that takes one', async () => {
    const t = await newTenant();
    const body = report(t);
    body.instance.instance_id = 'i-not-hex';
    const res = await send(t, body);
    expect(res.status).toBe(400);
    expect(res.json.error.details[0]?.field).toBe('body.instance.instance_id');
    const reg = await invoke<ErrorBody>('agents', 'POST', '/api/agents/register', {
      token: t.token,
      body: { logical_agent_id: 'x', instance_id: 'i-0123', instance_type: t.instanceType, region: REGION, az: `${REGION}a` },
    });
    expect(reg.status).toBe(400);
    expect(reg.json.error.details[0]?.field).toBe('body.instance_id');
    const hb = await invoke<ErrorBody>('agents', 'POST', `/api/agents/${t.agentId}/heartbeat`, { token: t.token, body: { status: 'online', instance_id: 'I-0123456789ABCDEF0' } });
    expect(hb.status).toBe(400);
    expect(hb.json.error.details[0]?.field).toBe('body.instance_id');
  });
});
