/**
 * Failure matrix (test/support/fault-matrix.ts) of the dashboard's and the admin's multi-call
 * writes, retried as a careful caller does — with the same Idempotency-Key: a config change with
 * its §4.4 side effects, a manual switch, a client delete (its agents' cascade), a token regenerate.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { clientsRepo } from '../../../functions/shared/db/clients-repo.js';
import { ddb, tableName } from '../../../functions/shared/db/client.js';
import { faultMatrix, type Flow } from '../../support/fault-matrix.js';
import { adminToken, type Agent, agentOf, must, request, tenant, type Tenant } from '../../support/fault-worlds.js';
import { invoke } from '../../support/http.js';
import { launchedReplica, seedPool, uniqueInstanceType } from '../../support/interruption.js';

/** A careful caller's retry: the same request with the same key, after the key's 30 s lock. */
const KEYED_RETRY_MS = 35_000;

/** An auto-switch agent with an open model switch and an automatic replica, and pools to place a manual one. */
async function busyAgent(t?: Tenant): Promise<Agent> {
  const instanceType = uniqueInstanceType();
  await seedPool(instanceType, 'us-east-1b', 0.03, 0.1);
  await seedPool(instanceType, 'us-east-1c', 0.035, 0.2);
  const a = await agentOf(t ?? (await tenant()), { instanceType, config: { auto_switch_enabled: true } });
  await must(request('commands', 'POST', `/api/agents/${a.agentId}/issue-switch-command`, { token: a.token, body: { target_mode: 'ondemand', priority: 25 } }), 'switch');
  await launchedReplica({ ...a, az: 'us-east-1a' }, 'syncing', { pool: `${instanceType}.us-east-1b`, type: 'automatic-rebalance' });
  return a;
}

const configChange: Flow<Agent & { key: string }> = {
  name: 'config change with side effects (manual replica mode on)',
  setup: async () => ({ ...(await busyAgent()), key: randomUUID() }),
  attempt: (w) =>
    request('agents', 'POST', `/api/client/agents/${w.agentId}/config`, {
      token: w.token,
      headers: { 'Idempotency-Key': w.key },
      body: { manual_replica_enabled: true, min_savings_percent: 20 },
    }),
  retryAfterMs: KEYED_RETRY_MS,
  clients: (w) => [w.clientId],
};

const manualSwitch: Flow<Agent & { key: string }> = {
  name: 'manual switch (force-switch)',
  setup: async () => ({ ...(await agentOf(await tenant())), key: randomUUID() }),
  attempt: (w) =>
    request('commands', 'POST', `/api/client/instances/${w.instanceId}/force-switch`, {
      token: w.token,
      headers: { 'Idempotency-Key': w.key },
      body: { target: 'ondemand', reason: 'failure matrix' },
    }),
  retryAfterMs: KEYED_RETRY_MS,
  clients: (w) => [w.clientId],
};

const clientDelete: Flow<Tenant & { key: string }> = {
  name: 'client delete (its agents cascade)',
  async setup() {
    const t = await tenant();
    await busyAgent(t);
    await agentOf(t);
    return { ...t, key: randomUUID() };
  },
  async attempt(w) {
    const a = await request('clients', 'DELETE', `/api/admin/clients/${w.clientId}`, { token: adminToken, headers: { 'Idempotency-Key': w.key } });
    // A retry after the delete committed (its answer lost) finds no client: 404 tells the admin it is gone.
    return a.status === 404 ? { ...a, done: (await clientsRepo.get(w.clientId))?.status === 'deleted' } : a;
  },
  retryAfterMs: KEYED_RETRY_MS,
  clients: (w) => [w.clientId],
};

/** The client's token items, with their expiry (a test may Scan its own table). */
async function tokensOf(clientId: string): Promise<{ valid_until: string | null }[]> {
  const out = await ddb.send(
    new ScanCommand({
      TableName: tableName(),
      FilterExpression: 'entity = :token AND client_id = :cid',
      ExpressionAttributeValues: { ':token': 'token', ':cid': clientId },
    }),
  );
  return (out.Items ?? []) as { valid_until: string | null }[];
}

const tokenRegenerate: Flow<Tenant & { key: string }> = {
  name: 'token regenerate (with a grace period)',
  setup: async () => ({ ...(await tenant()), key: randomUUID() }),
  attempt: (w) =>
    request('clients', 'POST', `/api/admin/clients/${w.clientId}/regenerate-token`, {
      token: adminToken,
      headers: { 'Idempotency-Key': w.key },
      body: { grace_period_seconds: 3600 },
    }),
  retryAfterMs: KEYED_RETRY_MS,
  clients: (w) => [w.clientId],
  async check(w, answers) {
    // Exactly one rotation: the new token, and the old one for its grace period — no third token
    // that nobody was ever shown.
    const tokens = await tokensOf(w.clientId);
    expect(tokens.map((t) => (t.valid_until ? 'grace' : 'current')).sort()).toEqual(['current', 'grace']);
    // The old token still works during the grace period; a token the admin was shown works.
    expect((await invoke('clients', 'GET', '/api/client/validate', { token: w.token })).status).toBe(200);
    const shown = answers.map((a) => (a.body as { token?: string | null } | undefined)?.token).filter((t): t is string => typeof t === 'string');
    for (const token of shown.slice(-1)) expect((await invoke('clients', 'GET', '/api/client/validate', { token })).status).toBe(200);
  },
};

const agentDelete: Flow<Agent & { key: string }> = {
  name: 'agent delete (commands cancelled, replicas terminated)',
  setup: async () => ({ ...(await busyAgent()), key: randomUUID() }),
  async attempt(w) {
    const a = await request('agents', 'DELETE', `/api/client/agents/${w.agentId}`, { token: w.token, headers: { 'Idempotency-Key': w.key } });
    return a.status === 404 ? { ...a, done: (a.body as { error?: { code?: string } }).error?.code === 'AGENT_DELETED' } : a;
  },
  retryAfterMs: KEYED_RETRY_MS,
  clients: (w) => [w.clientId],
};

const disable: Flow<Agent & { key: string }> = {
  name: 'agent disabled (pending commands cancelled)',
  setup: async () => ({ ...(await busyAgent()), key: randomUUID() }),
  attempt: (w) =>
    request('agents', 'POST', `/api/client/agents/${w.agentId}/toggle-enabled`, { token: w.token, headers: { 'Idempotency-Key': w.key }, body: { enabled: false } }),
  retryAfterMs: KEYED_RETRY_MS,
  clients: (w) => [w.clientId],
};

await faultMatrix([configChange, manualSwitch, agentDelete, disable, clientDelete, tokenRegenerate] as Flow<never>[]);
