import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { api, startLocalApi } from '../../support/http.js';
import { createClientViaApi } from '../../support/factories.js';
import { seedPool } from '../../support/interruption.js';

/**
 * The local event path end to end over real HTTP: a real-shaped EventBridge event file is POSTed
 * to the local runtime's `/local/eventbridge` (what `npm run event -- FILE` does), and the agent —
 * polling pending-commands like the v4 agent — then receives the priority-100 emergency switch.
 */
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const warningFile = readFileSync(`${FIXTURES}ec2-spot-interruption-warning.json`, 'utf8');
const INSTANCE_ID = (JSON.parse(warningFile) as { detail: { 'instance-id': string } }).detail['instance-id'];
const INSTANCE_TYPE = 'c7i.fixture';

let local: Awaited<ReturnType<typeof startLocalApi>>;

beforeAll(async () => {
  local = await startLocalApi();
});

afterAll(async () => {
  await local?.close();
});

describe('local runtime: POST /local/eventbridge', () => {
  it('accepts a real-shaped event file; the agent then sees the emergency command in pending-commands', async () => {
    const http = api(local.baseUrl);
    const { token, client } = await createClientViaApi(http);
    const registered = await http.post<{ agent_id: string }>('/api/agents/register', {
      token,
      body: {
        logical_agent_id: 'fixture-agent',
        instance_id: INSTANCE_ID,
        instance_type: INSTANCE_TYPE,
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'spot',
        agent_version: '4.0.0',
      },
    });
    expect(registered.status).toBe(201);
    const agentId = registered.json.agent_id;
    await seedPool(INSTANCE_TYPE, 'us-east-1a', 0.02, 0.05);
    const target = await seedPool(INSTANCE_TYPE, 'us-east-1b', 0.03, 0.1);

    // Exactly the bytes of the file, as `npm run event -- FILE` sends them.
    const res = await http.post<{ ok: boolean; result: { status: string; instances: { outcome: string; command_id: string }[] } }>(
      '/local/eventbridge',
      { headers: { 'content-type': 'application/json' }, token: TEST_ADMIN_TOKEN, body: warningFile },
    );
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(true);
    expect(res.json.result.status).toBe('processed');
    expect(res.json.result.instances[0]?.outcome).toBe('handled');

    const pending = await http.get<Record<string, unknown>[]>(`/api/agents/${agentId}/pending-commands`, { token });
    expect(pending.status).toBe(200);
    expect(pending.json).toHaveLength(1);
    expect(pending.json[0]).toMatchObject({
      id: res.json.result.instances[0]?.command_id,
      command_type: 'switch',
      priority: 100,
      trigger_type: 'emergency',
      target_mode: 'spot',
      target_pool_id: target,
      instance_id: INSTANCE_ID,
    });

    // The same file again (an EventBridge redelivery) is a duplicate: nothing new.
    const again = await http.post<{ ok: boolean; result: { status: string } }>('/local/eventbridge', {
      headers: { 'content-type': 'application/json' },
      token: TEST_ADMIN_TOKEN,
      body: warningFile,
    });
    expect(again.json.result.status).toBe('duplicate');

    // The agent's own notice joins the same incident and learns the outcome.
    const notice = await http.post<Record<string, unknown>>(`/api/agents/${agentId}/termination-imminent`, {
      token,
      body: { instance_id: INSTANCE_ID },
    });
    expect(notice.status).toBe(200);
    expect(notice.json).toMatchObject({ success: false, action: 'no_replica', target_pool_id: target });

    // The emergency log shows one incident with both sources.
    const log = await http.get<{ events: { instance_id: string; sources: string[] }[] }>('/api/admin/emergency-events', {
      token: process.env.ADMIN_TOKEN as string,
      query: { client_id: client.id, since: '2025-01-01T00:00:00Z', signal_type: 'termination' },
    });
    expect(log.status).toBe(200);
    expect(log.json.events.filter((e) => e.instance_id === INSTANCE_ID)).toEqual([
      expect.objectContaining({ sources: ['agent', 'eventbridge'] }),
    ]);
  });

  it('a malformed event is a failed invocation (500 ok:false), as EventBridge would see it', async () => {
    const res = await api(local.baseUrl).post<{ ok: boolean; error: string }>('/local/eventbridge', {
      token: TEST_ADMIN_TOKEN,
      body: { ...JSON.parse(warningFile), id: 'another', detail: { 'instance-id': 'not-an-instance' } },
    });
    expect(res.status).toBe(500);
    expect(res.json.ok).toBe(false);
  });

  it('/local routes need the admin token and a JSON body: no cross-site request can run them (CSRF)', async () => {
    const http = api(local.baseUrl);
    const event = { headers: { 'content-type': 'application/json' }, body: warningFile };
    for (const path of ['/local/eventbridge', '/local/jobs/command-expiry']) {
      expect((await http.post(path, event)).status, path).toBe(401);
      expect((await http.post(path, { ...event, token: 'not-the-admin-token' })).status, path).toBe(401);
      // What a browser page can send cross-origin without a preflight: a text/plain (or form) POST.
      const simple = await http.post<{ ok: boolean }>(path, {
        headers: { 'content-type': 'text/plain' },
        token: TEST_ADMIN_TOKEN,
        body: warningFile,
      });
      expect(simple.status, path).toBe(415);
      expect(simple.json.ok).toBe(false);
    }
    // With both, the request gets through (an unknown job is then the gateway's 404; no job of the shared table runs).
    const job = await http.post<{ ok: boolean }>('/local/jobs/no-such-job', { headers: { 'content-type': 'application/json' }, token: TEST_ADMIN_TOKEN });
    expect(job.status).toBe(404);
  });
});
