import { describe, expect, it } from 'vitest';
import { dailySavingsSnapshot } from '../../../functions/jobs/daily-savings-snapshot/job.js';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { clientsRepo } from '../../../functions/shared/db/clients-repo.js';
import { updateItem } from '../../../functions/shared/db/conditions.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { savingsRepo } from '../../../functions/shared/db/savings-repo.js';
import { utcDay } from '../../../functions/shared/domain/savings.js';
import type { Agent } from '../../../functions/shared/domain/types.js';
import { invoke } from '../../support/http.js';
import { newTenant, setInstancePrices } from '../../support/tenants.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

const H = 3_600_000;
const DAY = 24 * H;

async function agentWithWatermark(agentId: string, watermark: Date): Promise<Agent> {
  return (await agentsRepo.update(agentId, { set: { accrued_until: watermark.toISOString() } })) as Agent;
}

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
