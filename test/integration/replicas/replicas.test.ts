import { describe, expect, it } from 'vitest';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { replicasRepo } from '../../../functions/shared/db/replicas-repo.js';
import { randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { configure, launchedReplica, replicasOf, seedPool, setupAgent, type TestAgent } from '../../support/interruption.js';

type Json = Record<string, unknown>;
const base = (a: TestAgent) => `/api/agents/${a.agentId}/replicas`;

/** The Replica resource keys (API.md §3.0) — the agent reads id, pool_id+az / pool.id+pool.az, instance_id, is_active, status, type. */
const REPLICA_KEYS = [
  'id', 'agent_id', 'instance_id', 'type', 'replica_type', 'status', 'is_active', 'sync_status', 'sync_latency_ms',
  'state_transfer_progress', 'pool_id', 'az', 'instance_type', 'pool', 'cost', 'parent_instance_id', 'error_message',
  'created_at', 'terminated_at', 'termination_confirmed', 'version',
];

/** Test-only: fails every active replica straight in the table (no replacement), so manual mode has none. */
async function clearReplicas(agent: TestAgent): Promise<void> {
  for (const r of await replicasOf(agent.agentId)) {
    if (['launching', 'syncing', 'ready'].includes(r.status)) await replicasRepo.save({ ...r, status: 'failed', is_active: false }, r.version);
  }
}

async function manualAgent(): Promise<TestAgent & { placeholderId: string }> {
  const agent = await setupAgent();
  await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.1);
  await configure(agent.token, agent.agentId, { manual_replica_enabled: true });
  const [placeholder] = await replicasOf(agent.agentId);
  if (!placeholder) throw new Error('manual mode requested no replica');
  return { ...agent, placeholderId: placeholder.id };
}

