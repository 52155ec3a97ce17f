import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { alertsRepo } from '../../../functions/shared/db/alerts-repo.js';
import { addDbHook } from '../../../functions/shared/db/client.js';
import { clientsRepo } from '../../../functions/shared/db/clients-repo.js';
import { getItem, updateItem } from '../../../functions/shared/db/conditions.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { hashToken } from '../../../functions/shared/domain/tokens.js';
import type { Agent, Client, Instance } from '../../../functions/shared/domain/types.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { createClientInProcess, randomInstanceId } from '../../support/factories.js';
import { type ApiResponse, invoke } from '../../support/http.js';
import { registerAgent } from '../../support/seed.js';

/**
 * Revocation and client delete, raced: every token of a
 * client goes at once (grace 0, delete), a deleted client's token is 401 on every route (validate
 * included), a client being deleted takes no agent or alert, the cascade finishes when raced, and a
 * second delete is 404 or 409, never a 5xx.
 */

const admin = { token: TEST_ADMIN_TOKEN };

const regenerate = (cid: string, grace: number) =>
  invoke<{ token: string }>('clients', 'POST', `/api/admin/clients/${cid}/regenerate-token`, { ...admin, body: { grace_period_seconds: grace } });
const deleteClient = (cid: string) => invoke('clients', 'DELETE', `/api/admin/clients/${cid}`, admin);
const alertBody = { alert_type: 'spot_price_above', threshold: 1, pool_id: 't3.medium.us-east-1a' };

/** What the old token tried in the issue: validate, agent history, alerts, events (+ an agent read). */
async function everywhere(token: string, cid: string, agentId: string): Promise<ApiResponse[]> {
  return Promise.all([
    invoke('clients', 'GET', '/api/client/validate', { token }),
    invoke('agents', 'GET', `/api/client/${cid}/agents/history`, { token }),
    invoke('notifications', 'GET', `/api/client/${cid}/pricing-alerts`, { token }),
    invoke('events', 'GET', '/api/events/stream', { token, query: { format: 'json' } }),
    invoke('agents', 'GET', `/api/agents/${agentId}`, { token }),
    invoke('agents', 'POST', `/api/agents/${agentId}/heartbeat`, { token, body: { status: 'online' } }),
  ]);
}

const statuses = (responses: ApiResponse[]) => responses.map((r) => r.status);

describe('grace-0 regenerate revokes every token of the client', () => {
  it('a token in its grace period dies with the next grace-0 regenerate', async () => {
    const { client, token: first } = await createClientInProcess();
    const agent = await registerAgent(first);
    const second = (await regenerate(client.id, 3600)).json.token;
    expect(statuses(await everywhere(first, client.id, agent.agentId)).every((s) => s === 200)).toBe(true);
    const third = (await regenerate(client.id, 0)).json.token;
    expect(statuses(await everywhere(first, client.id, agent.agentId))).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses(await everywhere(second, client.id, agent.agentId))).toEqual([401, 401, 401, 401, 401, 401]);
    expect((await invoke('clients', 'GET', '/api/client/validate', { token: third })).status).toBe(200);
    // Nothing of the old tokens is left to be found.
    for (const t of [first, second]) expect(await getItem(keys.token(hashToken(t)))).toBeUndefined();
  });

  it('keeps several grace tokens (the oldest beyond five revoked) until a grace-0 regenerate', async () => {
    const { client, token: original } = await createClientInProcess();
    const tokens = [original];
    for (let i = 0; i < 6; i++) tokens.push((await regenerate(client.id, 3600)).json.token);
    const validate = (t: string) => invoke('clients', 'GET', '/api/client/validate', { token: t }).then((r) => r.status);
    expect(await Promise.all(tokens.map(validate))).toEqual([401, 200, 200, 200, 200, 200, 200]);
    await regenerate(client.id, 0);
    expect(await Promise.all(tokens.map(validate))).toEqual([401, 401, 401, 401, 401, 401, 401]);
  });
  it('can revoke only the current token and keep the grace periods (a regenerate nobody saw the answer of)', async () => {
    const { client, token: first } = await createClientInProcess();
    const second = (await regenerate(client.id, 3600)).json.token;
    const current = (await clientsRepo.get(client.id)) as Client;
    await clientsRepo.replaceToken(current, { hash: hashToken('unused-next'), hint: 'x', createdAt: new Date().toISOString() }, null, { keepGraceTokens: true });
    const validate = (t: string) => invoke('clients', 'GET', '/api/client/validate', { token: t }).then((r) => r.status);
    expect(await Promise.all([first, second].map(validate))).toEqual([200, 401]);
  });
});

describe('a deleted client is 401 everywhere', () => {
  it('also with a token that was in its grace period, validate included', async () => {
    const { client, token: old } = await createClientInProcess();
    const agent = await registerAgent(old);
    await invoke('notifications', 'POST', `/api/client/${client.id}/pricing-alerts`, { token: old, body: alertBody });
    const current = (await regenerate(client.id, 3600)).json.token;
    expect((await deleteClient(client.id)).status).toBe(200);
    expect(statuses(await everywhere(old, client.id, agent.agentId))).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses(await everywhere(current, client.id, agent.agentId))).toEqual([401, 401, 401, 401, 401, 401]);
    expect(await alertsRepo.listByClient(client.id)).toEqual([]);
  });
});

