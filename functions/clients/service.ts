import { agentsRepo } from '../shared/db/agents-repo.js';
import { clientsRepo } from '../shared/db/clients-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { NotFoundError } from '../shared/domain/errors.js';
import { newId, ttlAfterDays } from '../shared/domain/ids.js';
import { round } from '../shared/domain/numbers.js';
import { generateToken, hashToken, tokenHint } from '../shared/domain/tokens.js';
import type { Caller, Client } from '../shared/domain/types.js';
import { deleteAgentCascade } from '../shared/flows/agent-lifecycle.js';

/** Deleted clients' data expires after 30 days (API.md §3.2). */
const DELETED_CLIENT_RETENTION_DAYS = 30;

const clientView = (c: Client) => ({
  id: c.id,
  name: c.name,
  email: c.email,
  plan: c.plan,
  max_agents: c.max_agents,
  aws_account_ids: c.aws_account_ids,
  status: c.status,
  created_at: c.created_at,
  version: c.version,
});

async function liveClient(clientId: string): Promise<Client> {
  const client = await clientsRepo.get(clientId);
  if (!client || client.status === 'deleted') throw new NotFoundError('client');
  return client;
}

export interface CreateClientInput {
  name: string;
  email?: string;
  plan?: string;
  max_agents: number;
  aws_account_ids: string[];
}

/** Creates a client; the token is returned here once and only its hash is stored. */
export async function createClient(input: CreateClientInput, now: Date) {
  const token = generateToken();
  const client: Client = {
    id: newId(),
    name: input.name.trim(),
    email: input.email ?? null,
    plan: input.plan ?? null,
    max_agents: input.max_agents,
    aws_account_ids: input.aws_account_ids,
    status: 'active',
    token_hash: hashToken(token),
    token_hint: tokenHint(token),
    token_created_at: now.toISOString(),
    total_savings: 0,
    last_sync_at: null,
    created_at: now.toISOString(),
    deleted_at: null,
    version: 1,
  };
  await clientsRepo.create(client);
  return { client: { ...clientView(client), token } };
}

/** Soft delete: every agent is deleted (commands cancelled, replicas terminated), then the client. */
export async function deleteClient(clientId: string, now: Date) {
  const client = await liveClient(clientId);
  const agents = await agentsRepo.listAllByClient(clientId);
  let deleted = 0;
  for (const agent of agents) {
    if (agent.status === 'deleted') continue;
    await deleteAgentCascade(agent, now, { ttl: ttlAfterDays(now, DELETED_CLIENT_RETENTION_DAYS) });
    deleted++;
  }
  await clientsRepo.markDeleted(client, now.toISOString(), ttlAfterDays(now, DELETED_CLIENT_RETENTION_DAYS));
  return { client_id: clientId, status: 'deleted' as const, agents_deleted: deleted };
}

/**
 * New token now; the old one keeps working for the grace period (0 = revoked at once). A retry of a
 * regenerate whose answer was lost (same Idempotency-Key, after its lock expired) finds the token
 * that request issued as the current one: nobody ever saw it, so it is revoked at once rather than
 * given a grace period, and the token before it keeps the grace the first run gave it.
 */
export async function regenerateToken(clientId: string, graceSeconds: number, now: Date, idempotencyScope?: string) {
  const client = await liveClient(clientId);
  const token = generateToken();
  const unseen = idempotencyScope !== undefined && client.token_issued_by === idempotencyScope;
  const validUntil = graceSeconds > 0 && !unseen ? new Date(now.getTime() + graceSeconds * 1000).toISOString() : null;
  await clientsRepo.replaceToken(
    client,
    { hash: hashToken(token), hint: tokenHint(token), createdAt: now.toISOString(), issuedBy: idempotencyScope ?? null },
    validUntil ? { validUntil, ttl: Math.ceil(Date.parse(validUntil) / 1000) + 3600 } : null,
  );
  // The token the admin had before keeps the grace the first run gave it (from that run's time).
  const previousValidUntil =
    unseen && graceSeconds > 0 ? new Date(Date.parse(client.token_created_at) + graceSeconds * 1000).toISOString() : validUntil;
  return { client_id: clientId, token, previous_token_valid_until: previousValidUntil };
}

export async function getTokenInfo(clientId: string) {
  const client = await liveClient(clientId);
  return {
    client_id: client.id,
    client_name: client.name,
    token: null,
    token_hint: client.token_hint,
    created_at: client.token_created_at,
    message: 'tokens are shown only once; regenerate to get a new one',
  };
}

export async function validate(caller: Caller) {
  if (caller.kind === 'admin') {
    return { valid: true as const, role: 'admin' as const, client_id: null, name: null, email: null, status: null };
  }
  const client = await liveClient(caller.clientId);
  return {
    valid: true as const,
    role: 'client' as const,
    client_id: client.id,
    name: client.name,
    email: client.email,
    status: client.status,
  };
}

/** Client overview with live counts (Queries on the client's agent and instance indexes). */
export async function getClientOverview(clientId: string) {
  const client = await liveClient(clientId);
  const agents = (await agentsRepo.listAllByClient(clientId)).filter((a) => a.status !== 'deleted');
  let instancesActive = 0;
  for (const agent of agents) {
    const instances = await instancesRepo.listByAgent(agent.id);
    instancesActive += instances.filter((i) => i.role === 'PRIMARY' || i.role === 'REPLICA').length;
  }
  return {
    id: client.id,
    name: client.name,
    email: client.email,
    status: client.status,
    plan: client.plan,
    max_agents: client.max_agents,
    agents_online: agents.filter((a) => a.status === 'online' || a.status === 'switching').length,
    agents_total: agents.length,
    instances_active: instancesActive,
    total_savings: round(client.total_savings ?? 0),
    last_sync_at: client.last_sync_at,
    created_at: client.created_at,
    version: client.version,
  };
}
