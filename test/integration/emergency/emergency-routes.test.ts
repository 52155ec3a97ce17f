import { describe, expect, it } from 'vitest';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { spotInterruptionWarning } from '../../support/factories.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { invoke } from '../../support/http.js';
import { commandsOf, configure, incidentsOf, launchedReplica, replicasOf, seedPool, sendEvent, setupAgent, type TestAgent } from '../../support/interruption.js';

type Json = Record<string, unknown>;

const CREATE_EMERGENCY_REPLICA_KEYS = [
  'success', 'existing', 'replica_id', 'instance_id', 'replica_instance_id', 'pool', 'hourly_cost', 'status', 'urgency',
  'emergency_event_id', 'message',
];
const TERMINATION_IMMINENT_KEYS = [
  'success', 'message', 'action', 'new_instance_id', 'replica_id', 'failover_time_ms', 'emergency_event_id',
  'create_emergency_replica', 'target_pool_id', 'instructions',
];

const cer = (agent: TestAgent, body: Json) =>
  invoke<Json>('emergency', 'POST', `/api/agents/${agent.agentId}/create-emergency-replica`, { token: agent.token, body });

describe('create-emergency-replica (AGENT WIRE CONTRACT)', () => {
  it('termination-notice, auto-switch on, no replica: 201 with an automatic-termination placeholder the agent launches', async () => {
    const agent = await setupAgent();
    const pool = await seedPool(agent.instanceType, 'us-east-1b', 0.02, 0.1);
    const res = await cer(agent, { signal_type: 'termination-notice', instance_id: agent.instanceId, termination_time: new Date(Date.now() + 120_000).toISOString() });
    expect(res.status).toBe(201);
    expect(Object.keys(res.json)).toEqual(expect.arrayContaining(CREATE_EMERGENCY_REPLICA_KEYS));
    expect(res.json).toMatchObject({
      success: true,
      existing: false,
      pool: { id: pool, az: 'us-east-1b', instance_type: agent.instanceType },
      hourly_cost: 0.02,
      status: 'launching',
      urgency: 'critical',
    });
    expect(res.json.replica_instance_id).toBe(res.json.instance_id);
    expect(String(res.json.instance_id)).toMatch(/^replica-/);
    const [incident] = await incidentsOf(agent.agentId);
    expect(res.json.emergency_event_id).toBe(incident?.id);
    const replicas = await replicasOf(agent.agentId);
    expect(replicas).toEqual([expect.objectContaining({ id: res.json.replica_id, type: 'automatic-termination', emergency_event_id: incident?.id })]);
    // The agent polls replicas?status=launching and sees it.
    const launching = await invoke<{ replicas: Json[] }>('replicas', 'GET', `/api/agents/${agent.agentId}/replicas`, {
      token: agent.token,
      query: { status: 'launching' },
    });
    expect(launching.json.replicas.map((r) => r.id)).toEqual([res.json.replica_id]);

    // The same call again: the existing replica, 200, existing: true — one emergency replica per notice.
    const again = await cer(agent, { signal_type: 'termination-notice', instance_id: agent.instanceId });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ success: true, existing: true, replica_id: res.json.replica_id });
    expect(await replicasOf(agent.agentId)).toHaveLength(1);

    // termination-imminent afterwards: awaiting that replica (and the emergency switch is queued).
    const notice = await invoke<Json>('emergency', 'POST', `/api/agents/${agent.agentId}/termination-imminent`, {
      token: agent.token,
      body: { instance_id: agent.instanceId },
    });
    expect(Object.keys(notice.json)).toEqual(expect.arrayContaining(TERMINATION_IMMINENT_KEYS));
    expect(notice.json).toMatchObject({ success: false, action: 'awaiting_replica', replica_id: res.json.replica_id });

    // The agent launches it and reports ready: promoted, the pending emergency switch cancelled.
    const launched = `i-${'b'.repeat(9)}${Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0')}`;
    await invoke('replicas', 'PUT', `/api/agents/${agent.agentId}/replicas/${res.json.replica_id}`, { token: agent.token, body: { instance_id: launched } });
    await invoke('replicas', 'POST', `/api/agents/${agent.agentId}/replicas/${res.json.replica_id}/status`, { token: agent.token, body: { status: 'ready' } });
    expect((await agentsRepo.get(agent.agentId))?.primary_instance_id).toBe(launched);
    expect((await commandsOf(agent.agentId)).map((c) => c.status)).toEqual(['cancelled']);
    const done = await invoke<Json>('emergency', 'POST', `/api/agents/${agent.agentId}/termination-notice`, { token: agent.token, body: { instance_id: agent.instanceId } });
    expect(done.json).toMatchObject({ success: true, action: 'replica_promoted', new_instance_id: launched });
  });

  it('declines with reason codes: AUTO_SWITCH_DISABLED, NOT_PRIMARY, NO_SUITABLE_POOL (200, success: false)', async () => {
    const off = await setupAgent({ config: { auto_switch_enabled: false } });
    await seedPool(off.instanceType, 'us-east-1b', 0.02, 0.1);
    const declined = await cer(off, { signal_type: 'termination-notice', instance_id: off.instanceId });
    expect(declined.status).toBe(200);
    expect(declined.json).toMatchObject({ success: false, reason_code: 'AUTO_SWITCH_DISABLED', replica_id: null, urgency: 'critical' });
    expect(typeof declined.json.error).toBe('string');

    const agent = await setupAgent();
    const notPrimary = await cer(agent, { signal_type: 'rebalance-recommendation', instance_id: 'i-00000000000000000' });
    expect(notPrimary.json).toMatchObject({ success: false, reason_code: 'NOT_PRIMARY' });

    const noPool = await cer(agent, { signal_type: 'termination-notice', instance_id: agent.instanceId }); // no pools known for its type
    expect(noPool.status).toBe(200);
    expect(noPool.json).toMatchObject({ success: false, reason_code: 'NO_SUITABLE_POOL' });
  });

  it('rebalance with the default prewarm policy: the placeholder this report pre-warmed is answered as created (201)', async () => {
    const agent = await setupAgent();
    const pool = await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.1);
    const res = await cer(agent, { signal_type: 'rebalance-recommendation', instance_id: agent.instanceId });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ success: true, existing: false, urgency: 'high', pool: { id: pool }, status: 'launching' });
    const replicas = await replicasOf(agent.agentId);
    expect(replicas).toEqual([expect.objectContaining({ id: res.json.replica_id, type: 'automatic-rebalance' })]);
    const again = await cer(agent, { signal_type: 'rebalance-recommendation', instance_id: agent.instanceId });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ existing: true, replica_id: res.json.replica_id });
  });

  it('an existing active replica is returned with existing: true (rebalance, urgency high)', async () => {
    const agent = await setupAgent();
    const replica = await launchedReplica(agent, 'ready');
    const res = await cer(agent, { signal_type: 'rebalance-recommendation', instance_id: agent.instanceId });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ success: true, existing: true, replica_id: replica.replicaId, replica_instance_id: replica.instanceId, urgency: 'high', status: 'ready' });
  });

  it('with parent_instance_id: registers an already-launched replica (201), idempotent on its instance id', async () => {
    const agent = await setupAgent();
    const instanceId = 'i-0123456789abcdef1'.replace('1234', String(1000 + Math.floor(Math.random() * 8999)));
    const body = { instance_id: instanceId, parent_instance_id: agent.instanceId, pool_id: `${agent.instanceType}.us-east-1c`, status: 'syncing' };
    const first = await cer(agent, body);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ success: true, existing: false, instance_id: instanceId, replica_instance_id: instanceId, status: 'syncing' });
    const second = await cer(agent, body);
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ existing: true, replica_id: first.json.replica_id });
    const invalid = await cer(agent, { instance_id: instanceId, parent_instance_id: agent.instanceId });
    expect(invalid.status).toBe(400);
    const mismatch = await cer(agent, { instance_id: instanceId.replace(/.$/, 'e'), parent_instance_id: agent.instanceId, pool_id: 'm5.large.us-east-1b' });
    expect(mismatch.json).toMatchObject({ success: false, reason_code: 'NO_SUITABLE_POOL', replica_id: null });
  });
});

