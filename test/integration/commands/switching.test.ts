import { describe, expect, it } from 'vitest';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import { invoke } from '../../support/http.js';
import { createClientInProcess, randomInstanceId } from '../../support/factories.js';
import { type ErrorBody, newTenant, poolOf, registerAgent, seedPool, setInstancePrices, switchReport, type TestTenant } from '../../support/tenants.js';

interface CommandBody {
  id: string;
  agent_id: string;
  instance_id: string | null;
  command_type: string;
  target_mode: string | null;
  target_pool_id: string | null;
  terminate_wait_seconds: number;
  priority: number;
  status: string;
  trigger_type: string;
  expires_at: string;
  created_at: string;
}

const issue = (t: TestTenant, body: Record<string, unknown>) =>
  invoke<CommandBody & ErrorBody>('commands', 'POST', `/api/agents/${t.agentId}/issue-switch-command`, { token: t.token, body });
const force = (t: { token: string }, instanceId: string, body: Record<string, unknown>) =>
  invoke<CommandBody & ErrorBody>('commands', 'POST', `/api/client/instances/${instanceId}/force-switch`, { token: t.token, body });
const config = (t: TestTenant, body: Record<string, unknown>) =>
  invoke('agents', 'POST', `/api/client/agents/${t.agentId}/config`, { token: t.token, body });

