/**
 * GET /api/admin/search: clients, agents and instances by exact id or name prefix, through the
 * search index of search-repo (no Scan); agents and instances carry their client's name.
 */
import { type SearchKind, searchRepo } from '../shared/db/search-repo.js';
import type { Agent, Client, Instance } from '../shared/domain/types.js';
import { logger } from '../shared/observability.js';
import { agentView } from '../shared/views/agent.js';
import { instanceView } from '../shared/views/instance.js';
import { clientNames } from './lists.js';

export const SEARCH_LIMIT = 20;

const clientSearchView = (c: Client) => ({
  id: c.id,
  name: c.name,
  email: c.email ?? null,
  plan: c.plan ?? null,
  status: c.status,
  created_at: c.created_at,
});

/** Exact id first, then prefix matches from the search index, verified against the entity itself. */
const searchKind = (kind: SearchKind, q: string) =>
  searchRepo.find(kind, q, SEARCH_LIMIT, (err) => logger.warn('search cleanup failed', { error: err as Error }));

export async function search(q: string, types: Array<'clients' | 'instances' | 'agents'> | undefined) {
  const wanted = new Set(types ?? ['clients', 'instances', 'agents']);
  const [clients, agents, instances] = await Promise.all([
    wanted.has('clients') ? searchKind('client', q) : Promise.resolve([]),
    wanted.has('agents') ? searchKind('agent', q) : Promise.resolve([]),
    wanted.has('instances') ? searchKind('instance', q) : Promise.resolve([]),
  ]);
  const names = await clientNames([...agents, ...instances].map((i) => String(i.client_id)));
  return {
    query: q,
    results: {
      clients: clients.map((c) => clientSearchView(c as unknown as Client)),
      agents: agents.map((a) => ({ ...agentView(a as unknown as Agent), client_name: names.get(String(a.client_id)) ?? null })),
      instances: instances.map((i) => ({ ...instanceView(i as unknown as Instance), client_name: names.get(String(i.client_id)) ?? null })),
    },
  };
}
