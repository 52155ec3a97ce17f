import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { clientsRepo } from '../../../functions/shared/db/clients-repo.js';
import { getItem } from '../../../functions/shared/db/conditions.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { registerAgentInProcess } from '../../support/agents.js';
import { createClientInProcess, randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';

type ErrorBody = { error: { code: string; message: string; details: { field: string; issue: string }[] } };

describe('tenant isolation', () => {
  let a: { token: string; clientId: string };
  let b: { token: string; clientId: string; agentId: string; instanceId: string };

  beforeAll(async () => {
    const ca = await createClientInProcess();
    const cb = await createClientInProcess();
    a = { token: ca.token, clientId: ca.client.id };
    const agentB = await registerAgentInProcess(cb.token);
    b = { token: cb.token, clientId: cb.client.id, agentId: agentB.agentId, instanceId: agentB.instanceId };
  });

  it("client A's token on client B's agent → 404, and B's agent is untouched", async () => {
    const before = await agentsRepo.get(b.agentId);
    for (const [group, method, path, body] of [
      ['agents', 'GET', `/api/agents/${b.agentId}`, undefined],
      ['agents', 'GET', `/api/agents/${b.agentId}/config`, undefined],
      ['agents', 'POST', `/api/agents/${b.agentId}/heartbeat`, { status: 'offline' }],
      ['agents', 'POST', `/api/client/agents/${b.agentId}/config`, { auto_switch_enabled: false }],
      ['agents', 'POST', `/api/client/agents/${b.agentId}/toggle-enabled`, { enabled: false }],
      ['agents', 'DELETE', `/api/client/agents/${b.agentId}`, undefined],
      ['commands', 'GET', `/api/agents/${b.agentId}/pending-commands`, undefined],
      ['replicas', 'GET', `/api/agents/${b.agentId}/replicas`, undefined],
      ['emergency', 'GET', `/api/agents/${b.agentId}/instances-to-terminate`, undefined],
    ] as const) {
      const res = await invoke<ErrorBody>(group, method, path, { token: a.token, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.text).not.toContain(b.instanceId);
    }
    const after = await agentsRepo.get(b.agentId);
    expect(after).toEqual(before);
  });

  it("client A's token on client B's client routes → 403 FORBIDDEN", async () => {
    for (const path of [`/api/client/${b.clientId}`, `/api/client/${b.clientId}/agents`, `/api/client/${b.clientId}/agents/history`]) {
      const group = path.endsWith(b.clientId) ? 'clients' : 'agents';
      const res = await invoke<ErrorBody>(group, 'GET', path, { token: a.token });
      expect(res.status, path).toBe(403);
      expect(res.json.error.code).toBe('FORBIDDEN');
      expect(res.text).not.toContain(b.agentId);
    }
  });

  it('register with a body token that differs from the header token → 401', async () => {
    const res = await invoke<ErrorBody>('agents', 'POST', '/api/agents/register', {
      token: a.token,
      body: { client_token: b.token, logical_agent_id: 'x', instance_id: randomInstanceId(), instance_type: 't3.small', region: 'us-east-1', az: 'us-east-1a' },
    });
    expect(res.status).toBe(401);
    // The admin header with a body token acts for the body token's client.
    const asAdmin = await invoke<{ client_id: string }>('agents', 'POST', '/api/agents/register', {
      token: TEST_ADMIN_TOKEN,
      body: { client_token: b.token, logical_agent_id: `l-${randomUUID()}`, instance_id: randomInstanceId(), instance_type: 't3.small', region: 'us-east-1', az: 'us-east-1a' },
    });
    expect(asAdmin.status).toBe(201);
    expect(asAdmin.json.client_id).toBe(b.clientId);
  });
});

describe('idempotency keys', () => {
  it('replays the stored response for the same key and body, and refuses another body with 422', async () => {
    const name = `idem-${randomUUID()}`;
    const key = randomUUID();
    const first = await invoke<{ client: { id: string; token: string } }>('clients', 'POST', '/api/admin/clients/create', {
      token: TEST_ADMIN_TOKEN,
      headers: { 'Idempotency-Key': key },
      body: { name },
    });
    expect(first.status).toBe(201);
    const replay = await invoke<{ client: { id: string; token: string } }>('clients', 'POST', '/api/admin/clients/create', {
      token: TEST_ADMIN_TOKEN,
      headers: { 'Idempotency-Key': key },
      body: { name },
    });
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json.client.id).toBe(first.json.client.id);
    // The stored response never holds the token in plain text: the replay says it was redacted.
    expect(replay.json.client.token).toBeNull();
    expect(replay.headers['idempotent-redacted']).toBe('token');
    expect(replay.text).not.toContain(first.json.client.token);
    // Exactly one client was created.
    expect((await clientsRepo.get(first.json.client.id))?.name).toBe(name);

    const reused = await invoke<ErrorBody>('clients', 'POST', '/api/admin/clients/create', {
      token: TEST_ADMIN_TOKEN,
      headers: { 'X-Request-ID': key },
      body: { name: `${name}-other` },
    });
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await getItem(keys.clientName(`${name}-other`))).toBeUndefined();

    const mismatch = await invoke<ErrorBody>('clients', 'POST', '/api/admin/clients/create', {
      token: TEST_ADMIN_TOKEN,
      headers: { 'Idempotency-Key': randomUUID(), 'X-Request-ID': randomUUID() },
      body: { name: `${name}-x` },
    });
    expect(mismatch.status).toBe(400);
  });

  it('the same key from another caller is another scope', async () => {
    const ca = await createClientInProcess();
    const cb = await createClientInProcess();
    const agentA = await registerAgentInProcess(ca.token);
    const agentB = await registerAgentInProcess(cb.token);
    const key = randomUUID();
    const ra = await invoke('agents', 'POST', `/api/client/agents/${agentA.agentId}/toggle-enabled`, {
      token: ca.token,
      headers: { 'Idempotency-Key': key },
      body: { enabled: false },
    });
    const rb = await invoke('agents', 'POST', `/api/client/agents/${agentB.agentId}/toggle-enabled`, {
      token: cb.token,
      headers: { 'Idempotency-Key': key },
      body: { enabled: false },
    });
    expect(ra.status).toBe(200);
    expect(rb.status).toBe(200);
    expect(rb.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('optimistic locking', () => {
  it('two concurrent config updates with the same version → exactly one 200 and one 409', async () => {
    const c = await createClientInProcess();
    const agent = await registerAgentInProcess(c.token);
    const { version } = (await agentsRepo.get(agent.agentId)) as { version: number };
    const update = (minSavings: number) =>
      invoke<ErrorBody>('agents', 'POST', `/api/client/agents/${agent.agentId}/config`, {
        token: c.token,
        body: { min_savings_percent: minSavings, version },
      });
    const results = await Promise.all([update(20), update(40)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    const conflict = results.find((r) => r.status === 409);
    expect(conflict?.json.error.code).toBe('VERSION_CONFLICT');
    expect(conflict?.json.error.details[0]).toMatchObject({ field: 'version', issue: 'stale', current_version: version + 1 });
    const stored = await agentsRepo.get(agent.agentId);
    expect(stored?.version).toBe(version + 1);
    expect([20, 40]).toContain(stored?.config.min_savings_percent);
  });

  it('If-Match carries the version too, and the mode switch side effects apply', async () => {
    const c = await createClientInProcess();
    const agent = await registerAgentInProcess(c.token);
    const current = (await agentsRepo.get(agent.agentId)) as { version: number };
    const stale = await invoke<ErrorBody>('agents', 'POST', `/api/client/agents/${agent.agentId}/settings`, {
      token: c.token,
      headers: { 'If-Match': `"${current.version + 5}"` },
      body: { manualReplicaEnabled: true },
    });
    expect(stale.status).toBe(409);
    const ok = await invoke<Record<string, unknown>>('agents', 'POST', `/api/client/agents/${agent.agentId}/settings`, {
      token: c.token,
      headers: { 'If-Match': `"${current.version}"` },
      body: { manualReplicaEnabled: true },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.config).toMatchObject({
      manual_replica_enabled: true,
      replica_enabled: true,
      auto_switch_enabled: false,
      replica_count: 1,
    });
    expect(ok.json.side_effects).toEqual({ replicas_terminated: 0, replica_requested: true, commands_cancelled: 0 });
    const launching = await invoke<{ total: number }>('replicas', 'GET', `/api/agents/${agent.agentId}/replicas`, {
      token: c.token,
      query: { status: 'launching' },
    });
    expect(launching.json.total).toBe(1);
    const both = await invoke<ErrorBody>('agents', 'POST', `/api/client/agents/${agent.agentId}/config`, {
      token: c.token,
      body: { manual_replica_enabled: true, auto_switch_enabled: true },
    });
    expect(both.status).toBe(400);
    expect(both.json.error.details.map((d) => d.field)).toContain('body.manual_replica_enabled');
    const back = await invoke<Record<string, unknown>>('agents', 'POST', `/api/client/agents/${agent.agentId}/config`, {
      token: c.token,
      body: { auto_switch_enabled: true },
    });
    expect(back.json.side_effects).toMatchObject({ replicas_terminated: 1 });
    expect(back.json.config).toMatchObject({ manual_replica_enabled: false, auto_switch_enabled: true, replica_count: 0 });
  });
});

describe('input validation at the edge', () => {
  it('malformed JSON → 400 INVALID_JSON; wrong types and missing fields → 400 naming the field; nothing written', async () => {
    const c = await createClientInProcess();
    const instanceId = randomInstanceId();
    const logical = `l-${randomUUID()}`;
    const bad = await invoke<ErrorBody>('agents', 'POST', '/api/agents/register', { token: c.token, body: '{"logical_agent_id": ' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_JSON');

    const missing = await invoke<ErrorBody>('agents', 'POST', '/api/agents/register', {
      token: c.token,
      body: { logical_agent_id: logical, instance_type: 't3.small', region: 'us-east-1', az: 'us-east-1a' },
    });
    expect(missing.status).toBe(400);
    expect(missing.json.error.code).toBe('VALIDATION_ERROR');
    expect(missing.json.error.details).toContainEqual({ field: 'body.instance_id', issue: 'required' });

    const wrongType = await invoke<ErrorBody>('agents', 'POST', '/api/agents/register', {
      token: c.token,
      body: { logical_agent_id: logical, instance_id: instanceId, instance_type: 42, region: 'us-east-1', az: 'us-east-1a' },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error.details.map((d) => d.field)).toEqual(['body.instance_type']);
    expect(wrongType.json.error.message).toContain('body.instance_type');

    // Nothing was written by the refused requests.
    expect(await agentsRepo.findLiveByLogicalId(c.client.id, logical)).toBeUndefined();
    expect(await getItem(keys.instance(instanceId))).toBeUndefined();

    const badQuery = await invoke<ErrorBody>('replicas', 'GET', `/api/agents/${randomUUID()}/replicas`, {
      token: c.token,
      query: { status: 'sideways' },
    });
    expect(badQuery.status).toBe(400);
    expect(badQuery.json.error.details[0]?.field).toBe('query.status');

    const badPath = await invoke<ErrorBody>('agents', 'GET', '/api/agents/not-a-uuid', { token: c.token });
    expect(badPath.status).toBe(400);
    expect(badPath.json.error.details[0]?.field).toBe('path.aid');

    const tooBig = await invoke<ErrorBody>('agents', 'POST', '/api/agents/register', {
      token: c.token,
      body: JSON.stringify({ logical_agent_id: 'x'.repeat(300 * 1024) }),
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.json.error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
