import { describe, expect, it } from 'vitest';
import { getItem } from '../../../functions/shared/db/conditions.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { hashToken } from '../../../functions/shared/domain/tokens.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { createClientInProcess, randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';

describe('client management', () => {
  it('returns the token once and stores only its SHA-256 hash', async () => {
    const { client, token } = await createClientInProcess({ email: 'ops@example.com' });
    expect(token.length).toBeGreaterThanOrEqual(40);
    const stored = await getItem(keys.client(client.id));
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(stored?.token_hash).toBe(hashToken(token));
    expect(await getItem(keys.token(hashToken(token)))).toMatchObject({ client_id: client.id });

    const info = await invoke<Record<string, unknown>>('clients', 'GET', `/api/admin/clients/${client.id}/token`, {
      token: TEST_ADMIN_TOKEN,
    });
    expect(info.status).toBe(200);
    expect(info.json.token).toBeNull();
    expect(info.json.token_hint).toBe(`${token.slice(0, 4)}…${token.slice(-4)}`);
    expect(info.text).not.toContain(token);
  });

  it('rejects a duplicate name with 409 ALREADY_EXISTS and writes nothing', async () => {
    const { client } = await createClientInProcess();
    const res = await invoke<{ error: { code: string } }>('clients', 'POST', '/api/admin/clients/create', {
      token: TEST_ADMIN_TOKEN,
      body: { name: client.name.toUpperCase() },
    });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('ALREADY_EXISTS');
  });

  it('regenerate invalidates the old token at once, or after the grace period', async () => {
    const { client, token } = await createClientInProcess();
    const validate = (t: string) => invoke('clients', 'GET', '/api/client/validate', { token: t });
    expect((await validate(token)).status).toBe(200);

    const regen = await invoke<{ token: string; previous_token_valid_until: string | null }>(
      'clients',
      'POST',
      `/api/admin/clients/${client.id}/regenerate-token`,
      { token: TEST_ADMIN_TOKEN, body: {} },
    );
    expect(regen.status).toBe(200);
    expect(regen.json.previous_token_valid_until).toBeNull();
    expect((await validate(token)).status).toBe(401);
    expect((await validate(regen.json.token)).status).toBe(200);

    const graced = await invoke<{ token: string; previous_token_valid_until: string }>(
      'clients',
      'POST',
      `/api/admin/clients/${client.id}/regenerate-token`,
      { token: TEST_ADMIN_TOKEN, body: { grace_period_seconds: 3600 } },
    );
    expect(Date.parse(graced.json.previous_token_valid_until)).toBeGreaterThan(Date.now());
    expect((await validate(regen.json.token)).status).toBe(200);
    expect((await validate(graced.json.token)).status).toBe(200);
  });

  it('validate, get and list expose the client to itself and to the admin only', async () => {
    const a = await createClientInProcess();
    const b = await createClientInProcess();
    const own = await invoke<Record<string, unknown>>('clients', 'GET', `/api/client/${a.client.id}`, { token: a.token });
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ id: a.client.id, agents_total: 0, agents_online: 0, instances_active: 0 });
    const other = await invoke<{ error: { code: string } }>('clients', 'GET', `/api/client/${b.client.id}`, { token: a.token });
    expect(other.status).toBe(403);
    expect(other.json.error.code).toBe('FORBIDDEN');
    expect(other.text).not.toContain(b.client.name);
    const asAdmin = await invoke('clients', 'GET', `/api/client/${b.client.id}`, { token: TEST_ADMIN_TOKEN });
    expect(asAdmin.status).toBe(200);
    const adminOnly = await invoke<{ error: { code: string } }>('clients', 'POST', '/api/admin/clients/create', {
      token: a.token,
      body: { name: 'x' },
    });
    expect(adminOnly.status).toBe(403);
    expect(adminOnly.json.error.code).toBe('ADMIN_REQUIRED');
    const role = await invoke<Record<string, unknown>>('clients', 'GET', '/api/client/validate', { token: TEST_ADMIN_TOKEN });
    expect(role.json).toMatchObject({ valid: true, role: 'admin' });
  });

  it('delete revokes the token and deletes the agents', async () => {
    const { client, token } = await createClientInProcess();
    const reg = await invoke<{ agent_id: string }>('agents', 'POST', '/api/agents/register', {
      token,
      body: { logical_agent_id: 'l1', instance_id: randomInstanceId(), instance_type: 't3.small', region: 'us-east-1', az: 'us-east-1a' },
    });
    expect(reg.status).toBe(201);
    const del = await invoke<Record<string, unknown>>('clients', 'DELETE', `/api/admin/clients/${client.id}`, {
      token: TEST_ADMIN_TOKEN,
    });
    expect(del.status).toBe(200);
    expect(del.json).toEqual({ client_id: client.id, status: 'deleted', agents_deleted: 1 });
    expect((await invoke('clients', 'GET', '/api/client/validate', { token })).status).toBe(401);
    const agent = await invoke('agents', 'GET', `/api/agents/${reg.json.agent_id}`, { token: TEST_ADMIN_TOKEN });
    expect(agent.status).toBe(404);
  });

  it('unknown or missing tokens get 401, never 404', async () => {
    const none = await invoke<{ error: { code: string } }>('clients', 'GET', '/api/client/validate');
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('UNAUTHORIZED');
    const bogus = await invoke('agents', 'GET', '/api/agents/00000000-0000-4000-8000-000000000000', {
      token: 'not-a-real-token-000000000000000000000000000',
    });
    expect(bogus.status).toBe(401);
  });
});
