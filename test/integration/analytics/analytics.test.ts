import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { dailySavingsSnapshot } from '../../../functions/jobs/daily-savings-snapshot/job.js';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { updateItem } from '../../../functions/shared/db/conditions.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { savingsRepo } from '../../../functions/shared/db/savings-repo.js';
import { utcDay } from '../../../functions/shared/domain/savings.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { parseRfc4180 } from '../../support/csv.js';
import { createClientInProcess, randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { type ErrorBody, newTenant, poolOf, registerAgent, setInstancePrices, switchReport, type TestTenant } from '../../support/tenants.js';

const H = 3_600_000;
const DAY = 24 * H;

interface SwitchBody {
  id: string;
  agent_id: string;
  trigger_type: string;
  new_instance_id: string;
  old_instance_id: string;
  downtime_seconds: number;
  initiated_at: string;
}
interface HistoryBody {
  switches: SwitchBody[];
  total: number;
  nextToken: string | null;
}

describe('analytics and exports', () => {
  let t: TestTenant;
  let agent2: { agentId: string; instanceId: string };
  const ids: Record<string, string> = {};
  const now = new Date();
  let new1 = '';

  beforeAll(async () => {
    t = await newTenant();
    agent2 = await registerAgent(t.token, t.instanceType);
    const report = (aid: string, body: unknown) =>
      invoke<{ switch_id: string }>('reporting', 'POST', `/api/agents/${aid}/switch-report`, { token: t.token, body });

    // A: agent 1, a delivered model command, 4 s of downtime, 3 h ago.
    const issued = await invoke<{ id: string }>('commands', 'POST', `/api/agents/${t.agentId}/issue-switch-command`, {
      token: t.token,
      body: { target_mode: 'spot', target_pool_id: poolOf(t.instanceType, 'b') },
    });
    await invoke('commands', 'GET', `/api/agents/${t.agentId}/pending-commands`, { token: t.token });
    new1 = randomInstanceId();
    const a = await report(
      t.agentId,
      switchReport(t, t.instanceId, new1, { readyAt: new Date(now.getTime() - 3 * H), downtimeSeconds: 4, commandId: issued.json.id }),
    );
    ids.A = a.json.switch_id;
    // B: agent 1 again, agent-initiated (advisory trigger manual), 10 s, 2 h ago.
    const new2 = randomInstanceId();
    const b = await report(t.agentId, switchReport(t, new1, new2, { oldAz: 'b', newAz: 'c', readyAt: new Date(now.getTime() - 2 * H), downtimeSeconds: 10, trigger: 'manual' }));
    ids.B = b.json.switch_id;
    // A failed switch command of agent 2.
    const failed = await invoke<{ id: string }>('commands', 'POST', `/api/agents/${agent2.agentId}/issue-switch-command`, {
      token: t.token,
      body: { target_mode: 'ondemand' },
    });
    await invoke('commands', 'GET', `/api/agents/${agent2.agentId}/pending-commands`, { token: t.token });
    await invoke('commands', 'POST', `/api/agents/${agent2.agentId}/commands/${failed.json.id}/executed`, { token: t.token, body: { success: false } });
    // C: agent 2, emergency, 2 s, 1 h ago.
    const c = await report(agent2.agentId, switchReport(t, agent2.instanceId, randomInstanceId(), { readyAt: new Date(now.getTime() - H), downtimeSeconds: 2, trigger: 'emergency' }));
    ids.C = c.json.switch_id;
  });

  const history = (query: Record<string, string | number>, path = 'switch-history') =>
    invoke<HistoryBody>('analytics', 'GET', `/api/client/${t.clientId}/${path}`, { token: t.token, query });

  it('switch-history: newest first, filtered totals, pagination, and the `switches` alias', async () => {
    const all = await history({});
    expect(all.status, all.text).toBe(200);
    expect(all.json.total).toBe(3);
    expect(all.json.switches.map((s) => s.id)).toEqual([ids.C, ids.B, ids.A]);
    expect(all.json.switches.find((s) => s.id === ids.A)?.trigger_type).toBe('model');

    const page1 = await history({ limit: 2 });
    expect(page1.json.switches.map((s) => s.id)).toEqual([ids.C, ids.B]);
    expect(page1.json.nextToken).toBeTruthy();
    const page2 = await history({ limit: 2, nextToken: page1.json.nextToken as string });
    expect(page2.json.switches.map((s) => s.id)).toEqual([ids.A]);
    expect((await history({ nextToken: 'not-a-token' })).status).toBe(400);

    expect((await history({ agent_id: t.agentId })).json).toMatchObject({ total: 2 });
    expect((await history({ agent_id: t.agentId })).json.switches.map((s) => s.id)).toEqual([ids.B, ids.A]);
    expect((await history({ trigger: 'emergency' })).json.switches.map((s) => s.id)).toEqual([ids.C]);
    expect((await history({ instance_id: new1 })).json.total).toBe(2);
    expect((await history({ from: new Date(now.getTime() - 1.5 * H).toISOString() })).json.switches.map((s) => s.id)).toEqual([ids.C]);
    expect((await history({ to: new Date(now.getTime() - 2.5 * H).toISOString() })).json.switches.map((s) => s.id)).toEqual([ids.A]);

    const alias = await history({}, 'switches');
    expect(alias.status).toBe(200);
    expect(alias.json).toEqual(all.json);
  });

  it('downtime analytics: totals, p95/max, success rate, by trigger, longest', async () => {
    const res = await invoke<Record<string, unknown>>('analytics', 'GET', `/api/client/${t.clientId}/analytics/downtime`, {
      token: t.token,
      query: { window_hours: 24 },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      total_switches: 3,
      success_rate: 0.75, // 3 recorded switches, 1 failed switch command
      total_downtime_seconds: 16,
      p50_downtime_seconds: 4,
      p95_downtime_seconds: 10,
      max_downtime_seconds: 10,
      downtime_by_trigger: {
        model: { total_seconds: 4, count: 1 },
        manual: { total_seconds: 10, count: 1 },
        emergency: { total_seconds: 2, count: 1 },
      },
      longest_downtime: { switch_id: ids.B, downtime_seconds: 10 },
    });
    expect(res.json.average_downtime_seconds).toBeCloseTo(16 / 3, 3);
    const narrow = await invoke<Record<string, unknown>>('analytics', 'GET', `/api/client/${t.clientId}/analytics/downtime`, {
      token: t.token,
      query: { window_hours: 1 },
    });
    // Only the failed command (finished just now) falls in the last hour.
    expect(narrow.json).toMatchObject({
      total_switches: 0,
      failed_switches: 1,
      success_rate: 0,
      p95_downtime_seconds: null,
      longest_downtime: null,
    });
  });

  it('charts: mode distribution of PRIMARYs and switches per day', async () => {
    const res = await invoke<{
      mode_distribution: { mode: string; count: number }[];
      switch_frequency: { date: string; switches: number }[];
      savings_trend: unknown[];
    }>(
      'analytics',
      'GET',
      `/api/client/${t.clientId}/stats/charts`,
      { token: t.token, query: { days: 3, months: 2 } },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json.mode_distribution).toEqual([
      { mode: 'spot', count: 2 },
      { mode: 'ondemand', count: 0 },
    ]);
    expect(res.json.switch_frequency).toHaveLength(3);
    expect(res.json.switch_frequency.reduce((a, d) => a + d.switches, 0)).toBe(3);
    expect(res.json.savings_trend).toHaveLength(2);
  });

  it('exports savings and switch history as RFC 4180 CSV attachments', async () => {
    const midnight = Date.parse(`${utcDay(now.getTime())}T00:00:00.000Z`);
    await updateItem(keys.client(t.clientId), { set: { created_at: new Date(midnight - 2 * DAY).toISOString() } });
    await setInstancePrices((await agentsRepo.get(t.agentId))?.primary_instance_id as string, 0.0333333, 0.1);
    await agentsRepo.update(t.agentId, { set: { accrued_until: new Date(midnight - 6 * H).toISOString() } });
    // Agent 2 contributes nothing more (its ledger would otherwise start at its last switch).
    await agentsRepo.update(agent2.agentId, { set: { accrued_until: now.toISOString() } });
    await dailySavingsSnapshot(now, { clientIds: [t.clientId] });
    const yesterday = await savingsRepo.getSnapshot(t.clientId, utcDay(midnight - DAY));

    const savings = await invoke('analytics', 'GET', `/api/client/${t.clientId}/export/savings`, { token: t.token });
    expect(savings.status, savings.text).toBe(200);
    expect(savings.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(savings.headers['content-disposition']).toMatch(/^attachment; filename="savings-[\w.-]+\.csv"$/);
    const rows = parseRfc4180(savings.text);
    expect(rows[0]).toEqual(['date', 'savings_usd', 'ondemand_cost_usd', 'actual_cost_usd', 'spot_hours', 'ondemand_hours']);
    expect(rows.slice(1).map((r) => r[0])).toEqual([utcDay(midnight - 2 * DAY), utcDay(midnight - DAY)]);
    const last = rows[2] as string[];
    expect(Number(last[1])).toBeCloseTo(yesterday?.savings as number, 6);
    // At least the 6 h from the watermark set above (earlier switches may have accrued into yesterday too).
    expect(yesterday?.spot_hours).toBeGreaterThanOrEqual(6);
    expect(Number(last[4])).toBeCloseTo(yesterday?.spot_hours as number, 4);
    for (const cell of rows.slice(1).flatMap((r) => r.slice(1))) expect(cell).toMatch(/^-?\d+(\.\d+)?$/);

    const ranged = await invoke('analytics', 'GET', `/api/client/${t.clientId}/export/savings`, {
      token: t.token,
      query: { from: utcDay(midnight - DAY), to: utcDay(midnight - DAY) },
    });
    expect(parseRfc4180(ranged.text)).toHaveLength(2);
    // A `from` after the default `to` (now) is an empty range, not a 500 (DynamoDB refuses BETWEEN hi AND lo).
    const ahead = await invoke('analytics', 'GET', `/api/client/${t.clientId}/export/savings`, { token: t.token, query: { from: '9999-12-31T23:59:59Z' } });
    expect(ahead.status, ahead.text).toBe(200);
    expect(parseRfc4180(ahead.text)).toHaveLength(1);

    const sw = await invoke('analytics', 'GET', `/api/client/${t.clientId}/export/switch-history`, { token: t.token, query: { agent_id: t.agentId } });
    expect(sw.status, sw.text).toBe(200);
    expect(sw.headers['content-type']).toBe('text/csv; charset=utf-8');
    const swRows = parseRfc4180(sw.text);
    const header = swRows[0] as string[];
    expect(header.slice(0, 4)).toEqual(['id', 'agent_id', 'command_id', 'trigger_type']);
    expect(swRows.slice(1).map((r) => r[0])).toEqual([ids.B, ids.A]);
    const a = swRows[2] as string[];
    expect(a[header.indexOf('downtime_seconds')]).toBe('4');
    expect(a[header.indexOf('initiated_at')]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(a[header.indexOf('savings_impact')]).toBe('0.02');
  });

  it('global-stats export (admin): one row per client; names with commas, quotes, newlines and formulas survive', async () => {
    const tag = randomUUID();
    const weird = await createClientInProcess({ name: `Acme, "Spot"\nDivision ${tag}` });
    const formula = await createClientInProcess({ name: `=HYPERLINK("http://x") ${tag}` });
    const res = await invoke('analytics', 'GET', '/api/admin/export/global-stats', { token: TEST_ADMIN_TOKEN });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="global-stats-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = parseRfc4180(res.text);
    expect(rows[0]).toEqual(['client_id', 'name', 'status', 'agents_total', 'agents_online', 'instances_active', 'total_savings_usd', 'switches_30d']);
    const byId = new Map(rows.slice(1).map((r) => [r[0], r]));
    expect(byId.get(weird.client.id)?.[1]).toBe(`Acme, "Spot"\nDivision ${tag}`);
    expect(byId.get(formula.client.id)?.[1]).toBe(`'=HYPERLINK("http://x") ${tag}`);
    const mine = byId.get(t.clientId) as string[];
    expect(mine.slice(2, 6)).toEqual(['active', '2', '2', '2']);
    expect(mine[7]).toBe('3');
    for (const r of rows.slice(1)) expect(r).toHaveLength(8);

    const asClient = await invoke<ErrorBody>('analytics', 'GET', '/api/admin/export/global-stats', { token: t.token });
    expect(asClient.status).toBe(403);
    expect(asClient.json.error.code).toBe('ADMIN_REQUIRED');
  });

  it("another client's {cid} → 403 on every analytics route", async () => {
    const other = await createClientInProcess();
    for (const path of ['savings', 'switch-history', 'switches', 'stats/charts', 'analytics/downtime', 'export/savings', 'export/switch-history']) {
      const res = await invoke<ErrorBody>('analytics', 'GET', `/api/client/${t.clientId}/${path}`, { token: other.token });
      expect(res.status, path).toBe(403);
      expect(res.json.error.code).toBe('FORBIDDEN');
    }
  });
});