describe('replica routes: wire contract', () => {
  it('GET replicas: active by default, ?status=launching = placeholders, ?status=terminated = unconfirmed', async () => {
    const agent = await manualAgent();
    const all = await invoke<{ replicas: Json[]; total: number }>('replicas', 'GET', base(agent), { token: agent.token });
    expect(all.status).toBe(200);
    expect(all.json.total).toBe(1);
    expect(Object.keys(all.json.replicas[0] ?? {})).toEqual(expect.arrayContaining(REPLICA_KEYS));
    expect(all.json.replicas[0]).toMatchObject({
      id: agent.placeholderId,
      type: 'manual',
      replica_type: 'manual',
      status: 'launching',
      is_active: true,
      pool_id: `${agent.instanceType}.us-east-1c`,
      az: 'us-east-1c',
      pool: { id: `${agent.instanceType}.us-east-1c`, az: 'us-east-1c', instance_type: agent.instanceType, region: 'us-east-1' },
    });
    expect(String(all.json.replicas[0]?.instance_id)).toMatch(/^replica-[0-9a-f]{8}$/);

    const launching = await invoke<{ replicas: Json[] }>('replicas', 'GET', base(agent), { token: agent.token, query: { status: 'launching' } });
    expect(launching.json.replicas.map((r) => r.id)).toEqual([agent.placeholderId]);

    // Launched: no longer in ?status=launching.
    await invoke('replicas', 'PUT', `${base(agent)}/${agent.placeholderId}`, { token: agent.token, body: { instance_id: randomInstanceId() } });
    const afterLaunch = await invoke<{ replicas: Json[] }>('replicas', 'GET', base(agent), { token: agent.token, query: { status: 'launching' } });
    expect(afterLaunch.json.replicas).toEqual([]);

    const del = await invoke<Json>('replicas', 'DELETE', `${base(agent)}/${agent.placeholderId}`, { token: agent.token });
    expect(del.status).toBe(200);
    const terminated = await invoke<{ replicas: Json[] }>('replicas', 'GET', base(agent), { token: agent.token, query: { status: 'terminated' } });
    expect(terminated.json.replicas).toEqual([expect.objectContaining({ id: agent.placeholderId, status: 'terminated', termination_confirmed: false, is_active: false })]);
    // The agent confirms it: out of the list.
    const confirm = await invoke('replicas', 'POST', `${base(agent)}/${agent.placeholderId}/status`, {
      token: agent.token,
      body: { status: 'terminated', is_active: false, terminated_at: new Date().toISOString() },
    });
    expect(confirm.status).toBe(200);
    const after = await invoke<{ replicas: Json[] }>('replicas', 'GET', base(agent), { token: agent.token, query: { status: 'terminated' } });
    expect(after.json.replicas).toEqual([]);
  });

  it('POST replicas: 201 with the wire fields; manual mode keeps exactly one (REPLICA_EXISTS); off → MANUAL_REPLICA_DISABLED', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1b', 0.025, 0.1);
    const off = await invoke<{ error: { code: string } }>('replicas', 'POST', base(agent), { token: agent.token, body: {} });
    expect(off.status).toBe(422);
    expect(off.json.error.code).toBe('MANUAL_REPLICA_DISABLED');

    await configure(agent.token, agent.agentId, { manual_replica_enabled: true });
    // Enabling manual mode requested the one replica already.
    const second = await invoke<{ error: { code: string } }>('replicas', 'POST', base(agent), { token: agent.token, body: {} });
    expect(second.status).toBe(422);
    expect(second.json.error.code).toBe('REPLICA_EXISTS');

    const [requested] = await replicasOf(agent.agentId);
    await invoke('replicas', 'DELETE', `${base(agent)}/${requested?.id}`, { token: agent.token });
    // Delete in manual mode created a replacement: still exactly one active.
    const active = (await replicasOf(agent.agentId)).filter((r) => ['launching', 'syncing', 'ready'].includes(r.status));
    expect(active).toHaveLength(1);
    expect(active[0]?.id).not.toBe(requested?.id);
  });

  it('POST replicas concurrently in manual mode: exactly one is created', async () => {
    const agent = await manualAgent();
    await clearReplicas(agent);
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => invoke<Json>('replicas', 'POST', base(agent), { token: agent.token, body: {} })),
    );
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of replies.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(422);
      expect((r.json as { error: { code: string } }).error.code).toBe('REPLICA_EXISTS');
    }
    const active = (await replicasOf(agent.agentId)).filter((r) => ['launching', 'syncing', 'ready'].includes(r.status));
    expect(active).toHaveLength(1);
  });

  it('POST replicas with an instance_id registers a launched replica (syncing) and its REPLICA instance', async () => {
    const agent = await manualAgent();
    await clearReplicas(agent);
    const pool = await seedPool(agent.instanceType, 'us-east-1d', 0.02, 0.1);
    const instanceId = randomInstanceId();
    const created = await invoke<Json>('replicas', 'POST', base(agent), {
      token: agent.token,
      body: { instance_id: instanceId, pool_id: pool },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      success: true,
      instance_id: instanceId,
      status: 'syncing',
      hourly_cost: null,
      pool: { id: pool, name: pool, instance_type: agent.instanceType, region: 'us-east-1', az: 'us-east-1d' },
    });
    expect(Object.keys(created.json).sort()).toEqual(['hourly_cost', 'instance_id', 'message', 'pool', 'replica_id', 'status', 'success'].sort());
    expect(await instancesRepo.get(instanceId)).toMatchObject({ role: 'REPLICA', agent_id: agent.agentId });

    const mismatch = await invoke<{ error: { code: string } }>('replicas', 'POST', base(agent), {
      token: agent.token,
      body: { pool_id: 'm5.large.us-east-1b', replica_type: 'automatic-termination' },
    });
    expect(mismatch.status).toBe(422);
    expect(mismatch.json.error.code).toBe('POOL_MISMATCH');
  });

  it('PUT replica: attaches the instance (version, 200 on repeat, 409 on a stale version)', async () => {
    const agent = await manualAgent();
    const before = (await replicasOf(agent.agentId))[0];
    const stale = await invoke<{ error: { code: string } }>('replicas', 'PUT', `${base(agent)}/${agent.placeholderId}`, {
      token: agent.token,
      body: { instance_id: randomInstanceId(), version: (before?.version ?? 1) + 5 },
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('VERSION_CONFLICT');
    const instanceId = randomInstanceId();
    const put = await invoke<Json>('replicas', 'PUT', `${base(agent)}/${agent.placeholderId}`, {
      token: agent.token,
      body: { instance_id: instanceId, status: 'syncing' },
    });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ success: true, replica_id: agent.placeholderId, instance_id: instanceId, status: 'syncing', version: (before?.version ?? 1) + 1 });
    expect(put.headers.etag).toBe(`"${(before?.version ?? 1) + 1}"`);
    const repeat = await invoke<Json>('replicas', 'PUT', `${base(agent)}/${agent.placeholderId}`, { token: agent.token, body: { instance_id: instanceId } });
    expect(repeat.status).toBe(200);
    const other = await invoke<{ error: { code: string } }>('replicas', 'PUT', `${base(agent)}/${agent.placeholderId}`, {
      token: agent.token,
      body: { instance_id: randomInstanceId() },
    });
    expect(other.status).toBe(409);
    expect(await instancesRepo.get(instanceId)).toMatchObject({ role: 'REPLICA', agent_id: agent.agentId });
  });

  it('status transitions follow §4.2: repeating is 200, illegal is 409 INVALID_TRANSITION', async () => {
    const agent = await manualAgent();
    const status = (s: string) =>
      invoke<Json & { error?: { code: string } }>('replicas', 'POST', `${base(agent)}/${agent.placeholderId}/status`, {
        token: agent.token,
        body: { status: s },
      });
    expect((await status('launching')).status).toBe(200); // repeating the current status
    const syncing = await status('syncing');
    expect(syncing.json).toEqual({ success: true, replica_id: agent.placeholderId, status: 'syncing' });
    expect((await status('syncing')).status).toBe(200);
    const back = await status('launching');
    expect(back.status).toBe(409);
    expect(back.json.error?.code).toBe('INVALID_TRANSITION');
    expect((await status('ready')).status).toBe(200);
    expect((await status('failed')).status).toBe(200);
    expect((await status('failed')).status).toBe(200); // repeat of a final status
    const revive = await status('ready');
    expect(revive.status).toBe(409);
    expect(revive.json.error?.code).toBe('INVALID_TRANSITION');
    expect((await status('terminated')).status).toBe(409); // failed is final
  });

  it('sync-status: progress 100 ⇒ ready; the other fields are stored', async () => {
    const agent = await manualAgent();
    await invoke('replicas', 'PUT', `${base(agent)}/${agent.placeholderId}`, { token: agent.token, body: { instance_id: randomInstanceId() } });
    const partial = await invoke<Json>('replicas', 'POST', `${base(agent)}/${agent.placeholderId}/sync-status`, {
      token: agent.token,
      body: { sync_status: 'syncing', sync_latency_ms: 40, state_transfer_progress: 55 },
    });
    expect(partial.json).toEqual({ success: true, replica_id: agent.placeholderId, status: 'syncing', sync_status: 'syncing' });
    const done = await invoke<Json>('replicas', 'POST', `${base(agent)}/${agent.placeholderId}/sync-status`, {
      token: agent.token,
      body: { sync_status: 'synced', sync_latency_ms: 12, state_transfer_progress: 100 },
    });
    expect(done.json).toEqual({ success: true, replica_id: agent.placeholderId, status: 'ready', sync_status: 'synced' });
    const [stored] = (await replicasOf(agent.agentId)).filter((r) => r.id === agent.placeholderId);
    expect(stored).toMatchObject({ status: 'ready', sync_status: 'synced', sync_latency_ms: 12, state_transfer_progress: 100 });
  });

  it('promote: wait_for_sync requires ready (422 REPLICA_NOT_READY); a syncing replica with wait_for_sync false; demote keeps a REPLICA', async () => {
    const agent = await setupAgent();
    const syncing = await launchedReplica(agent, 'syncing');
    const notReady = await invoke<{ error: { code: string } }>('replicas', 'POST', `${base(agent)}/${syncing.replicaId}/promote`, {
      token: agent.token,
      body: {},
    });
    expect(notReady.status).toBe(422);
    expect(notReady.json.error.code).toBe('REPLICA_NOT_READY');

    const promoted = await invoke<Json>('replicas', 'POST', `${base(agent)}/${syncing.replicaId}/promote`, {
      token: agent.token,
      body: { wait_for_sync: false, demote_old_primary: true },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.json).toEqual({
      success: true,
      replica_id: syncing.replicaId,
      new_instance_id: syncing.instanceId,
      old_instance_id: agent.instanceId,
      demoted: true,
      switch_id: null,
    });
    expect((await agentsRepo.get(agent.agentId))?.primary_instance_id).toBe(syncing.instanceId);
    expect((await instancesRepo.get(agent.instanceId))?.role).toBe('REPLICA');
    // The demoted PRIMARY has its replica record.
    const demoted = (await replicasOf(agent.agentId)).find((r) => r.instance_id === agent.instanceId);
    expect(demoted).toMatchObject({ status: 'ready', is_active: true });

    const again = await invoke<{ error: { code: string } }>('replicas', 'POST', `${base(agent)}/${syncing.replicaId}/promote`, {
      token: agent.token,
      body: {},
    });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('INVALID_TRANSITION');
  });

  it('replica-config and the client view', async () => {
    const agent = await manualAgent();
    const config = await invoke<Json>('replicas', 'GET', `/api/agents/${agent.agentId}/replica-config`, { token: agent.token });
    expect(config.json).toEqual({ enabled: true, count: 1 });
    const client = await invoke<{ replicas: { agent_id: string; primary: Json; replica: Json }[] }>('replicas', 'GET', `/api/client/${agent.clientId}/replicas`, {
      token: agent.token,
      query: { agent_id: agent.agentId },
    });
    expect(client.status).toBe(200);
    expect(client.json.replicas).toEqual([
      {
        agent_id: agent.agentId,
        primary: { instance_id: agent.instanceId, az: 'us-east-1a', mode: 'spot' },
        replica: expect.objectContaining({ id: agent.placeholderId, status: 'launching' }),
      },
    ]);
  });

  it('another client cannot see or touch the replicas (404)', async () => {
    const agent = await manualAgent();
    const stranger = await setupAgent();
    for (const [group, method, path] of [
      ['replicas', 'GET', base(agent)],
      ['replicas', 'DELETE', `${base(agent)}/${agent.placeholderId}`],
      ['replicas', 'POST', `${base(agent)}/${agent.placeholderId}/promote`],
      ['emergency', 'GET', `/api/agents/${agent.agentId}/emergency-status`],
    ] as const) {
      const res = await invoke(group, method, path, { token: stranger.token, ...(method === 'POST' ? { body: {} } : {}) });
      expect(res.status).toBe(404);
    }
  });
});