describe('token reads', () => {
  let remove: (() => void) | undefined;
  afterEach(() => remove?.());

  it('are strongly consistent', async () => {
    const { token } = await createClientInProcess();
    const reads: Record<string, unknown>[] = [];
    remove = addDbHook('token-reads', async (call, send) => {
      const key = call.input.Key as { PK?: string } | undefined;
      if (call.command.startsWith('GetItem') && key?.PK?.startsWith('TOKEN#')) reads.push(call.input);
      return send(call.input as Record<string, unknown>);
    });
    expect((await invoke('clients', 'GET', '/api/client/validate', { token })).status).toBe(200);
    expect(reads).toHaveLength(1);
    expect(reads[0]?.ConsistentRead).toBe(true);
  });
});

describe('delete races registration', () => {
  it('2 deletes alongside 12 register/heartbeat calls: deleted, no live agent, no alert, no 5xx', async () => {
    for (let round = 0; round < 3; round++) {
      const { client, token } = await createClientInProcess();
      const agents = await Promise.all([registerAgent(token), registerAgent(token)]);
      await invoke('notifications', 'POST', `/api/client/${client.id}/pricing-alerts`, { token, body: alertBody });
      const register = () =>
        invoke('agents', 'POST', '/api/agents/register', {
          token,
          body: { logical_agent_id: `l-${randomUUID()}`, instance_id: randomInstanceId(), instance_type: 't3.medium', region: 'us-east-1', az: 'us-east-1a' },
        });
      const heartbeat = (i: number) =>
        invoke('agents', 'POST', `/api/agents/${agents[i % 2]?.agentId}/heartbeat`, { token, body: { status: 'online' } });
      const alert = () => invoke('notifications', 'POST', `/api/client/${client.id}/pricing-alerts`, { ...admin, body: alertBody });
      const calls: Promise<ApiResponse>[] = [];
      for (let i = 0; i < 12; i++) calls.push(i % 3 === 0 ? heartbeat(i) : i % 3 === 1 ? register() : alert());
      const deletes = [deleteClient(client.id), deleteClient(client.id)];
      const results = await Promise.all([...calls, ...deletes]);
      for (const r of results) expect(r.status, r.text).toBeLessThan(500);
      const deleteStatuses = (await Promise.all(deletes)).map((r) => r.status).sort();
      // One delete ran the cascade; the other found it under way (409) or done (404).
      expect(deleteStatuses[0]).toBe(200);
      expect([404, 409]).toContain(deleteStatuses[1]);
      // A 409'd delete leaves the first to finish; a retry after it is 404.
      const stored = (await clientsRepo.get(client.id)) as Client;
      expect(stored.status).toBe('deleted');
      const live = (await agentsRepo.listAllByClient(client.id)).filter((a) => a.status !== 'deleted');
      expect(live).toEqual([]);
      expect(await alertsRepo.listByClient(client.id)).toEqual([]);
      expect((await deleteClient(client.id)).status).toBe(404);
    }
  });

  it('a client being deleted takes no new agent and no alert, and a delete that stopped is resumed', async () => {
    const { client, token } = await createClientInProcess();
    const agent = await registerAgent(token);
    // A delete that died after its first step (its lease still held, then expired).
    const before = (await clientsRepo.get(client.id)) as Client;
    const soon = new Date(Date.now() + 60_000).toISOString();
    expect(await clientsRepo.beginDelete(before, new Date().toISOString(), soon)).toBe('begun');
    // Tokens are gone: the client's own calls are 401.
    const reg = await invoke('agents', 'POST', '/api/agents/register', {
      token,
      body: { logical_agent_id: 'late', instance_id: randomInstanceId(), instance_type: 't3.medium', region: 'us-east-1', az: 'us-east-1a' },
    });
    expect(reg.status).toBe(401);
    // The admin cannot add to it either.
    const alert = await invoke<{ error: { code: string } }>('notifications', 'POST', `/api/client/${client.id}/pricing-alerts`, { ...admin, body: alertBody });
    expect(alert.status).toBe(409);
    expect(alert.json.error.code).toBe('INVALID_TRANSITION');
    expect((await invoke('clients', 'POST', `/api/admin/clients/${client.id}/regenerate-token`, { ...admin, body: {} })).status).toBe(409);
    // Registration's own transaction refuses it too (a register that authenticated just before the delete).
    const late = { ...(await agentsRepo.get(agent.agentId)), id: randomUUID(), logical_agent_id: `late-${randomUUID()}` } as Agent;
    const primary = { ...(await instancesRepo.get(agent.instanceId)), id: randomInstanceId(), agent_id: late.id } as Instance;
    await expect(agentsRepo.createWithPrimary(late, primary, 50)).rejects.toMatchObject({ status: 403, code: 'CLIENT_INACTIVE' });
    // While the lease holds, another delete is 409; once it expired, a delete resumes and finishes.
    expect((await deleteClient(client.id)).status).toBe(409);
    expect((await clientsRepo.get(client.id))?.status).toBe('deleting');
    const expired = new Date(Date.now() - 1000).toISOString();
    await updateItem(keys.client(client.id), { set: { delete_lease_until: expired }, bumpVersion: false });
    const resumed = await invoke<{ agents_deleted: number }>('clients', 'DELETE', `/api/admin/clients/${client.id}`, admin);
    expect(resumed.status).toBe(200);
    expect(resumed.json.agents_deleted).toBe(1);
    expect((await clientsRepo.get(client.id))?.status).toBe('deleted');
    expect((await agentsRepo.get(agent.agentId))?.status).toBe('deleted');
  });
});
