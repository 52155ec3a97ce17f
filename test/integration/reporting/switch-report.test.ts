import { describe, expect, it } from 'vitest';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { switchesRepo } from '../../../functions/shared/db/switches-repo.js';
import { randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { newTenant, poolOf, REGION, switchReport, type TestTenant } from '../../support/tenants.js';

interface ReportReply {
  success: true;
  switch_id: string;
  savings_impact: number | null;
  old_instance_status: 'terminated' | 'zombie';
}

const report = (t: TestTenant, body: unknown) =>
  invoke<ReportReply>('reporting', 'POST', `/api/agents/${t.agentId}/switch-report`, { token: t.token, body });

async function deliveredSwitch(t: TestTenant, body: Record<string, unknown>) {
  const issued = await invoke<{ id: string }>('commands', 'POST', `/api/agents/${t.agentId}/issue-switch-command`, { token: t.token, body });
  expect(issued.status, issued.text).toBe(202);
  const pending = await invoke<{ id: string }[]>('commands', 'GET', `/api/agents/${t.agentId}/pending-commands`, { token: t.token });
  expect(pending.json[0]?.id).toBe(issued.json.id);
  return issued.json.id;
}

describe('switch-report', () => {
  it('one transaction: Switch stored, new PRIMARY, old ZOMBIE, in-flight command completed with its own trigger; a repeat writes nothing', async () => {
    const t = await newTenant();
    const commandId = await deliveredSwitch(t, { target_mode: 'spot', target_pool_id: poolOf(t.instanceType, 'b'), priority: 50 });
    expect((await agentsRepo.get(t.agentId))?.status).toBe('switching');
    const newId = randomInstanceId();
    const body = switchReport(t, t.instanceId, newId, { oldSpot: 0.05, newSpot: 0.03, downtimeSeconds: 6, trigger: 'manual' });

    const first = await report(t, body);
    expect(first.status, first.text).toBe(200);
    expect(first.json.success).toBe(true);
    expect(first.json.old_instance_status).toBe('zombie');
    expect(first.json.savings_impact).toBeCloseTo(0.02, 9);

    const versionAfterFirst = (await agentsRepo.get(t.agentId))?.version;
    const again = await report(t, body);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect((await agentsRepo.get(t.agentId))?.version).toBe(versionAfterFirst);
    const switches = await switchesRepo.listByAgent(t.agentId, '2000-01-01');
    expect(switches).toHaveLength(1);
    const sw = switches[0];
    expect(sw).toMatchObject({
      id: first.json.switch_id,
      command_id: commandId,
      trigger_type: 'model', // the command's trigger, not the agent's advisory `manual`
      old_instance_id: t.instanceId,
      new_instance_id: newId,
      old_mode: 'spot',
      new_mode: 'spot',
      old_pool_id: poolOf(t.instanceType, 'a'),
      new_pool_id: poolOf(t.instanceType, 'b'),
      on_demand_price: 0.1,
      old_price: 0.05,
      new_price: 0.03,
      downtime_seconds: 6,
      initiated_at: body.timing.switch_initiated_at,
      completed_at: body.timing.traffic_switched_at,
      old_instance_outcome: 'zombie',
    });

    const agent = await agentsRepo.get(t.agentId);
    expect(agent).toMatchObject({
      primary_instance_id: newId,
      instance_id: newId,
      az: `${REGION}b`,
      current_pool_id: poolOf(t.instanceType, 'b'),
      status: 'online',
      pool_since: body.timing.traffic_switched_at,
    });
    expect(agent?.inflight_command_id ?? null).toBeNull();
    expect(agent?.open_switch_id ?? null).toBeNull();
    expect((await instancesRepo.get(newId))).toMatchObject({ role: 'PRIMARY', agent_id: t.agentId, spot_price: 0.03, ondemand_price: 0.1 });
    expect((await instancesRepo.get(t.instanceId))).toMatchObject({ role: 'ZOMBIE', zombie_since: body.timing.traffic_switched_at });
    expect((await instancesRepo.listByAgent(t.agentId, 'PRIMARY')).map((i) => i.id)).toEqual([newId]);
    const command = await commandsRepo.get(t.agentId, commandId);
    expect(command).toMatchObject({ status: 'completed', success: true });
    // The agent's own `executed` call afterwards is a repeat of the same result: 200.
    const executed = await invoke('commands', 'POST', `/api/agents/${t.agentId}/commands/${commandId}/executed`, {
      token: t.token,
      body: { success: true },
    });
    expect(executed.status).toBe(200);
    // The wire view of the agent follows the new PRIMARY.
    const view = await invoke<{ instance_id: string; current_pool_id: string }>('agents', 'GET', `/api/agents/${t.agentId}`, { token: t.token });
    expect(view.json.instance_id).toBe(newId);
  });

  it('accepts the alternative keys; old_instance_terminated_at makes the old instance TERMINATED', async () => {
    const t = await newTenant({ mode: 'ondemand' });
    const newId = randomInstanceId();
    const base = switchReport(t, t.instanceId, newId, { oldMode: 'ondemand', newMode: 'spot', oldSpot: null, newSpot: 0.025, downtimeSeconds: 2.5 });
    const terminatedAt = new Date().toISOString();
    const body = {
      old_instance: base.old_instance,
      new_instance: base.new_instance,
      pricing: base.prices,
      timing: {
        initiated_at: base.timing.switch_initiated_at,
        instance_launched_at: base.timing.new_instance_launched_at,
        instance_ready_at: base.timing.new_instance_ready_at,
        traffic_switched_at: base.timing.traffic_switched_at,
        old_terminated_at: terminatedAt,
      },
      trigger: 'emergency-termination',
    };
    const res = await report(t, body);
    expect(res.status, res.text).toBe(200);
    expect(res.json.old_instance_status).toBe('terminated');
    expect(res.json.savings_impact).toBeCloseTo(0.075, 9); // on-demand 0.1 → spot 0.025
    const [sw] = await switchesRepo.listByAgent(t.agentId, '2000-01-01');
    expect(sw).toMatchObject({ trigger_type: 'emergency', command_id: null, downtime_seconds: 2.5, old_pool_id: null, old_instance_outcome: 'terminated' });
    expect(await instancesRepo.get(t.instanceId)).toMatchObject({ role: 'TERMINATED', terminated_at: terminatedAt, termination_confirmed: true });
    expect((await agentsRepo.get(t.agentId))?.current_mode).toBe('spot');
  });

  it('missing fields under both spellings → 400 with the agent key path', async () => {
    const t = await newTenant();
    const body = switchReport(t, t.instanceId, randomInstanceId()) as Record<string, unknown>;
    delete body.prices;
    const res = await report(t, body);
    expect(res.status).toBe(400);
    expect(res.text).toContain('body.prices');
  });

  it('concurrent identical reports record one Switch and all answer with its id', async () => {
    const t = await newTenant();
    const newId = randomInstanceId();
    const body = switchReport(t, t.instanceId, newId);
    const results = await Promise.all([1, 2, 3].map(() => report(t, body)));
    for (const r of results) expect(r.status, r.text).toBe(200);
    expect(new Set(results.map((r) => r.json.switch_id)).size).toBe(1);
    expect(await switchesRepo.listByAgent(t.agentId, '2000-01-01')).toHaveLength(1);
    expect((await instancesRepo.listByAgent(t.agentId, 'PRIMARY')).map((i) => i.id)).toEqual([newId]);
  });

  it('a report after the new instance already registered (PRIMARY via register) still records the switch', async () => {
    const t = await newTenant();
    const agent = await agentsRepo.get(t.agentId);
    const newId = randomInstanceId();
    const reg = await invoke('agents', 'POST', '/api/agents/register', {
      token: t.token,
      body: {
        logical_agent_id: agent?.logical_agent_id,
        instance_id: newId,
        instance_type: t.instanceType,
        region: REGION,
        az: `${REGION}b`,
        mode: 'spot',
        agent_version: '4.0.0',
      },
    });
    expect(reg.status, reg.text).toBe(200);
    const res = await report(t, switchReport(t, t.instanceId, newId));
    expect(res.status, res.text).toBe(200);
    expect(res.json.old_instance_status).toBe('zombie');
    expect(await switchesRepo.listByAgent(t.agentId, '2000-01-01')).toHaveLength(1);
    expect((await instancesRepo.get(t.instanceId))?.role).toBe('ZOMBIE');
    expect((await instancesRepo.get(newId))?.role).toBe('PRIMARY');
  });
});
