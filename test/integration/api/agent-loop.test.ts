import { pendingCommand } from '../../support/commands.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { createClientViaApi, randomInstanceId } from '../../support/factories.js';
import { type Api, api, startLocalApi } from '../../support/http.js';

const queuedCommand = (agentId: string, clientId: string, instanceId: string, priority: number, createdAt: Date) =>
  pendingCommand({ agentId, clientId, instanceId }, { priority, createdAt });

describe('the agent wire loop over real HTTP', () => {
  let close: () => Promise<void>;
  let http: Api;
  let token: string;
  let clientId: string;

  beforeAll(async () => {
    const local = await startLocalApi();
    close = local.close;
    http = api(local.baseUrl);
    const created = await createClientViaApi(http);
    token = created.token;
    clientId = created.client.id;
  });
  afterAll(async () => close?.());

  it('register → heartbeat → command queued → pending-commands → executed', async () => {
    const instanceId = randomInstanceId();
    const logical = `logical-${randomUUID()}`;
    const registration = {
      logical_agent_id: logical,
      instance_id: instanceId,
      instance_type: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1a',
      hostname: 'web-1',
      agent_version: '4.0.0',
      mode: 'spot',
      private_ip: '10.0.0.5',
      public_ip: null,
    };
    // The v4 agent may send its token in the body instead of the header.
    const reg = await http.post<Record<string, unknown>>('/api/agents/register', {
      body: { ...registration, client_token: token },
    });
    expect(reg.status).toBe(201);
    expect(reg.json).toMatchObject({ client_id: clientId, logical_agent_id: logical, created: true, instance_role: 'PRIMARY' });
    expect((reg.json.config as { enabled: boolean }).enabled).toBe(true);
    const agentId = reg.json.agent_id as string;

    // Same installation re-registers → same agent; a new installation → a new id.
    const again = await http.post<Record<string, unknown>>('/api/agents/register', { token, body: registration });
    expect(again.status).toBe(200);
    expect(again.json.agent_id).toBe(agentId);
    const other = await http.post<Record<string, unknown>>('/api/agents/register', {
      token,
      body: { ...registration, logical_agent_id: `logical-${randomUUID()}`, instance_id: randomInstanceId() },
    });
    expect(other.status).toBe(201);
    expect(other.json.agent_id).not.toBe(agentId);

    const hb = await http.post<Record<string, unknown>>(`/api/agents/${agentId}/heartbeat`, {
      token,
      body: { status: 'online', instance_id: instanceId, instance_type: 't3.medium', mode: 'spot', az: 'us-east-1a' },
    });
    expect(hb.status).toBe(200);
    expect(hb.json).toMatchObject({ success: true, agent_id: agentId, status: 'online', config_version: 1 });

    const agent = await http.get<Record<string, unknown>>(`/api/agents/${agentId}`, { token });
    expect(agent.status).toBe(200);
    expect(agent.json).toMatchObject({ id: agentId, status: 'online', instance_id: instanceId, current_mode: 'spot' });
    expect(agent.headers.etag).toBe(`"${agent.json.version}"`);

    const config = await http.get<Record<string, unknown>>(`/api/agents/${agentId}/config`, { token });
    expect(config.json).toMatchObject({ enabled: true, auto_switch_enabled: true, terminate_wait_seconds: 300, replica_count: 0 });

    expect((await http.get(`/api/agents/${agentId}/pending-commands`, { token })).json).toEqual([]);

    const t0 = new Date(Date.now() - 60_000);
    const low = queuedCommand(agentId, clientId, instanceId, 25, t0);
    const highOld = queuedCommand(agentId, clientId, instanceId, 75, new Date(t0.getTime() + 1000));
    const highNew = queuedCommand(agentId, clientId, instanceId, 75, new Date(t0.getTime() + 2000));
    for (const c of [low, highNew, highOld]) await commandsRepo.create(c);

    const pending = await http.get<Record<string, unknown>[]>(`/api/agents/${agentId}/pending-commands`, { token });
    expect(pending.status).toBe(200);
    expect(Array.isArray(pending.json)).toBe(true);
    expect(pending.json.map((c) => c.id)).toEqual([highOld.id, highNew.id, low.id]);
    expect(Object.keys(pending.json[0] ?? {}).sort()).toEqual(
      ['command_type', 'created_at', 'expires_at', 'id', 'instance_id', 'priority', 'replica_id', 'target_mode', 'target_pool_id', 'terminate_wait_seconds', 'trigger_type'].sort(),
    );
    // A command is in flight: the next poll gets nothing until it reports.
    expect((await http.get(`/api/agents/${agentId}/pending-commands`, { token })).json).toEqual([]);
    expect((await http.get<Record<string, unknown>>(`/api/agents/${agentId}`, { token })).json.status).toBe('switching');
    // `switching` is kept while the command is in flight, whatever the heartbeat says.
    const during = await http.post<Record<string, unknown>>(`/api/agents/${agentId}/heartbeat`, { token, body: { status: 'online' } });
    expect(during.json.status).toBe('switching');

    const done = await http.post<Record<string, unknown>>(`/api/agents/${agentId}/commands/${highOld.id}/executed`, {
      token,
      body: { success: true, message: 'switched' },
    });
    expect(done.status).toBe(200);
    expect(done.json).toEqual({ success: true, command_id: highOld.id, status: 'completed' });
    // The same result again is fine; a different one is a 409.
    expect((await http.post(`/api/agents/${agentId}/commands/${highOld.id}/executed`, { token, body: { success: true } })).status).toBe(200);
    const flip = await http.post<{ error: { code: string } }>(`/api/agents/${agentId}/commands/${highOld.id}/executed`, {
      token,
      body: { success: false },
    });
    expect(flip.status).toBe(409);
    expect(flip.json.error.code).toBe('INVALID_TRANSITION');
    expect((await http.get<Record<string, unknown>>(`/api/agents/${agentId}`, { token })).json.status).toBe('online');

    const next = await http.get<Record<string, unknown>[]>(`/api/agents/${agentId}/pending-commands`, { token });
    expect(next.json.map((c) => c.id)).toEqual([highNew.id, low.id]);
  });

  it('serves the other agent wire routes', async () => {
    const instanceId = randomInstanceId();
    const reg = await http.post<{ agent_id: string }>('/api/agents/register', {
      token,
      body: { logical_agent_id: `l-${randomUUID()}`, instance_id: instanceId, instance_type: 'm5.large', region: 'us-east-1', az: 'us-east-1b', mode: 'spot' },
    });
    const agentId = reg.json.agent_id;
    const collectedAt = new Date().toISOString();
    const pricing = {
      instance: { instance_id: instanceId, instance_type: 'm5.large', region: 'us-east-1', az: 'us-east-1b', mode: 'spot', pool_id: 'm5.large.us-east-1b' },
      pricing: {
        on_demand_price: 0.096,
        current_spot_price: 0.035,
        cheapest_pool: { pool_id: 'm5.large.us-east-1c', price: 0.031 },
        spot_pools: [
          { pool_id: 'm5.large.us-east-1b', instance_type: 'm5.large', az: 'us-east-1b', price: 0.035 },
          { pool_id: 'm5.large.us-east-1c', instance_type: 'm5.large', az: 'us-east-1c', price: 0.031 },
        ],
        collected_at: collectedAt,
      },
    };
    const report = await http.post<Record<string, unknown>>(`/api/agents/${agentId}/pricing-report`, { token, body: pricing });
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({ success: true, pools_recorded: 2 });
    // The same report again (natural key agent + collected_at) is recognised, not staged twice.
    const repeat = await http.post<Record<string, unknown>>(`/api/agents/${agentId}/pricing-report`, { token, body: pricing });
    expect(repeat.json.report_id).toBe(report.json.report_id);

    const cleanup = await http.post<Record<string, unknown>>(`/api/agents/${agentId}/cleanup-report`, {
      token,
      body: {
        timestamp: collectedAt,
        snapshots: { type: 'snapshots', deleted: ['snap-1', 'snap-2', 'snap-3'], failed: [{ id: 'snap-4', error: 'in use' }], cutoff_date: collectedAt },
        amis: { type: 'amis', deleted_amis: ['ami-1'], deleted_snapshots: ['snap-5', 'snap-6'], failed: [], cutoff_date: collectedAt },
      },
    });
    expect(cleanup.status).toBe(200);
    expect(cleanup.json).toMatchObject({ success: true, deleted_snapshots: 5, deleted_amis: 1, failed_count: 1 });

    const replicas = await http.get<Record<string, unknown>>(`/api/agents/${agentId}/replicas`, { token, query: { status: 'launching' } });
    expect(replicas.status).toBe(200);
    expect(replicas.json).toEqual({ replicas: [], total: 0 });

    const toTerminate = await http.get<Record<string, unknown>>(`/api/agents/${agentId}/instances-to-terminate`, { token });
    expect(toTerminate.json).toEqual({ instances: [], auto_terminate_enabled: true, terminate_wait_seconds: 300 });

    // A new installation of the same logical agent: the old PRIMARY becomes a ZOMBIE.
    const newInstance = randomInstanceId();
    const moved = await http.post<Record<string, unknown>>('/api/agents/register', {
      token,
      body: { logical_agent_id: (await http.get<{ logical_agent_id: string }>(`/api/agents/${agentId}`, { token })).json.logical_agent_id, instance_id: newInstance, instance_type: 'm5.large', region: 'us-east-1', az: 'us-east-1c', mode: 'spot' },
    });
    expect(moved.json).toMatchObject({ agent_id: agentId, instance_role: 'PRIMARY' });
    // The zombie re-running the installer changes nothing and is told to stay disabled.
    const zombie = await http.post<Record<string, unknown>>('/api/agents/register', {
      token,
      body: { logical_agent_id: 'whatever', instance_id: instanceId, instance_type: 'm5.large', region: 'us-east-1', az: 'us-east-1b' },
    });
    expect(zombie.json).toMatchObject({ agent_id: agentId, instance_role: 'ZOMBIE' });
    expect((zombie.json.config as { enabled: boolean }).enabled).toBe(false);

    const term = await http.post<Record<string, unknown>>(`/api/agents/${agentId}/termination-report`, {
      token,
      body: { instance_id: instanceId, success: true },
    });
    expect(term.json).toMatchObject({ success: true, instance_id: instanceId, status: 'terminated' });
  });

  it('lists, disables and deletes agents; a deleted agent gets 404 on the wire routes', async () => {
    const reg = await http.post<{ agent_id: string }>('/api/agents/register', {
      token,
      body: { logical_agent_id: `l-${randomUUID()}`, instance_id: randomInstanceId(), instance_type: 'c5.large', region: 'us-east-1', az: 'us-east-1a' },
    });
    const agentId = reg.json.agent_id;
    const list = await http.get<{ agents: { id: string }[] }>(`/api/client/${clientId}/agents`, { token });
    expect(list.json.agents.map((a) => a.id)).toContain(agentId);

    const off = await http.post<Record<string, unknown>>(`/api/client/agents/${agentId}/toggle-enabled`, { token, body: { enabled: false } });
    expect(off.status).toBe(200);
    expect((off.json.config as { enabled: boolean }).enabled).toBe(false);
    expect((await http.get<{ enabled: boolean }>(`/api/agents/${agentId}/config`, { token })).json.enabled).toBe(false);

    const del = await http.delete<Record<string, unknown>>(`/api/client/agents/${agentId}`, { token });
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ agent_id: agentId, status: 'deleted' });
    for (const path of [`/api/agents/${agentId}`, `/api/agents/${agentId}/config`, `/api/agents/${agentId}/pending-commands`]) {
      const res = await http.get<{ error: { code: string } }>(path, { token });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe('AGENT_DELETED');
    }
    expect((await http.post(`/api/agents/${agentId}/heartbeat`, { token, body: { status: 'online' } })).status).toBe(404);
    const history = await http.get<{ agents: { id: string; status: string }[] }>(`/api/client/${clientId}/agents/history`, { token });
    expect(history.json.agents.find((a) => a.id === agentId)?.status).toBe('deleted');
    const live = await http.get<{ agents: { id: string }[] }>(`/api/client/${clientId}/agents`, { token });
    expect(live.json.agents.map((a) => a.id)).not.toContain(agentId);
  });

  it('enforces max_agents with 422 AGENT_LIMIT_REACHED', async () => {
    const small = await createClientViaApi(http, { max_agents: 1 });
    const body = () => ({ logical_agent_id: `l-${randomUUID()}`, instance_id: randomInstanceId(), instance_type: 't3.small', region: 'us-east-1', az: 'us-east-1a' });
    expect((await http.post('/api/agents/register', { token: small.token, body: body() })).status).toBe(201);
    const over = await http.post<{ error: { code: string } }>('/api/agents/register', { token: small.token, body: body() });
    expect(over.status).toBe(422);
    expect(over.json.error.code).toBe('AGENT_LIMIT_REACHED');
    expect((await http.get<{ agents: unknown[] }>(`/api/client/${small.client.id}/agents`, { token: TEST_ADMIN_TOKEN })).json.agents).toHaveLength(1);
  });
});