describe('issue-switch-command', () => {
  it('queues an automated switch (202, priority 25, trigger model, §4.1 terminate wait) and takes the open-switch slot', async () => {
    const t = await newTenant();
    const target = poolOf(t.instanceType, 'b');
    const res = await issue(t, { target_mode: 'spot', target_pool_id: target, reason: 'cheaper' });
    expect(res.status, res.text).toBe(202);
    expect(res.json).toMatchObject({
      agent_id: t.agentId,
      instance_id: t.instanceId,
      command_type: 'switch',
      target_mode: 'spot',
      target_pool_id: target,
      priority: 25,
      status: 'pending',
      trigger_type: 'model',
      terminate_wait_seconds: 300,
    });
    expect(Date.parse(res.json.expires_at) - Date.parse(res.json.created_at)).toBe(3_600_000);
    const agent = await agentsRepo.get(t.agentId);
    expect(agent?.open_switch_id).toBe(res.json.id);
    expect(agent?.open_switch_priority).toBe(25);
    // The agent receives it on its next poll.
    const pending = await invoke<{ id: string }[]>('commands', 'GET', `/api/agents/${t.agentId}/pending-commands`, { token: t.token });
    expect(pending.json[0]?.id).toBe(res.json.id);
  });

  it('422: ALREADY_IN_TARGET_STATE, POOL_MISMATCH, AUTO_SWITCH_DISABLED, AGENT_DISABLED; terminate wait 0 without auto-terminate', async () => {
    const t = await newTenant();
    const same = await issue(t, { target_mode: 'spot', target_pool_id: poolOf(t.instanceType, 'a') });
    expect(same.status).toBe(422);
    expect(same.json.error.code).toBe('ALREADY_IN_TARGET_STATE');
    const otherType = await issue(t, { target_mode: 'spot', target_pool_id: 'm5.large.us-east-1b' });
    expect(otherType.status).toBe(422);
    expect(otherType.json.error.code).toBe('POOL_MISMATCH');
    const otherRegion = await issue(t, { target_mode: 'spot', target_pool_id: `${t.instanceType}.eu-west-1a` });
    expect(otherRegion.json.error.code).toBe('POOL_MISMATCH');
    const noPool = await issue(t, { target_mode: 'spot' });
    expect(noPool.status).toBe(400);

    expect((await config(t, { auto_terminate_enabled: false })).status).toBe(200);
    const od = await issue(t, { target_mode: 'ondemand', priority: 10 });
    expect(od.status, od.text).toBe(202);
    expect(od.json).toMatchObject({ terminate_wait_seconds: 0, priority: 10, trigger_type: 'scheduled', target_pool_id: null });

    expect((await config(t, { manual_replica_enabled: true })).status).toBe(200); // turns auto-switch off
    const off = await issue(t, { target_mode: 'ondemand' });
    expect(off.status).toBe(422);
    expect(off.json.error.code).toBe('AUTO_SWITCH_DISABLED');

    const toggle = await invoke('agents', 'POST', `/api/client/agents/${t.agentId}/toggle-enabled`, { token: t.token, body: { enabled: false } });
    expect(toggle.status).toBe(200);
    const disabled = await issue(t, { target_mode: 'ondemand' });
    expect(disabled.status).toBe(422);
    expect(disabled.json.error.code).toBe('AGENT_DISABLED');
  });

  it('422 SWITCH_LIMIT_REACHED once the daily limit of switches is used', async () => {
    const t = await newTenant();
    expect((await config(t, { max_switches_per_day: 1 })).status).toBe(200);
    const newId = randomInstanceId();
    const report = await invoke('reporting', 'POST', `/api/agents/${t.agentId}/switch-report`, {
      token: t.token,
      body: switchReport(t, t.instanceId, newId),
    });
    expect(report.status, report.text).toBe(200);
    const res = await issue(t, { target_mode: 'ondemand' });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('SWITCH_LIMIT_REACHED');
  });

  it('an open switch of equal or higher priority, or a command in flight → 409 COMMAND_IN_FLIGHT', async () => {
    const t = await newTenant();
    const first = await issue(t, { target_mode: 'ondemand', priority: 50 });
    expect(first.status).toBe(202);
    const equal = await issue(t, { target_mode: 'spot', target_pool_id: poolOf(t.instanceType, 'c'), priority: 50 });
    expect(equal.status).toBe(409);
    expect(equal.json.error.code).toBe('COMMAND_IN_FLIGHT');
    const lower = await issue(t, { target_mode: 'spot', target_pool_id: poolOf(t.instanceType, 'c'), priority: 25 });
    expect(lower.status).toBe(409);
    // Delivered → in flight: even a manual switch waits.
    await invoke('commands', 'GET', `/api/agents/${t.agentId}/pending-commands`, { token: t.token });
    const manual = await force(t, t.instanceId, { target: 'ondemand' });
    expect(manual.status).toBe(409);
    expect(manual.json.error.code).toBe('COMMAND_IN_FLIGHT');
    // Once the command finished, the slot counts as free again.
    const done = await invoke('commands', 'POST', `/api/agents/${t.agentId}/commands/${first.json.id}/executed`, {
      token: t.token,
      body: { success: false, message: 'capacity' },
    });
    expect(done.status, done.text).toBe(200);
    const again = await issue(t, { target_mode: 'ondemand', priority: 25 });
    expect(again.status, again.text).toBe(202);
  });
});