describe('rebalance-recommendation: per-agent policy', () => {
  const rebalance = (agent: TestAgent, path = 'rebalance-recommendation') =>
    invoke<Json>('emergency', 'POST', `/api/agents/${agent.agentId}/${path}`, {
      token: agent.token,
      body: { instance_id: agent.instanceId, detected_at: new Date().toISOString() },
    });

  it('default with auto-switch on = prewarm: an automatic-rebalance placeholder; action monitor', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1a', 0.02, 0.2);
    const pool = await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.1);
    const res = await rebalance(agent);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ success: true, action: 'monitor', risk_score: 0.2, policy: 'prewarm', target_pool_id: null, command_id: null });
    expect(typeof res.json.reason).toBe('string');
    const replicas = await replicasOf(agent.agentId);
    expect(replicas).toEqual([expect.objectContaining({ type: 'automatic-rebalance', pool_id: pool, status: 'launching' })]);
    expect(res.json.replica_id).toBe(replicas[0]?.id);
    expect((await agentsRepo.get(agent.agentId))?.notice_status).toBe('rebalance');
  });

  it('prewarm with the pool above risk_threshold and a safer pool: a priority-50 model switch (API.md rule)', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1a', 0.02, 0.6);
    const safer = await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.1);
    const res = await rebalance(agent, 'rebalance-notice');
    expect(res.json).toMatchObject({ success: true, action: 'switch', target_pool_id: safer, risk_score: 0.6 });
    const [command] = await commandsOf(agent.agentId);
    expect(command).toMatchObject({ id: res.json.command_id, priority: 50, trigger_type: 'model', target_pool_id: safer });
  });

  it('switch policy: a switch whenever a safer pool exists; monitor when auto-switch is off', async () => {
    const agent = await setupAgent({ config: { rebalance_policy: 'switch' } });
    await seedPool(agent.instanceType, 'us-east-1a', 0.02, 0.1);
    const safer = await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.05);
    const res = await rebalance(agent);
    expect(res.json).toMatchObject({ action: 'switch', target_pool_id: safer, policy: 'switch' });

    const manual = await setupAgent({ config: { rebalance_policy: 'switch', manual_replica_enabled: true }, instanceType: agent.instanceType });
    const declined = await rebalance(manual);
    expect(declined.json).toMatchObject({ action: 'monitor', command_id: null });
  });

  it('monitor (the default with auto-switch off) and ignore', async () => {
    const monitor = await setupAgent({ config: { auto_switch_enabled: false } });
    const res = await rebalance(monitor);
    expect(res.json).toMatchObject({ success: true, action: 'monitor', policy: 'monitor' });
    expect((await agentsRepo.get(monitor.agentId))?.notice_status).toBe('rebalance');
    expect(await replicasOf(monitor.agentId)).toEqual([]);

    const ignore = await setupAgent({ config: { rebalance_policy: 'ignore' } });
    const ignored = await rebalance(ignore);
    expect(ignored.json).toMatchObject({ success: true, action: 'monitor', policy: 'ignore' });
    expect((await agentsRepo.get(ignore.agentId))?.notice_status).toBe('none');
    expect((await incidentsOf(ignore.agentId))[0]).toMatchObject({ action_taken: 'ignored' });
  });
});

