import { describe, expect, it } from 'vitest';
import { runEngineForAutoSwitchAgents } from '../../../functions/shared/flows/auto-switch.js';
import { dailySavingsSnapshot } from '../../../functions/jobs/daily-savings-snapshot/job.js';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { clientsRepo } from '../../../functions/shared/db/clients-repo.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import { updateItem } from '../../../functions/shared/db/conditions.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { savingsRepo } from '../../../functions/shared/db/savings-repo.js';
import { utcDay } from '../../../functions/shared/domain/savings.js';
import type { Agent } from '../../../functions/shared/domain/types.js';
import { accrueAgent } from '../../../functions/shared/savings-ledger.js';
import { randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { newTenant, poolOf, registerAgent, seedPool, setInstancePrices, switchReport } from './helpers.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

const H = 3_600_000;
const DAY = 24 * H;

async function agentWithWatermark(agentId: string, watermark: Date): Promise<Agent> {
  return (await agentsRepo.update(agentId, { set: { accrued_until: watermark.toISOString() } })) as Agent;
}

async function ledgerTotal(agentId: string, now: Date) {
  const days = await savingsRepo.agentDays(agentId, utcDay(now.getTime() - 3 * DAY), utcDay(now.getTime()));
  return {
    savings: days.reduce((a, d) => a + d.savings, 0),
    spot_hours: days.reduce((a, d) => a + d.spot_hours, 0),
    actual_cost: days.reduce((a, d) => a + d.actual_cost, 0),
  };
}

describe('savings ledger accrual', () => {
  it('accrues (on-demand − spot) × hours once, however often and concurrently it runs', async () => {
    const t = await newTenant();
    await setInstancePrices(t.instanceId, 0.03, 0.1);
    const now = new Date();
    const agent = await agentWithWatermark(t.agentId, new Date(now.getTime() - 2 * H));
    const results = await Promise.all([1, 2, 3, 4].map(() => accrueAgent(agent, now)));
    expect(results.filter((r) => r === 'accrued')).toHaveLength(1);
    expect(await accrueAgent(agent, now)).toBe('noop');
    expect(await accrueAgent((await agentsRepo.get(t.agentId)) as Agent, now)).toBe('noop');
    const total = await ledgerTotal(t.agentId, now);
    expect(total.savings).toBeCloseTo(0.14, 9);
    expect(total.spot_hours).toBeCloseTo(2, 9);
    expect(total.actual_cost).toBeCloseTo(0.06, 9);
    expect((await agentsRepo.get(t.agentId))?.accrued_until).toBe(now.toISOString());
    expect((await instancesRepo.get(t.instanceId))?.accrued_savings).toBeCloseTo(0.14, 9);
    // The client's day buckets hold the same amount.
    const clientDays = await savingsRepo.clientDays(t.clientId, utcDay(now.getTime() - DAY), utcDay(now.getTime()));
    expect(clientDays.reduce((a, d) => a + d.savings, 0)).toBeCloseTo(0.14, 9);
  });

  it('a switch closes the old PRIMARY at the cut-over with the reported prices; the new one accrues after it', async () => {
    const t = await newTenant();
    await setInstancePrices(t.instanceId, 0.05, 0.1);
    const now = new Date();
    await agentWithWatermark(t.agentId, new Date(now.getTime() - H));
    const newId = randomInstanceId();
    const readyAt = new Date(now.getTime() - 0.5 * H);
    const body = switchReport(t, t.instanceId, newId, { oldSpot: 0.05, newSpot: 0.03, readyAt, downtimeSeconds: 0 });
    expect((await invoke('reporting', 'POST', `/api/agents/${t.agentId}/switch-report`, { token: t.token, body })).status).toBe(200);
    const afterSwitch = (await agentsRepo.get(t.agentId)) as Agent;
    expect(afterSwitch.accrued_until).toBe(readyAt.toISOString());
    expect(await accrueAgent(afterSwitch, now)).toBe('accrued');
    // 0.5 h × (0.1 − 0.05) on the old instance + 0.5 h × (0.1 − 0.03) on the new one.
    expect((await ledgerTotal(t.agentId, now)).savings).toBeCloseTo(0.025 + 0.035, 9);
    expect((await instancesRepo.get(t.instanceId))?.accrued_savings).toBeCloseTo(0.025, 9);
    expect((await instancesRepo.get(newId))?.accrued_savings).toBeCloseTo(0.035, 9);
  });

  it('an agent that went silent earns nothing after its last heartbeat + 5 min, and the gap is not counted later', async () => {
    const t = await newTenant();
    await setInstancePrices(t.instanceId, 0.03, 0.1);
    const now = new Date();
    await agentsRepo.update(t.agentId, { set: { last_heartbeat_at: new Date(now.getTime() - 2 * H).toISOString() } });
    const agent = await agentWithWatermark(t.agentId, new Date(now.getTime() - 3 * H));
    expect(await accrueAgent(agent, now)).toBe('accrued');
    // Money only for the 1 h 5 min up to last heartbeat + 5 min; the watermark still moved to now.
    expect((await ledgerTotal(t.agentId, now)).spot_hours).toBeCloseTo(1 + 5 / 60, 9);
    expect((await agentsRepo.get(t.agentId))?.accrued_until).toBe(now.toISOString());
  });
});

describe('daily-savings-snapshot', () => {
  it('freezes yesterday and adds it to total_savings exactly once per (client, day)', async () => {
    const t = await newTenant();
    await setInstancePrices(t.instanceId, 0.03, 0.1);
    const now = new Date();
    const midnight = Date.parse(`${utcDay(now.getTime())}T00:00:00.000Z`);
    const yesterday = utcDay(midnight - DAY);
    // The client existed for days; its agent has been accrued up to yesterday 12:00.
    await updateItem(keys.client(t.clientId), { set: { created_at: new Date(midnight - 3 * DAY).toISOString() } });
    await agentWithWatermark(t.agentId, new Date(midnight - 12 * H));

    const only = { clientIds: [t.clientId] };
    const runs = await Promise.all([dailySavingsSnapshot(now, only), dailySavingsSnapshot(now, only)]);
    expect(runs.reduce((a, r) => a + (r.snapshots_written as number), 0)).toBe(3); // 3 days since creation
    const again = await dailySavingsSnapshot(now, { clientIds: [t.clientId] });
    expect(again.snapshots_written).toBe(0);

    const snapshot = await savingsRepo.getSnapshot(t.clientId, yesterday);
    expect(snapshot).toMatchObject({ client_id: t.clientId, date: yesterday });
    expect(snapshot?.savings).toBeCloseTo(12 * 0.07, 6);
    expect(snapshot?.actual_cost).toBeCloseTo(12 * 0.03, 6);
    expect(snapshot?.ondemand_cost).toBeCloseTo(12 * 0.1, 6);
    expect(snapshot?.spot_hours).toBeCloseTo(12, 4);
    expect(snapshot?.ondemand_hours).toBe(0);
    expect((await savingsRepo.getSnapshot(t.clientId, utcDay(midnight - 2 * DAY)))?.savings).toBe(0);
    const client = await clientsRepo.get(t.clientId);
    expect(client?.total_savings).toBeCloseTo(12 * 0.07, 6);
    expect(client?.last_sync_at).toBe(now.toISOString());

    // The client overview and the savings summary read the same total.
    const summary = await invoke<{ total_savings: number; savings_by_month: { month: string; savings: number }[]; as_of: string }>(
      'analytics',
      'GET',
      `/api/client/${t.clientId}/savings`,
      { token: t.token, query: { months: 2 } },
    );
    expect(summary.status, summary.text).toBe(200);
    expect(summary.json.total_savings).toBeCloseTo(0.84, 6);
    expect(summary.json.as_of).toBe(new Date(midnight).toISOString());
    expect(summary.json.savings_by_month.find((m) => m.month === yesterday.slice(0, 7))?.savings).toBeCloseTo(0.84, 6);
  });
});

describe('auto-switch runner (pool-risk job step)', () => {
  it('queues a priority-50 model switch off a risky pool, once; agents with auto-switch off are left alone', async () => {
    const t = await newTenant();
    await seedPool(t.instanceType, 'a', 0.03, { risk: 0.9 });
    await seedPool(t.instanceType, 'b', 0.035, { risk: 0.05 });
    await setInstancePrices(t.instanceId, 0.03, 0.1);
    const manual = await registerAgent(t.token, t.instanceType);
    expect((await invoke('agents', 'POST', `/api/client/agents/${manual.agentId}/config`, { token: t.token, body: { manual_replica_enabled: true } })).status).toBe(200);
    const now = new Date(Date.now() + 1000);
    await agentsRepo.update(t.agentId, { set: { pool_since: new Date(now.getTime() - 10 * H).toISOString() } });

    const first = await runEngineForAutoSwitchAgents(now, { clientIds: [t.clientId] });
    expect(first).toMatchObject({ agents: 2, evaluated: 1, switches_queued: 1, urgent: 1 });
    expect(first.ledger_accrued).toBe(2);
    const [command] = await commandsRepo.listPending(t.agentId);
    expect(command).toMatchObject({ priority: 50, trigger_type: 'model', target_mode: 'spot', target_pool_id: poolOf(t.instanceType, 'b'), created_by: 'decision-engine' });
    expect(await commandsRepo.listPending(manual.agentId)).toHaveLength(0);

    const second = await runEngineForAutoSwitchAgents(new Date(now.getTime() + 1000), { clientIds: [t.clientId] });
    expect(second).toMatchObject({ switches_queued: 0, skipped_open_switch: 1 });
    expect(await commandsRepo.listPending(t.agentId)).toHaveLength(1);
  });
});
