/**
 * An instance is gone (state change shutting-down/terminated, or the agent announcing the end of
 * its PRIMARY): its record becomes TERMINATED; a PRIMARY is replaced by a ready replica, or the
 * agent goes to `error` (API.md §5).
 */
import { commandsRepo } from '../../db/commands-repo.js';
import { incidentsRepo, type ResolveFields } from '../../db/incidents-repo.js';
import { instancesRepo } from '../../db/instances-repo.js';
import { replicasRepo } from '../../db/replicas-repo.js';
import type { TxPart } from '../../db/transaction.js';
import { FINAL_OUTCOMES, type Incident } from '../../domain/incidents.js';
import { isActiveReplica } from '../../domain/replicas.js';
import { agentStatusEvent, commandStatusEvent } from '../../feed.js';
import { Outbox } from '../../outbox.js';
import { replicaOfInstance } from '../replicas.js';
import { agentTx, commitHandling, noticeNotification, type Reads, recordOnly, withRetries } from './handling.js';
import { bestPromotable, promoteForIncident } from './promotion.js';
import { lostReplicaEffects } from './replica-loss.js';

export async function handleInstanceTerminated(incident: Incident, now: Date, reads: Reads): Promise<Incident> {
  const at = now.toISOString();
  return withRetries('instance terminated', reads, async () => {
    const agent = await reads.agent();
    const instance = await reads.instance();
    if (!instance) return recordOnly(incident, now, 'none', 'the instance is unknown');
    const terminated = (expect: { role?: 'PRIMARY' } = {}) =>
      instancesRepo.changeRoleTx(instance, 'TERMINATED', at, {
        expect,
        set: { terminated_at: instance.terminated_at ?? at, termination_confirmed: true },
      });
    if (!agent || agent.status === 'deleted' || agent.primary_instance_id !== instance.id) {
      const effects: TxPart[] = [];
      if (instance.role !== 'TERMINATED' || !instance.termination_confirmed) effects.push(terminated());
      let action = 'recorded';
      if (agent && instance.role === 'REPLICA') {
        const replica = await replicaOfInstance(agent.id, instance);
        if (replica && (isActiveReplica(replica) || (replica.status === 'terminated' && !replica.termination_confirmed))) {
          effects.push(...(await lostReplicaEffects(agent, replica, now, { confirmed: true })));
          action = 'replica_terminated';
        }
      }
      // The instance's termination incident (if one is still unresolved) ends with it, in the same transaction.
      return commitHandling(
        incident,
        { outcome: 'handled', action_taken: action, resolved_at: at, message: `${instance.role} instance terminated` },
        [...effects, ...(await terminationClosure(instance.id, 'handled', now))],
        now,
        { close: true },
      );
    }

    // The PRIMARY is gone: promote a ready replica, else the agent has no PRIMARY (error).
    const [replicas, pending] = await Promise.all([replicasRepo.listByAgent(agent.id), commandsRepo.listPending(agent.id, 100)]);
    const candidate = bestPromotable(replicas);
    if (candidate) {
      const closure = await terminationClosure(instance.id, 'promoted', now, { replica_id: candidate.id, new_instance_id: candidate.instance_id });
      return promoteForIncident(incident, agent, candidate, now, pending, closure);
    }
    const records = new Outbox()
      .event(agentStatusEvent(agent, agent.status, 'error', now, 'primary terminated without a ready replica'))
      .event(...pending.map((c) => commandStatusEvent(c, 'cancelled', now)))
      .notify(noticeNotification(incident, 'critical', `The PRIMARY ${instance.id} terminated and no replica was ready: agent ${agent.id} has no PRIMARY`, now));
    return commitHandling(
      incident,
      { outcome: 'no_replica', action_taken: 'agent_error', resolved_at: at, message: 'the PRIMARY terminated and no replica was ready: the agent has no PRIMARY' },
      [
        terminated({ role: 'PRIMARY' }),
        agentTx(
          agent,
          {
            status: 'error',
            primary_instance_id: null,
            instance_id: null,
            current_pool_id: null,
            notice_status: 'none',
            notice_deadline: null,
          },
          { primary: instance.id, version: agent.version },
          true,
        ),
        // Nobody is left to run them; a new instance that registers starts clean.
        ...pending.map((c) => commandsRepo.cancelTx(c, at, 'the PRIMARY terminated')),
        ...(await terminationClosure(instance.id, 'failed', now)),
      ],
      now,
      { close: true, records },
    );
  });
}

/**
 * The instance is gone: its termination incident (if one is still unresolved) ends with it — parts
 * of the handling's own transaction (a change to that incident meanwhile makes the handling re-read).
 */
async function terminationClosure(
  instanceId: string,
  outcome: 'handled' | 'promoted' | 'failed',
  now: Date,
  promoted?: { replica_id: string; new_instance_id: string },
): Promise<TxPart[]> {
  const termination = await incidentsRepo.findBySignal(instanceId, 'termination');
  if (!termination || FINAL_OUTCOMES.has(termination.outcome)) return [];
  if (outcome === 'handled' && termination.outcome === 'handled') return [];
  const fields: ResolveFields =
    outcome === 'promoted' && promoted
      ? {
          outcome: 'promoted',
          action_taken: 'replica_promoted',
          replica_id: promoted.replica_id,
          new_instance_id: promoted.new_instance_id,
          failover_time_ms: Math.max(0, now.getTime() - Date.parse(termination.detected_at)),
          resolved_at: now.toISOString(),
          awaiting_replica_id: null,
        }
      : {
          outcome: outcome === 'failed' ? 'failed' : 'handled',
          resolved_at: now.toISOString(),
          awaiting_replica_id: null,
          message: 'the instance terminated before a replica was promoted',
        };
  return [
    incidentsRepo.resolveTx(termination.id, fields, { firstHandling: false }, 'termination-incident'),
    { ...incidentsRepo.closeTx(termination.id), part: 'termination-open-incident' },
  ];
}
