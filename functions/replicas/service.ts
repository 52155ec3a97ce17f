import { CLEANUP_GRACE_SECONDS, loadAgent } from '../agents/access.js';
import { ACTIVE_REPLICA_STATUSES, replicasRepo } from '../shared/db/replicas-repo.js';
import type { Caller, Replica } from '../shared/domain/types.js';
import { replicaView } from './views.js';

/** A terminated replica is reported unconfirmed for 24 h at most (API.md §4.2). */
const UNCONFIRMED_TERMINATION_SECONDS = 24 * 3600;

/**
 * GET /api/agents/{aid}/replicas (AGENT WIRE CONTRACT, polled every 30 s with ?status=launching and
 * ?status=terminated). No status: the active replicas; `terminated`: terminations not yet confirmed.
 */
export async function listReplicas(
  caller: Caller,
  agentId: string,
  query: { status?: string; include_terminated?: boolean },
  now: Date,
) {
  const agent = await loadAgent(caller, agentId, { allowDeletedForSeconds: CLEANUP_GRACE_SECONDS, now });
  const all = await replicasRepo.listByAgent(agent.id);
  const unconfirmed = (r: Replica) =>
    r.status === 'terminated' &&
    !r.termination_confirmed &&
    now.getTime() - Date.parse(r.terminated_at ?? r.created_at) <= UNCONFIRMED_TERMINATION_SECONDS * 1000;
  let selected: Replica[];
  if (!query.status) {
    selected = all.filter((r) => ACTIVE_REPLICA_STATUSES.has(r.status) || (query.include_terminated && r.status === 'terminated'));
  } else if (query.status === 'terminated') {
    selected = all.filter(unconfirmed);
  } else if (query.status === 'launching') {
    selected = all.filter((r) => r.status === 'launching' && r.instance_id.startsWith('replica-'));
  } else {
    selected = all.filter((r) => r.status === query.status);
  }
  return { replicas: selected.map((r) => replicaView(r, now)), total: selected.length };
}
