import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { evaluatePricingAlerts } from '../../../functions/shared/flows/pricing-alerts.js';
import { alertsRepo } from '../../../functions/shared/db/alerts-repo.js';
import { getItem } from '../../../functions/shared/db/conditions.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { pricesRepo } from '../../../functions/shared/db/prices-repo.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { invoke } from '../../support/http.js';
import { seedNotification, tenant } from '../../support/seed.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

type Json = Record<string, unknown>;
interface List {
  notifications: Json[];
  unread_count: number;
}

describe('notifications', () => {
  it('lists only the caller’s notifications; the admin sees one client’s or the system-wide ones', async () => {
    const a = await tenant();
    const b = await tenant();
    const mineId = await seedNotification(a.client.id, { severity: 'warning' });
    const infoId = await seedNotification(a.client.id, { severity: 'info' });
    const theirsId = await seedNotification(b.client.id);
    const systemId = await seedNotification(null, { severity: 'critical' });

    const own = await invoke<List>('notifications', 'GET', '/api/notifications', { token: a.token });
    expect(own.status).toBe(200);
    expect(own.json.notifications.map((n) => n.id).sort()).toEqual([mineId, infoId].sort());
    expect(own.json.unread_count).toBe(2);
    expect(own.text).not.toContain(theirsId);
    expect(own.text).not.toContain(systemId);

    // client_id is an admin filter: a client token naming another client still sees only its own.
    const sneaky = await invoke<List>('notifications', 'GET', '/api/notifications', { token: a.token, query: { client_id: b.client.id } });
    expect(sneaky.json.notifications.map((n) => n.id).sort()).toEqual([mineId, infoId].sort());

    const warnings = await invoke<List>('notifications', 'GET', '/api/notifications', { token: a.token, query: { severity: 'warning' } });
    expect(warnings.json.notifications.map((n) => n.id)).toEqual([mineId]);

    const adminForB = await invoke<List>('notifications', 'GET', '/api/notifications', {
      token: TEST_ADMIN_TOKEN,
      query: { client_id: b.client.id },
    });
    expect(adminForB.json.notifications.map((n) => n.id)).toEqual([theirsId]);
    const system = await invoke<List>('notifications', 'GET', '/api/notifications', { token: TEST_ADMIN_TOKEN });
    expect(system.json.notifications.map((n) => n.id)).toContain(systemId);
    expect(system.json.notifications.every((n) => n.client_id === null)).toBe(true);
  });

  it('mark-read: own → read (repeatable); another client’s or a system-wide one → 404', async () => {
    const a = await tenant();
    const b = await tenant();
    const mine = await seedNotification(a.client.id);
    const theirs = await seedNotification(b.client.id);
    const system = await seedNotification(null);
    const mark = (token: string, nid: string) =>
      invoke<Json>('notifications', 'POST', `/api/notifications/${nid}/mark-read`, { token });

    expect((await mark(a.token, mine)).json).toEqual({ id: mine, is_read: true });
    expect((await mark(a.token, mine)).status).toBe(200);
    const other = await mark(a.token, theirs);
    expect(other.status).toBe(404);
    expect(other.text).not.toContain(b.client.id);
    expect((await mark(a.token, system)).status).toBe(404);
    expect((await getItem(keys.notification(theirs)))?.is_read).toBe(false);
    expect((await mark(TEST_ADMIN_TOKEN, theirs)).status).toBe(200);
    expect((await mark(a.token, randomUUID())).status).toBe(404);

    const list = await invoke<List>('notifications', 'GET', '/api/notifications', { token: a.token, query: { unread_only: 'true' } });
    expect(list.json.notifications).toEqual([]);
    expect(list.json.unread_count).toBe(0);
  });

  it('mark-all-read marks only the caller’s, optionally only those before a time', async () => {
    const a = await tenant();
    const b = await tenant();
    const old = await seedNotification(a.client.id, { at: new Date('2024-01-01T00:00:00Z') });
    const recent = await seedNotification(a.client.id);
    const theirs = await seedNotification(b.client.id);

    const partial = await invoke<{ updated: number }>('notifications', 'POST', '/api/notifications/mark-all-read', {
      token: a.token,
      body: { before: '2024-06-01T00:00:00', client_id: b.client.id },
    });
    expect(partial.json).toEqual({ updated: 1 });
    expect((await getItem(keys.notification(old)))?.is_read).toBe(true);
    expect((await getItem(keys.notification(recent)))?.is_read).toBe(false);
    expect((await getItem(keys.notification(theirs)))?.is_read).toBe(false);

    const rest = await invoke<{ updated: number }>('notifications', 'POST', '/api/notifications/mark-all-read', { token: a.token });
    expect(rest.json).toEqual({ updated: 1 });
    expect((await getItem(keys.notification(theirs)))?.is_read).toBe(false);
  });
});

