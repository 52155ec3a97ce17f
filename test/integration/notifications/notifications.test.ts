import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getItem } from '../../../functions/shared/db/conditions.js';
import { keys } from '../../../functions/shared/db/keys.js';
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
