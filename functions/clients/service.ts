import { agentsRepo } from '../shared/db/agents-repo.js';
import { clientsRepo } from '../shared/db/clients-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { alertsRepo } from '../shared/db/alerts-repo.js';
import { TransactionConflict } from '../shared/db/transaction.js';
import { ConflictError, NotFoundError } from '../shared/domain/errors.js';
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
  if (client.status === 'deleting') throw new ConflictError('INVALID_TRANSITION', 'the client is being deleted');
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

/** A delete holds the client this long (past the HTTP timeout): a delete that died is resumed after it. */
const DELETE_LEASE_MS = 30_000;

/**
 * Soft delete (API.md §3.2), in three steps that each leave a consistent state:
 * 1. `deleting` + every token revoked, in one transaction (clientsRepo.beginDelete): from here no
 *    token of the client works and no agent or alert can be added (their transactions need a live client);
 * 2. the cascade: every agent deleted (commands cancelled, replicas terminated), every pricing alert
 *    removed — each step idempotent and retried when it races an agent's own writes;
 * 3. `deleted`, the name released.
 * A second delete while one holds the lease is 409; after the lease (a crash, a timeout) it resumes
 * the cascade; on a deleted client it is 404.
 */
export async function deleteClient(clientId: string, now: Date) {
  let client: Client | undefined;
  for (let attempt = 0; ; attempt++) {
    client = await clientsRepo.get(clientId);
    if (!client || client.status === 'deleted') throw new NotFoundError('client');
    const leaseUntil = new Date(now.getTime() + DELETE_LEASE_MS).toISOString();
    const outcome = await clientsRepo.beginDelete(client, now.toISOString(), leaseUntil);
    if (outcome === 'begun') break;
    const current = await clientsRepo.get(clientId);
    if (!current || current.status === 'deleted') throw new NotFoundError('client');
    if (current.status === 'deleting' || attempt >= 3) {
      throw new ConflictError('INVALID_TRANSITION', 'the client is already being deleted; retry later to resume a delete that stopped');
    }
  }
  const ttl = ttlAfterDays(now, DELETED_CLIENT_RETENTION_DAYS);
  let deleted = 0;
  for (const agent of await agentsRepo.listAllByClient(clientId)) {
    if (await deleteAgentSettled(agent.id, now, ttl)) deleted++;
  }
  await alertsRepo.deleteAllOfClient(clientId);
  await clientsRepo.finishDelete(client, now.toISOString(), ttl);
  return { client_id: clientId, status: 'deleted' as const, agents_deleted: deleted };
}

/**
 * Deletes one agent of a client being deleted, whatever it is doing meanwhile: a cascade that lost
 * a race with the agent's own writes (a command delivered, a replica moved) re-reads and tries
 * again. Returns whether this call deleted it (false: it was already deleted).
 */
async function deleteAgentSettled(agentId: string, now: Date, ttl: number): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const agent = await agentsRepo.get(agentId);
    if (!agent || agent.status === 'deleted') return false;
    try {
      await deleteAgentCascade(agent, now, { ttl });
      return true;
    } catch (err) {
      if (!(err instanceof TransactionConflict)) throw err;
    }
  }
  throw new ConflictError('VERSION_CONFLICT', 'the client\'s agents kept changing during the delete; retry the delete to resume it');
}

/**
 * New token now; the old one keeps working for the grace period (0 = revoked at once). A retry of a
 * regenerate whose answer was lost (same Idempotency-Key, after its lock expired) finds the token
 * that request issued as the current one: nobody ever saw it, so it alone is revoked at once, and
 * the tokens before it keep the grace periods the first run gave them.
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
    { keepGraceTokens: unseen },
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