describe('pricing alerts', () => {
  const alerts = (token: string, cid: string) => ({
    list: () => invoke<{ alerts: Json[] }>('notifications', 'GET', `/api/client/${cid}/pricing-alerts`, { token }),
    upsert: (body: unknown, headers: Record<string, string> = {}) =>
      invoke<Json>('notifications', 'POST', `/api/client/${cid}/pricing-alerts`, { token, body, headers }),
  });

  it('creates (201), lists and updates with a version check (200 / 409)', async () => {
    const t = await tenant();
    const api = alerts(t.token, t.client.id);
    const created = await api.upsert({ alert_type: 'spot_price_above', threshold: 0.05, pool_id: 't3.medium.us-east-1a' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      alert_type: 'spot_price_above',
      threshold: 0.05,
      enabled: true,
      notification_channels: ['dashboard'],
      webhook_url: null,
      last_triggered_at: null,
      version: 1,
    });
    expect(created.headers.etag).toBe('"1"');
    const id = created.json.alert_id as string;

    const updated = await api.upsert({ alert_id: id, version: 1, alert_type: 'spot_price_above', threshold: 0.07, enabled: false });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ alert_id: id, threshold: 0.07, enabled: false, version: 2 });
    const stale = await api.upsert({ alert_id: id, version: 1, alert_type: 'spot_price_above', threshold: 0.09 });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({ error: { code: 'VERSION_CONFLICT', details: [{ field: 'version', current_version: 2 }] } });
    const ifMatch = await api.upsert({ alert_id: id, alert_type: 'spot_price_above', threshold: 0.09 }, { 'if-match': '"2"' });
    expect(ifMatch.json).toMatchObject({ version: 3, threshold: 0.09 });

    expect((await api.list()).json.alerts).toEqual([expect.objectContaining({ alert_id: id, version: 3 })]);
    expect((await api.upsert({ alert_id: randomUUID(), alert_type: 'spot_price_above', threshold: 1 })).status).toBe(404);
  });

  it('refuses a webhook channel without URL, out-of-range thresholds and http URLs', async () => {
    const t = await tenant();
    const api = alerts(t.token, t.client.id);
    expect((await api.upsert({ alert_type: 'pool_risk_above', threshold: 0.5, notification_channels: ['webhook'] })).status).toBe(400);
    expect((await api.upsert({ alert_type: 'pool_risk_above', threshold: 1.5 })).status).toBe(400);
    expect((await api.upsert({ alert_type: 'pool_risk_above', threshold: 0.5, webhook_url: 'http://x.example' })).status).toBe(400);
    expect((await api.list()).json.alerts).toEqual([]);
  });

  it('allows at most 50 alerts per client (422 ALERT_LIMIT_REACHED) and keeps clients apart', async () => {
    const a = await tenant();
    const b = await tenant();
    const api = alerts(a.token, a.client.id);
    const results = await Promise.all(
      Array.from({ length: 52 }, (_, i) => api.upsert({ alert_type: 'pool_risk_above', threshold: (i % 10) / 10 })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(50);
    const refused = results.filter((r) => r.status === 422);
    expect(refused).toHaveLength(2);
    expect(refused[0]?.json).toMatchObject({ error: { code: 'ALERT_LIMIT_REACHED' } });
    expect((await api.list()).json.alerts).toHaveLength(50);

    const otherList = await invoke<Json>('notifications', 'GET', `/api/client/${a.client.id}/pricing-alerts`, { token: b.token });
    expect(otherList.status).toBe(403);
    expect((await alerts(b.token, b.client.id).list()).json.alerts).toEqual([]);
  });
});

