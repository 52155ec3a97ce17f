import { describe, expect, it } from 'vitest';
import { runEngineForAutoSwitchAgents } from '../../../../functions/shared/flows/auto-switch.js';
import { agentsRepo } from '../../../../functions/shared/db/agents-repo.js';
import { commandsRepo } from '../../../../functions/shared/db/commands-repo.js';
import { invoke } from '../../../support/http.js';
import { newTenant, poolOf, registerAgent, seedPool, setInstancePrices } from '../../../support/tenants.js';
import { useIsolatedTable } from '../../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

const H = 3_600_000;

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
