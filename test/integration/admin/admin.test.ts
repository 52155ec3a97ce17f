import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { recordEc2EventReceived } from '../../../functions/shared/db/admin-repo.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import { getItem } from '../../../functions/shared/db/conditions.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { putSearchEntries } from '../../../functions/shared/db/search-repo.js';
import { publishEvent } from '../../../functions/shared/feed.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { createClientInProcess, randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { registerAgent, seedNotification, tenant } from '../../support/seed.js';

type Json = Record<string, unknown>;
const admin = <T = Json>(path: string, query?: Record<string, string | number>) =>
  invoke<T>('admin', 'GET', path, { token: TEST_ADMIN_TOKEN, ...(query ? { query } : {}) });

describe('admin dashboards', () => {
  it('stats count a new client, its agents and their PRIMARY instances', async () => {
    const before = await admin<Json>('/api/admin/stats');
    expect(before.status).toBe(200);
    const t = await tenant();
    await registerAgent(t.token);
    const after = await admin<Json>('/api/admin/stats');
    expect(after.status).toBe(200);
    expect(after.json).toMatchObject({
      switches: expect.objectContaining({ total: expect.any(Number) }),
      decision_engine: expect.objectContaining({ loaded: true }),
    });
    // Other test files write to the same table concurrently: only my additions are certain.
    expect(after.json.total_clients as number).toBeGreaterThanOrEqual(1);
    expect(after.json.agents_total as number).toBeGreaterThanOrEqual(2);
    expect(after.json.instances_active as number).toBeGreaterThanOrEqual(2);
  });

  it('lists clients with live counts, paginated, deleted ones only on request', async () => {
    const t = await tenant();
    await registerAgent(t.token);
    let token: string | undefined;
    let mine: Json | undefined;
    for (let i = 0; i < 100 && !mine; i++) {
      const page = await admin<{ clients: Json[]; nextToken: string | null }>('/api/admin/clients', {
        limit: 200,
        ...(token ? { nextToken: token } : {}),
      });
      expect(page.status).toBe(200);
      mine = page.json.clients.find((c) => c.id === t.client.id);
      if (!page.json.nextToken) break;
      token = page.json.nextToken;
    }
    expect(mine).toMatchObject({ name: t.client.name, agents_total: 2, agents_online: 2, instances_active: 2, total_savings: 0 });
    const bad = await admin<{ error: { code: string } }>('/api/admin/clients', { nextToken: 'not-a-token' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_NEXT_TOKEN');
  });

  it('lists agents and instances of one client with client_name and filters', async () => {
    const t = await tenant();
    const second = await registerAgent(t.token, { mode: 'ondemand' });
    const agents = await admin<{ agents: Json[] }>('/api/admin/agents', { client_id: t.client.id });
    expect(agents.status).toBe(200);
    expect(agents.json.agents.map((a) => a.id).sort()).toEqual([t.agent.agentId, second.agentId].sort());
    expect(agents.json.agents.every((a) => a.client_name === t.client.name)).toBe(true);

    const instances = await admin<{ instances: Json[] }>('/api/admin/instances', { client_id: t.client.id, status: 'active' });
    expect(instances.json.instances.map((i) => i.id).sort()).toEqual([t.agent.instanceId, second.instanceId].sort());
    const spot = await admin<{ instances: Json[] }>('/api/admin/instances', { client_id: t.client.id, mode: 'spot' });
    expect(spot.json.instances.map((i) => i.id)).toEqual([t.agent.instanceId]);
    const both = await admin<{ instances: Json[] }>('/api/admin/instances', { client_id: t.client.id, mode: 'spot', region: 'us-east-1' });
    expect(both.json.instances.map((i) => i.id)).toEqual([t.agent.instanceId]);
    const global = await admin<{ instances: Json[] }>('/api/admin/instances', { mode: 'ondemand', region: 'us-east-1', limit: 5 });
    expect(global.status).toBe(200);
    const zombies = await admin<{ instances: Json[] }>('/api/admin/instances', { client_id: t.client.id, status: 'zombie' });
    expect(zombies.json.instances).toEqual([]);
  });

  it('walks every role partition of the global instance list with an opaque token', async () => {
    const t = await tenant();
    const seen = new Set<string>();
    let token: string | undefined;
    for (let i = 0; i < 500; i++) {
      const page = await admin<{ instances: Json[]; nextToken: string | null }>('/api/admin/instances', {
        status: 'active',
        limit: 200,
        ...(token ? { nextToken: token } : {}),
      });
      expect(page.status).toBe(200);
      for (const inst of page.json.instances) {
        expect(['PRIMARY', 'REPLICA']).toContain(inst.role);
        seen.add(String(inst.id));
      }
      if (!page.json.nextToken) break;
      token = page.json.nextToken;
    }
    expect(seen.has(t.agent.instanceId)).toBe(true);
    const bad = await admin<{ error: { code: string } }>('/api/admin/instances', { nextToken: Buffer.from('{"r":9}').toString('base64url') });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_NEXT_TOKEN');
  });

  it('searches clients, agents and instances by exact id and case-insensitive prefix', async () => {
    const tag = randomUUID().slice(0, 8);
    const { client, token } = await createClientInProcess({ name: `Zeta-${tag} Corp` });
    const agent = await registerAgent(token, { hostname: `Web-${tag}.internal` });
    const search = (q: string, types?: string) =>
      admin<{ query: string; results: { clients: Json[]; agents: Json[]; instances: Json[] } }>('/api/admin/search', {
        q,
        ...(types ? { types } : {}),
      });

    const byName = await search(`zeta-${tag}`);
    expect(byName.status).toBe(200);
    expect(byName.json.results.clients.map((c) => c.id)).toEqual([client.id]);
    const byId = await search(client.id, 'clients');
    expect(byId.json.results.clients.map((c) => c.id)).toEqual([client.id]);
    expect(byId.json.results.agents).toEqual([]);

    const host = await search(`WEB-${tag.toUpperCase()}`, 'agents');
    expect(host.json.results.agents.map((a) => a.id)).toEqual([agent.agentId]);
    expect(host.json.results.agents[0]).toMatchObject({ client_name: client.name, hostname: `Web-${tag}.internal` });

    const inst = await search(`web-${tag}`, 'instances');
    expect(inst.json.results.instances.map((i) => i.id)).toEqual([agent.instanceId]);
    const exact = await search(agent.instanceId, 'instances');
    expect(exact.json.results.instances.map((i) => i.id)).toEqual([agent.instanceId]);

    // The agent moves to a new instance with a new hostname: the old name no longer finds it.
    const moved = await registerAgent(token, { logicalAgentId: agent.logicalAgentId, hostname: `api-${tag}` });
    expect(moved.agentId).toBe(agent.agentId);
    expect((await search(`web-${tag}`, 'agents')).json.results.agents).toEqual([]);
    expect((await search(`API-${tag}`, 'agents')).json.results.agents.map((a) => a.id)).toEqual([agent.agentId]);
    expect((await search(moved.instanceId, 'instances')).json.results.instances[0]).toMatchObject({ role: 'PRIMARY' });
    expect((await search(agent.instanceId, 'instances')).json.results.instances[0]).toMatchObject({ role: 'ZOMBIE' });

    const short = await invoke('admin', 'GET', '/api/admin/search', { token: TEST_ADMIN_TOKEN, query: { q: 'a' } });
    expect(short.status).toBe(400);
  });

  it('writes search entries in the create transactions (no Scan needed to find them)', async () => {
    const tag = randomUUID().slice(0, 8);
    const { client, token } = await createClientInProcess({ name: `Qx-${tag}` });
    const agent = await registerAgent(token, { hostname: `Node-${tag}` });
    expect(await getItem(keys.searchEntry('client', `qx-${tag}`, client.id))).toMatchObject({ ref_id: client.id });
    expect(await getItem(keys.searchEntry('agent', `node-${tag}`, agent.agentId))).toMatchObject({ ref_id: agent.agentId });
    expect(await getItem(keys.searchEntry('instance', `node-${tag}`, agent.instanceId))).toMatchObject({ kind: 'instance' });
  });

  it('drops entries whose entity is gone (expired by TTL) when a search meets them', async () => {
    const tag = randomUUID().slice(0, 8);
    const ghost = randomUUID();
    await putSearchEntries('client', [[`Ghost-${tag}`, ghost]]);
    expect(await getItem(keys.searchEntry('client', `ghost-${tag}`, ghost))).toBeDefined();
    const res = await admin<{ results: { clients: Json[] } }>('/api/admin/search', { q: `ghost-${tag}`, types: 'clients' });
    expect(res.json.results.clients).toEqual([]);
    expect(await getItem(keys.searchEntry('client', `ghost-${tag}`, ghost))).toBeUndefined();
  });

  it('activity lists notifications newest first, by client and by type', async () => {
    const t = await tenant();
    const type = `activity_${randomUUID().slice(0, 6)}`;
    const id = await seedNotification(t.client.id, { type, severity: 'warning' });
    const byClient = await admin<{ events: Json[] }>('/api/admin/activity', { client_id: t.client.id });
    expect(byClient.json.events.map((e) => e.id)).toContain(id);
    const byType = await admin<{ events: Json[] }>('/api/admin/activity', { type });
    expect(byType.json.events).toEqual([
      expect.objectContaining({ id, type, severity: 'warning', client_id: t.client.id, agent_id: null }),
    ]);
  });

  it('agents health-summary rolls up by client and heartbeat age', async () => {
    const t = await tenant();
    const res = await admin<{ by_client: Json[]; heartbeat_distribution: Json; online: number }>('/api/admin/agents/health-summary');
    expect(res.status).toBe(200);
    expect(res.json.by_client).toContainEqual({ client_id: t.client.id, online: 1, offline: 0 });
    expect(res.json.online).toBeGreaterThanOrEqual(1);
  });

  it('client growth has one point per day, today derived from the clients index', async () => {
    type Growth = { series: Array<{ date: string; total: number; new: number; active: number }> };
    const before = await admin<Growth>('/api/admin/clients/growth', { days: 7 });
    await tenant();
    const res = await admin<Growth>('/api/admin/clients/growth', { days: 7 });
    expect(res.status).toBe(200);
    expect(res.json.series).toHaveLength(7);
    const today = res.json.series.at(-1);
    expect(today?.date).toBe(new Date().toISOString().slice(0, 10));
    // Other test files create and delete clients concurrently: `new` only grows, so ours shows as +1
    // at least; `total` excludes clients deleted today, so it need not exceed `new`.
    expect(today?.new ?? 0).toBeGreaterThanOrEqual((before.json.series.at(-1)?.new ?? 0) + 1);
    expect(today?.total).toBeGreaterThanOrEqual(1);
    expect((await admin('/api/admin/clients/growth', { days: 366 })).status).toBe(400);
  });

  it('operational metrics count switches, downtime and failed switch commands from the feed', async () => {
    const t = await tenant();
    const now = new Date();
    const before = await admin<{ switches: { total: number; failed: number } }>('/api/admin/metrics/operational', { window: '1h' });
    for (const downtime of [3, 8]) {
      await publishEvent({
        clientId: t.client.id,
        type: 'switch_completed',
        data: {
          switch_id: randomUUID(),
          agent_id: t.agent.agentId,
          old_instance_id: 'i-0000000000000000a',
          new_instance_id: 'i-0000000000000000b',
          trigger_type: 'manual',
          savings_impact: null,
          downtime_seconds: downtime,
        },
        now,
      });
    }
    await publishEvent({
      clientId: t.client.id,
      type: 'command_status_changed',
      data: { agent_id: t.agent.agentId, command_id: randomUUID(), command_type: 'switch', status: 'failed' },
      now,
    });
    const after = await admin<{ switches: { total: number; failed: number }; switch_downtime_seconds: { avg: number; p95: number } }>(
      '/api/admin/metrics/operational',
      { window: '1h' },
    );
    expect(after.status).toBe(200);
    expect(after.json.switches.total - before.json.switches.total).toBeGreaterThanOrEqual(2);
    expect(after.json.switches.failed - before.json.switches.failed).toBeGreaterThanOrEqual(1);
    expect(after.json.switch_downtime_seconds.avg).toBeGreaterThan(0);
    expect(after.json.switch_downtime_seconds.p95).toBeGreaterThanOrEqual(after.json.switch_downtime_seconds.avg);
    expect((await admin('/api/admin/metrics/operational', { window: '2h' })).status).toBe(400);
  });
});

describe('system-health', () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => {
    sqs.reset();
    delete process.env.EVENTS_DLQ_URL;
  });

  it('reports the table, every scheduled job, the EC2 event feed and the DLQ depth', async () => {
    const url = 'https://sqs.us-east-1.amazonaws.com/123456789012/ec2-events-dlq';
    process.env.EVENTS_DLQ_URL = url;
    sqs
      .on(GetQueueAttributesCommand, {
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      })
      .resolves({ Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1' } });
    const received = new Date(Date.now() + 60_000); // later than anything another test recorded
    await recordEc2EventReceived(received);
    await recordEc2EventReceived(new Date(received.getTime() - 3_600_000)); // an older time never wins

    const res = await admin<Json & { jobs: Json[]; dlq: Json }>('/api/admin/system-health');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ database: 'healthy', ec2_events_last_received_at: received.toISOString() });
    expect(res.json.dlq).toEqual({ configured: true, depth: 4 });
    expect(sqs.commandCalls(GetQueueAttributesCommand)).toHaveLength(1);
    const names = res.json.jobs.map((j) => j.name);
    expect(names).toEqual(expect.arrayContaining(['zombie-cleanup', 'agent-heartbeat-timeout', 'command-expiry']));
    expect(res.json.api_status).toBe('degraded'); // the DLQ holds events
  });

  it('reports a null depth when the DLQ cannot be read or is not configured', async () => {
    const none = await admin<{ dlq: Json }>('/api/admin/system-health');
    expect(none.json.dlq).toEqual({ configured: false, depth: null });
    process.env.EVENTS_DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/x';
    sqs.on(GetQueueAttributesCommand).rejects(new Error('AccessDenied'));
    const failing = await admin<{ dlq: Json }>('/api/admin/system-health');
    expect(failing.status).toBe(200);
    expect(failing.json.dlq).toEqual({ configured: true, depth: null });
  });
});