describe('emergency-status and the admin emergency log', () => {
  it('emergency-status reflects the notice, the modes, the last event and the replicas', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.1);
    const quiet = await invoke<Json>('emergency', 'GET', `/api/agents/${agent.agentId}/emergency-status`, { token: agent.token });
    expect(quiet.json).toMatchObject({
      emergency_mode_active: false,
      notice_status: 'none',
      notice_deadline: null,
      rebalance_only_mode: false,
      decision_engine_active: true,
      last_emergency_event: null,
      emergency_replicas_count: 0,
      active_replica: null,
    });
    await sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId }));
    await cer(agent, { signal_type: 'termination-notice', instance_id: agent.instanceId });
    const busy = await invoke<Json>('emergency', 'GET', `/api/agents/${agent.agentId}/emergency-status`, { token: agent.token });
    expect(busy.json).toMatchObject({ emergency_mode_active: true, notice_status: 'termination', emergency_replicas_count: 1 });
    expect(busy.json.last_emergency_event).toMatchObject({ signal_type: 'termination', sources: ['agent', 'eventbridge'], outcome: 'handled' });
    expect(busy.json.active_replica).toMatchObject({ type: 'automatic-termination', status: 'launching' });
    expect(typeof busy.json.notice_deadline).toBe('string');
  });

  it('GET /api/admin/emergency-events: filters, summary, pagination', async () => {
    const a = await setupAgent();
    const b = await setupAgent({ config: { auto_switch_enabled: false } });
    const since = new Date(Date.now() - 1000).toISOString();
    await launchedReplica(a, 'ready');
    await sendEvent(spotInterruptionWarning({ instanceId: a.instanceId }));
    await sendEvent(spotInterruptionWarning({ instanceId: b.instanceId }));
    const log = await invoke<{ summary: Json; events: Json[]; nextToken: string | null }>('admin', 'GET', '/api/admin/emergency-events', {
      token: TEST_ADMIN_TOKEN,
      query: { client_id: a.clientId, since },
    });
    expect(log.status).toBe(200);
    expect(log.json.summary).toMatchObject({ total: 1, by_signal: { termination: 1 }, by_outcome: { promoted: 1 } });
    expect(typeof log.json.summary.avg_failover_ms).toBe('number');
    expect(log.json.events).toEqual([
      expect.objectContaining({ agent_id: a.agentId, instance_id: a.instanceId, signal_type: 'termination', outcome: 'promoted', sources: ['eventbridge'] }),
    ]);
    const failed = await invoke<{ summary: Json; events: Json[] }>('admin', 'GET', '/api/admin/emergency-events', {
      token: TEST_ADMIN_TOKEN,
      query: { client_id: b.clientId, outcome: 'no_replica' },
    });
    expect(failed.json.events.map((e) => e.agent_id)).toEqual([b.agentId]);
    const page = await invoke<{ events: Json[]; nextToken: string | null }>('admin', 'GET', '/api/admin/emergency-events', {
      token: TEST_ADMIN_TOKEN,
      query: { since, limit: 1 },
    });
    expect(page.json.events).toHaveLength(1);
    const client = await invoke('admin', 'GET', '/api/admin/emergency-events', { token: a.token });
    expect(client.status).toBe(403);
  });
});

