/**
 * A replica is lost (interrupted, terminated, failed, deleted): what changes with it, for the
 * interruption flows, the replica routes and the reconciler.
 */
import { agentsRepo } from '../../db/agents-repo.js';
import { incidentsRepo } from '../../db/incidents-repo.js';
import { replicasRepo } from '../../db/replicas-repo.js';
import type { TxPart } from '../../db/transaction.js';
import { FINAL_OUTCOMES } from '../../domain/incidents.js';
import { isActiveReplica, isPlaceholderId } from '../../domain/replicas.js';
import type { Agent, Replica } from '../../domain/types.js';
import { placeholderReplica } from '../replicas.js';
import { bestPromotable } from './promotion.js';

/**
 * A replica is lost (interrupted, terminated, failed, deleted): it is marked terminated (confirmed
 * when it is known to be gone) or failed, manual mode gets a replacement placeholder (committed
 * with a check-and-bump of the agent's version, so there is never more than one), and an incident
 * that was waiting for it waits for another replica instead (API.md §5: "a waiting emergency picks
 * another replica"). Returns the transaction items; the first one is the replica's own, version-checked.
 */
export async function lostReplicaEffects(
  agent: Agent,
  replica: Replica,
  now: Date,
  options: { status?: 'terminated' | 'failed'; confirmed: boolean; replace?: boolean; terminatedAt?: string },
): Promise<TxPart[]> {
  return (await lostReplicaPlan(agent, replica, now, options)).items;
}

export async function lostReplicaPlan(
  agent: Agent,
  replica: Replica,
  now: Date,
  options: { status?: 'terminated' | 'failed'; confirmed: boolean; replace?: boolean; terminatedAt?: string },
): Promise<{ items: TxPart[]; replacement?: Replica }> {
  const at = now.toISOString();
  const status = options.status ?? 'terminated';
  const wasActive = isActiveReplica(replica);
  const items: TxPart[] = [
    replicasRepo.saveTx(
      {
        ...replica,
        status,
        is_active: false,
        terminated_at: status === 'terminated' ? (replica.terminated_at ?? options.terminatedAt ?? at) : replica.terminated_at,
        termination_confirmed: status === 'terminated' ? options.confirmed || isPlaceholderId(replica.instance_id) : replica.termination_confirmed,
      },
      replica.version,
    ),
  ];
  const replacement =
    wasActive && (options.replace ?? true) && replica.type === 'manual' && agent.config.manual_replica_enabled && agent.status !== 'deleted'
      ? await placeholderReplica(agent, 'manual', at)
      : undefined;
  if (wasActive && replica.emergency_event_id) {
    const waiting = await incidentsRepo.get(replica.emergency_event_id);
    if (waiting && waiting.awaiting_replica_id === replica.id && !FINAL_OUTCOMES.has(waiting.outcome)) {
      // A waiting emergency picks another replica (API.md §5), or the replacement.
      const others = (await replicasRepo.listByAgent(agent.id)).filter((r) => r.id !== replica.id && isActiveReplica(r));
      const next = bestPromotable(others) ?? others[0] ?? replacement;
      items.push(incidentsRepo.resolveTx(waiting.id, { awaiting_replica_id: next?.id ?? null }, { firstHandling: false }));
      if (next && next === replacement) replacement.emergency_event_id = waiting.id;
      else if (next) items.push(replicasRepo.linkIncidentTx(next, waiting.id));
    }
  }
  if (replacement) items.push(replicasRepo.createTx(replacement), agentsRepo.versionGuardTx(agent));
  return { items, replacement };
}
