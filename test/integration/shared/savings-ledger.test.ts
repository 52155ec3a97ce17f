import { describe, expect, it } from 'vitest';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { savingsRepo } from '../../../functions/shared/db/savings-repo.js';
import { utcDay } from '../../../functions/shared/domain/savings.js';
import type { Agent } from '../../../functions/shared/domain/types.js';
import { accrueAgent } from '../../../functions/shared/savings-ledger.js';
import { randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { newTenant, setInstancePrices, switchReport } from '../../support/tenants.js';
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
    expect((await instancesRepo.getWithTelemetry(t.instanceId))?.accrued_savings).toBeCloseTo(0.14, 9);
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
    expect((await instancesRepo.getWithTelemetry(t.instanceId))?.accrued_savings).toBeCloseTo(0.025, 9);
    expect((await instancesRepo.getWithTelemetry(newId))?.accrued_savings).toBeCloseTo(0.035, 9);
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