describe('instances-to-terminate', () => {
  it('lists ZOMBIEs past terminate_wait_seconds and unconfirmed TERMINATED instances, not replicas; not again within 5 min', async () => {
    const agent = await setupAgent({ config: { terminate_wait_seconds: 1 } });
    const r1 = await launchedReplica(agent, 'ready');
    // A manual promotion leaves the old PRIMARY as a ZOMBIE.
    await invoke('replicas', 'POST', `${base(agent)}/${r1.replicaId}/promote`, { token: agent.token, body: {} });
    expect((await instancesRepo.get(agent.instanceId))?.role).toBe('ZOMBIE');
    // A replica marked terminated: it goes through replicas?status=terminated, not here.
    const r2 = await launchedReplica(agent, 'ready');
    await invoke('replicas', 'DELETE', `${base(agent)}/${r2.replicaId}`, { token: agent.token });

    await new Promise((r) => setTimeout(r, 1100));
    const path = `/api/agents/${agent.agentId}/instances-to-terminate`;
    const first = await invoke<{ instances: Json[]; auto_terminate_enabled: boolean; terminate_wait_seconds: number }>('emergency', 'GET', path, {
      token: agent.token,
    });
    expect(first.status).toBe(200);
    expect(first.json.auto_terminate_enabled).toBe(true);
    expect(first.json.terminate_wait_seconds).toBe(1);
    expect(first.json.instances).toEqual([
      { instance_id: agent.instanceId, instance_type: agent.instanceType, az: 'us-east-1a', reason: 'zombie_timeout', seconds_waiting: expect.any(Number) },
    ]);
    const second = await invoke<{ instances: Json[] }>('emergency', 'GET', path, { token: agent.token });
    expect(second.json.instances).toEqual([]);
    const terminatedReplicas = await invoke<{ replicas: Json[] }>('replicas', 'GET', base(agent), { token: agent.token, query: { status: 'terminated' } });
    expect(terminatedReplicas.json.replicas.map((r) => r.instance_id)).toEqual([r2.instanceId]);

    await configure(agent.token, agent.agentId, { auto_terminate_enabled: false });
    const off = await invoke<{ instances: Json[]; auto_terminate_enabled: boolean; terminate_wait_seconds: number }>('emergency', 'GET', path, {
      token: agent.token,
    });
    expect(off.json).toEqual({ instances: [], auto_terminate_enabled: false, terminate_wait_seconds: 0 });
  });
});