describe('mode switching cleans up the other mode (API.md §4.4)', () => {
  it('enabling manual mode terminates automatic replicas; enabling auto-switch terminates the manual ones', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.1);
    const auto = await launchedReplica(agent, 'ready', { type: 'automatic-rebalance' });
    await configure(agent.token, agent.agentId, { manual_replica_enabled: true });
    let replicas = await replicasOf(agent.agentId);
    expect(replicas.find((r) => r.id === auto.replicaId)).toMatchObject({ status: 'terminated', termination_confirmed: false });
    const manual = replicas.filter((r) => r.type === 'manual' && r.status === 'launching');
    expect(manual).toHaveLength(1);
    await configure(agent.token, agent.agentId, { auto_switch_enabled: true });
    replicas = await replicasOf(agent.agentId);
    expect(replicas.find((r) => r.id === manual[0]?.id)?.status).toBe('terminated');
    // The terminated automatic replica's instance is handed to the agent through replicas?status=terminated.
    const terminated = await invoke<{ replicas: Json[] }>('replicas', 'GET', `/api/agents/${agent.agentId}/replicas`, {
      token: agent.token,
      query: { status: 'terminated' },
    });
    expect(terminated.json.replicas.map((r) => r.instance_id)).toContain(auto.instanceId);
  });
});
