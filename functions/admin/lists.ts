/**
 * The admin lists (API.md §3.3): clients, instances, agents and activity, each a page of one
 * documented index with its filters applied by DynamoDB (admin-repo), plus the client names.
 */
import { adminRepo } from '../shared/db/admin-repo.js';
import { clientsRepo } from '../shared/db/clients-repo.js';
import { ValidationError } from '../shared/domain/errors.js';
import { round } from '../shared/domain/numbers.js';
import type { AgentStatus, Client, Instance, InstanceRole } from '../shared/domain/types.js';
import { mapLimit } from '../shared/concurrency.js';
import { agentView } from '../shared/views/agent.js';
import { instanceView } from '../shared/views/instance.js';

/** `client_name` of each client id (one BatchGet for a page). */
export const clientNames = (ids: string[]) => clientsRepo.names(ids);

// ---- GET /api/admin/clients ----

export async function listClients(query: { status?: Client['status']; limit: number; nextToken?: string }) {
  const filter = query.status ? { statuses: [query.status] } : { notDeleted: true };
  const page = await adminRepo.clientsPage(query.limit, query.nextToken, filter);
  const clients = await mapLimit(page.items, 8, async (c) => {
    const fleet = await adminRepo.clientFleet(c as Client & { agents_live?: number });
    return {
      id: c.id,
      name: c.name,
      email: c.email ?? null,
      status: c.status,
      plan: c.plan ?? null,
      ...fleet,
      total_savings: round(Number(c.total_savings ?? 0)),
      last_sync_at: c.last_sync_at ?? null,
      created_at: c.created_at,
    };
  });
  return { clients, nextToken: page.nextToken };
}

// ---- GET /api/admin/activity ----

const activityView = (n: Record<string, unknown>) => ({
  id: String(n.id),
  type: String(n.type),
  severity: n.severity as string,
  message: String(n.message ?? ''),
  client_id: (n.client_id as string | null | undefined) ?? null,
  agent_id: (n.agent_id as string | null | undefined) ?? null,
  created_at: String(n.created_at),
});

/** Recent system events (every notification, newest first; GSI3 `ACTIVITY`, or one client's GSI1). */
export async function listActivity(query: { type?: string; client_id?: string; limit: number; nextToken?: string }) {
  const page = await adminRepo.notificationsPage(
    query.client_id ? { clientId: query.client_id } : 'all',
    query.limit,
    query.nextToken,
    query.type ? { type: query.type } : undefined,
  );
  return { events: page.items.map(activityView), nextToken: page.nextToken };
}

// ---- GET /api/admin/instances ----

const ROLES_OF_STATUS: Record<string, InstanceRole[]> = {
  active: ['PRIMARY', 'REPLICA'],
  zombie: ['ZOMBIE'],
  terminated: ['TERMINATED'],
  all: ['PRIMARY', 'REPLICA', 'ZOMBIE', 'TERMINATED'],
};

/** The list token spans role partitions: which partition, and the token inside it. */
interface RoleToken {
  r: number;
  t: string | null;
}

function decodeRoleToken(token: string | undefined): RoleToken {
  if (!token) return { r: 0, t: null };
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as RoleToken;
    if (!Number.isInteger(parsed.r) || parsed.r < 0 || parsed.r > 3 || (parsed.t !== null && typeof parsed.t !== 'string')) {
      throw new Error('bad token');
    }
    return parsed;
  } catch {
    throw new ValidationError('nextToken is not valid', [{ field: 'query.nextToken', issue: 'invalid' }], 'INVALID_NEXT_TOKEN');
  }
}

const encodeRoleToken = (t: RoleToken): string => Buffer.from(JSON.stringify(t)).toString('base64url');

export async function listInstances(query: {
  status?: 'active' | 'zombie' | 'terminated' | 'all';
  mode?: 'spot' | 'ondemand';
  region?: string;
  client_id?: string;
  limit: number;
  nextToken?: string;
}) {
  const roles = ROLES_OF_STATUS[query.status ?? 'all'] ?? [];
  const filter = { ...(query.mode ? { mode: query.mode } : {}), ...(query.region ? { region: query.region } : {}) };
  let items: Instance[] = [];
  let nextToken: string | null;
  if (query.client_id) {
    const page = await adminRepo.instancesPage({ clientId: query.client_id }, query.limit, query.nextToken, { ...filter, roles });
    items = page.items;
    nextToken = page.nextToken;
  } else {
    // Role partitions one after the other; the token remembers the partition and the position in it.
    let position = decodeRoleToken(query.nextToken);
    while (position.r < roles.length && items.length < query.limit) {
      const role = roles[position.r] as InstanceRole;
      const page = await adminRepo.instancesPage({ role }, query.limit - items.length, position.t ?? undefined, filter);
      items.push(...page.items.filter((i) => i.role === role));
      position = page.nextToken ? { r: position.r, t: page.nextToken } : { r: position.r + 1, t: null };
    }
    nextToken = position.r < roles.length ? encodeRoleToken(position) : null;
  }
  const names = await clientNames(items.map((i) => i.client_id));
  return {
    instances: items.map((i) => ({ ...instanceView(i), client_name: names.get(i.client_id) ?? null })),
    nextToken,
  };
}

// ---- GET /api/admin/agents ----

export async function listAgents(query: { status?: AgentStatus; client_id?: string; limit: number; nextToken?: string }) {
  const filter = query.status ? { statuses: [query.status] } : { notDeleted: true };
  const page = await adminRepo.agentsPage(query.limit, query.nextToken, filter, query.client_id);
  const names = await clientNames(page.items.map((a) => a.client_id));
  return {
    agents: page.items.map((a) => ({ ...agentView(a), client_name: names.get(a.client_id) ?? null })),
    nextToken: page.nextToken,
  };
}