describe('force-switch', () => {
  it('priority 75 manual cancels a lower-priority open switch; a second one gets 409', async () => {
    const t = await newTenant();
    const auto = await issue(t, { target_mode: 'ondemand', priority: 50 });
    expect(auto.status).toBe(202);
    const res = await force(t, t.instanceId, { target: 'ondemand', reason: 'maintenance', terminate_wait_seconds: 60 });
    expect(res.status, res.text).toBe(202);
    expect(res.json).toMatchObject({ priority: 75, trigger_type: 'manual', target_mode: 'ondemand', terminate_wait_seconds: 60 });
    expect(Date.parse(res.json.expires_at) - Date.parse(res.json.created_at)).toBe(6 * 3_600_000);
    expect((await commandsRepo.get(t.agentId, auto.json.id))?.status).toBe('cancelled');
    expect((await agentsRepo.get(t.agentId))?.open_switch_id).toBe(res.json.id);
    const second = await force(t, t.instanceId, { target: 'ondemand' });
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe('COMMAND_IN_FLIGHT');
    const pending = await invoke<{ id: string }[]>('commands', 'GET', `/api/agents/${t.agentId}/pending-commands`, { token: t.token });
    expect(pending.json.map((c) => c.id)).toEqual([res.json.id]);
  });

  it('concurrent force-switches on one agent: exactly one 202, the others 409 COMMAND_IN_FLIGHT', async () => {
    const t = await newTenant();
    const auto = await issue(t, { target_mode: 'ondemand', priority: 25 });
    const results = await Promise.all([1, 2, 3, 4].map(() => force(t, t.instanceId, { target: 'ondemand' })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.json.error.code).toBe('COMMAND_IN_FLIGHT');
    const winner = results.find((r) => r.status === 202)?.json.id;
    const commands = await commandsRepo.listByAgent(t.agentId);
    expect(commands.filter((c) => c.status === 'pending').map((c) => c.id)).toEqual([winner]);
    expect(commands.find((c) => c.id === auto.json.id)?.status).toBe('cancelled');
    expect((await agentsRepo.get(t.agentId))?.open_switch_id).toBe(winner);
  });

  it('target spot picks the cheapest fresh pool within risk_threshold; pool targets are checked', async () => {
    const t = await newTenant({ mode: 'ondemand' });
    await setInstancePrices(t.instanceId, null, 0.1);
    const none = await force(t, t.instanceId, { target: 'spot' });
    expect(none.status).toBe(422);
    expect(none.json.error.code).toBe('NO_SUITABLE_POOL');
    await seedPool(t.instanceType, 'b', 0.04, { risk: 0.1 });
    await seedPool(t.instanceType, 'c', 0.02, { risk: 0.8 }); // too risky
    await seedPool(t.instanceType, 'd', 0.01, { risk: 0.1, pricedAt: new Date(Date.now() - 3 * 3_600_000) }); // stale
    await seedPool(t.instanceType, 'e', 0.035, { risk: 0.2 });
    const mismatch = await force(t, t.instanceId, { target: 'ondemand', new_instance_type: t.instanceType });
    expect(mismatch.json.error.code).toBe('ALREADY_IN_TARGET_STATE');
    const typeChange = await force(t, t.instanceId, { target: 'spot', new_instance_type: 'm5.large' });
    expect(typeChange.status).toBe(422);
    expect(typeChange.json.error.code).toBe('POOL_MISMATCH');
    const wrongPool = await force(t, t.instanceId, { target: 'pool', pool_id: 'm5.large.us-east-1a' });
    expect(wrongPool.json.error.code).toBe('POOL_MISMATCH');
    const res = await force(t, t.instanceId, { target: 'spot' });
    expect(res.status, res.text).toBe(202);
    expect(res.json.target_pool_id).toBe(poolOf(t.instanceType, 'e'));
  });

  it('NOT_PRIMARY for a former PRIMARY; another client’s instance → 404; a stale version → 409', async () => {
    const t = await newTenant();
    const newId = randomInstanceId();
    expect((await invoke('reporting', 'POST', `/api/agents/${t.agentId}/switch-report`, { token: t.token, body: switchReport(t, t.instanceId, newId) })).status).toBe(200);
    const zombie = await force(t, t.instanceId, { target: 'ondemand' });
    expect(zombie.status).toBe(422);
    expect(zombie.json.error.code).toBe('NOT_PRIMARY');
    const stale = await force(t, newId, { target: 'ondemand', version: 99 });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('VERSION_CONFLICT');
    const other = await createClientInProcess();
    const foreign = await force(other, newId, { target: 'ondemand' });
    expect(foreign.status).toBe(404);
    const foreignIssue = await invoke('commands', 'POST', `/api/agents/${t.agentId}/issue-switch-command`, {
      token: other.token,
      body: { target_mode: 'ondemand' },
    });
    expect(foreignIssue.status).toBe(404);
    // Another agent of the same client is unaffected by this agent's slot.
    const second = await registerAgent(t.token, t.instanceType);
    expect((await force(t, second.instanceId, { target: 'ondemand' })).status).toBe(202);
  });
});