describe('bulk execute', () => {
  const bulk = (body: unknown, headers: Record<string, string> = {}) =>
    invoke<{ operation: string; succeeded: number; failed: number; results: Json[] }>('admin', 'POST', '/api/admin/bulk/execute', {
      token: TEST_ADMIN_TOKEN,
      body,
      headers,
    });

  it('disables, enables and deletes agents with per-item results; repeating changes nothing', async () => {
    const t = await tenant();
    const second = await registerAgent(t.token);
    const unknown = randomUUID();
    const ids = [t.agent.agentId, second.agentId, unknown];

    const disabled = await bulk({ operation: 'disable_agents', agent_ids: ids, confirm: true });
    expect(disabled.status).toBe(200);
    expect(disabled.json).toMatchObject({ operation: 'disable_agents', succeeded: 2, failed: 1 });
    expect(disabled.json.results).toEqual([
      { agent_id: t.agent.agentId, status: 'disabled' },
      { agent_id: second.agentId, status: 'disabled' },
      { agent_id: unknown, status: 'failed', error: 'NOT_FOUND' },
    ]);
    const config = await invoke<{ enabled: boolean }>('agents', 'GET', `/api/agents/${t.agent.agentId}/config`, { token: t.token });
    expect(config.json.enabled).toBe(false);
    const again = await bulk({ operation: 'disable_agents', agent_ids: ids.slice(0, 2), confirm: true });
    expect(again.json.results.map((r) => r.status)).toEqual(['unchanged', 'unchanged']);

    const enabled = await bulk({ operation: 'enable_agents', agent_ids: ids.slice(0, 2), confirm: true });
    expect(enabled.json.results.map((r) => r.status)).toEqual(['enabled', 'enabled']);

    const deleted = await bulk({ operation: 'delete_agents', agent_ids: [t.agent.agentId], confirm: true });
    expect(deleted.json.results).toEqual([{ agent_id: t.agent.agentId, status: 'deleted' }]);
    const gone = await invoke('agents', 'GET', `/api/agents/${t.agent.agentId}`, { token: t.token });
    expect(gone.status).toBe(404);
    expect((await bulk({ operation: 'delete_agents', agent_ids: [t.agent.agentId], confirm: true })).json.results).toEqual([
      { agent_id: t.agent.agentId, status: 'unchanged' },
    ]);
    const enableDeleted = await bulk({ operation: 'enable_agents', agent_ids: [t.agent.agentId], confirm: true });
    expect(enableDeleted.json.results).toEqual([{ agent_id: t.agent.agentId, status: 'failed', error: 'AGENT_DELETED' }]);
  });

  it('replays the stored answer for a repeated Idempotency-Key', async () => {
    const t = await tenant();
    const key = randomUUID();
    const body = { operation: 'disable_agents', agent_ids: [t.agent.agentId], confirm: true };
    const first = await bulk(body, { 'idempotency-key': key });
    const second = await bulk(body, { 'idempotency-key': key });
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json).toEqual(first.json);
    expect(first.json.results[0]?.status).toBe('disabled');
  });

  it('terminate_zombies retires ZOMBIEs; a v5 agent also gets a terminate_instance command', async () => {
    const { token } = await createClientInProcess();
    const v4 = await registerAgent(token, { agentVersion: '4.0.0' });
    const v4Next = await registerAgent(token, { logicalAgentId: v4.logicalAgentId, instanceId: randomInstanceId() });
    const v5 = await registerAgent(token, { agentVersion: '5.1.0' });
    await registerAgent(token, { logicalAgentId: v5.logicalAgentId, agentVersion: '5.1.0' });
    expect((await instancesRepo.get(v4.instanceId))?.role).toBe('ZOMBIE');
    // The role-partitioned index follows every role change (keys.allInstancesIndex).
    expect((await getItem(keys.instance(v4.instanceId)))?.GSI3PK).toBe('INSTANCES#ZOMBIE');
    expect((await getItem(keys.instance(v4Next.instanceId)))?.GSI3PK).toBe('INSTANCES#PRIMARY');

    const res = await bulk({ operation: 'terminate_zombies', agent_ids: [v4.agentId, v5.agentId], confirm: true });
    expect(res.status).toBe(200);
    expect(res.json.results).toEqual([
      { agent_id: v4.agentId, status: 'zombies_terminated', zombies_terminated: 1, commands_queued: 0 },
      { agent_id: v5.agentId, status: 'zombies_terminated', zombies_terminated: 1, commands_queued: 1 },
    ]);
    expect(await instancesRepo.get(v4.instanceId)).toMatchObject({ role: 'TERMINATED', termination_confirmed: false });
    expect((await getItem(keys.instance(v4.instanceId)))?.GSI3PK).toBe('INSTANCES#TERMINATED');
    expect((await instancesRepo.get(v4Next.instanceId))?.role).toBe('PRIMARY');
    const pending = await commandsRepo.listPending(v5.agentId);
    expect(pending).toEqual([expect.objectContaining({ command_type: 'terminate_instance', instance_id: v5.instanceId })]);
    expect(await commandsRepo.listPending(v4.agentId)).toEqual([]);

    const again = await bulk({ operation: 'terminate_zombies', agent_ids: [v4.agentId, v5.agentId], confirm: true });
    expect(again.json.results.map((r) => r.status)).toEqual(['unchanged', 'unchanged']);
    expect(await commandsRepo.listPending(v5.agentId)).toHaveLength(1);
  });

  it('refuses more than 100 ids, a missing confirm and bad ids with 400, writing nothing', async () => {
    const t = await tenant();
    const many = Array.from({ length: 101 }, () => randomUUID());
    expect((await bulk({ operation: 'disable_agents', agent_ids: many, confirm: true })).status).toBe(400);
    expect((await bulk({ operation: 'disable_agents', agent_ids: [t.agent.agentId] })).status).toBe(400);
    expect((await bulk({ operation: 'disable_agents', agent_ids: [t.agent.agentId], confirm: false })).status).toBe(400);
    expect((await bulk({ operation: 'disable_agents', agent_ids: [], confirm: true })).status).toBe(400);
    expect((await bulk({ operation: 'explode', agent_ids: [t.agent.agentId], confirm: true })).status).toBe(400);
    const config = await invoke<{ enabled: boolean }>('agents', 'GET', `/api/agents/${t.agent.agentId}/config`, { token: t.token });
    expect(config.json.enabled).toBe(true);
  });
});