describe('pricing alert evaluation', () => {
  async function setPool(poolId: string, price: number, at: Date, extra: Record<string, number> = {}) {
    await pricesRepo.upsertLatestPrice({
      pool_id: poolId,
      instance_type: poolId.slice(0, poolId.lastIndexOf('.')),
      region: 'us-east-1',
      az: poolId.slice(poolId.lastIndexOf('.') + 1),
      price,
      on_demand_price: 0.0416,
      priced_at: at.toISOString(),
    });
    if (Object.keys(extra).length > 0) {
      const { ddb, tableName } = await import('../../../functions/shared/db/client.js');
      const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
      const names = Object.fromEntries(Object.keys(extra).map((k, i) => [`#k${i}`, k]));
      const values = Object.fromEntries(Object.values(extra).map((v, i) => [`:v${i}`, v]));
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.pool(poolId),
          UpdateExpression: `SET ${Object.keys(extra).map((_, i) => `#k${i} = :v${i}`).join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    }
  }

  const listOwn = async (token: string) =>
    (await invoke<List>('notifications', 'GET', '/api/notifications', { token })).json.notifications.filter((n) => n.type === 'price_alert');

  it('a crossing notifies once; it re-arms when the condition clears and respects the 6 h cooldown', async () => {
    const t = await tenant();
    // A pool id unique to this test (the evaluator reads every enabled alert of the table).
    const pool = `t3.${randomUUID().slice(0, 6)}.us-east-1c`;
    const t0 = new Date();
    await setPool(pool, 0.01, t0);
    const created = await invoke<Json>('notifications', 'POST', `/api/client/${t.client.id}/pricing-alerts`, {
      token: t.token,
      body: { alert_type: 'spot_price_above', threshold: 0.02, pool_id: pool },
    });
    const alertId = created.json.alert_id as string;

    await evaluatePricingAlerts(t0);
    expect(await listOwn(t.token)).toEqual([]);

    const t1 = new Date(t0.getTime() + 15 * 60_000);
    await setPool(pool, 0.03, t1);
    await evaluatePricingAlerts(t1);
    await evaluatePricingAlerts(new Date(t1.getTime() + 15 * 60_000));
    await Promise.all([evaluatePricingAlerts(t1), evaluatePricingAlerts(t1)]);
    const fired = await listOwn(t.token);
    expect(fired).toHaveLength(1);
    expect(fired[0]?.message).toContain(pool);
    expect((await alertsRepo.get(t.client.id, alertId))?.last_triggered_at).toBe(t1.toISOString());

    // Clears, then crosses again within 6 h: no second notification.
    const t2 = new Date(t1.getTime() + 3600_000);
    await setPool(pool, 0.01, t2);
    await evaluatePricingAlerts(t2);
    expect((await alertsRepo.get(t.client.id, alertId))?.in_alarm).toBe(false);
    const t3 = new Date(t1.getTime() + 2 * 3600_000);
    await setPool(pool, 0.05, t3);
    await evaluatePricingAlerts(t3);
    expect(await listOwn(t.token)).toHaveLength(1);

    // Clears and crosses again after the cooldown: one more.
    const t4 = new Date(t1.getTime() + 7 * 3600_000);
    await setPool(pool, 0.01, t4);
    await evaluatePricingAlerts(t4);
    const t5 = new Date(t1.getTime() + 7.5 * 3600_000);
    await setPool(pool, 0.04, t5);
    await evaluatePricingAlerts(t5);
    await evaluatePricingAlerts(new Date(t5.getTime() + 900_000));
    expect(await listOwn(t.token)).toHaveLength(2);
  });

  it('an alert without pool_id watches its client’s agents’ pools; risk and savings alerts read the pool stats', async () => {
    const t = await tenant(); // agent registered in spot mode in t3.medium.us-east-1a
    const now = new Date(Date.now() + 60_000);
    await setPool('t3.medium.us-east-1a', 0.04, now, { risk_score: 0.9 });
    const upsert = (body: Json) =>
      invoke<Json>('notifications', 'POST', `/api/client/${t.client.id}/pricing-alerts`, { token: t.token, body });
    await upsert({ alert_type: 'pool_risk_above', threshold: 0.8 });
    await upsert({ alert_type: 'savings_below_percent', threshold: 10 }); // 0.04 vs 0.0416 on-demand: 3.8 %
    await upsert({ alert_type: 'interruption_rate_above', threshold: 5, enabled: false });
    await evaluatePricingAlerts(now);
    const types = (await listOwn(t.token)).map((n) => String(n.message).split(':')[0]).sort();
    expect(types).toEqual(['Pricing alert pool_risk_above', 'Pricing alert savings_below_percent']);
  });
});
