/**
 * Promotions for an incident: a ready (or launched syncing) replica becomes the PRIMARY together
 * with the incident's resolution; a replica that reports ready later promotes a waiting incident.
 */
import { agentsRepo } from '../../db/agents-repo.js';
import { commandsRepo } from '../../db/commands-repo.js';
import { incidentsRepo, type ResolveFields } from '../../db/incidents-repo.js';
import { instancesRepo } from '../../db/instances-repo.js';
import { type OldPrimaryOutcome, PromotionConflict, promoteReplicaTx } from '../../db/promotion-repo.js';
import { replicasRepo } from '../../db/replicas-repo.js';
import { FINAL_COMMAND_STATUSES } from '../../domain/commands.js';
import { FINAL_OUTCOMES, type Incident } from '../../domain/incidents.js';
import { isPlaceholderId } from '../../domain/replicas.js';
import type { TxPart } from '../../db/transaction.js';
import type { Agent, Command, Replica } from '../../domain/types.js';
import { commandStatusEvent, promotionChanges } from '../../feed.js';
import { logger, MetricUnit, metrics } from '../../observability.js';
import { Outbox } from '../../outbox.js';
import { emergencyEvent, noticeNotification, Retry, withRetries } from './handling.js';

/** Whether a replica can be promoted now: ready, or syncing with a real EC2 id (API.md §3.7 step 2). */
const promotable = (r: Replica) =>
  !isPlaceholderId(r.instance_id) && (r.status === 'ready' || r.status === 'syncing');

/** Ready replicas first, then syncing ones; the longest-running first. */
export function bestPromotable(replicas: Replica[], exclude?: string): Replica | undefined {
  const candidates = replicas.filter((r) => promotable(r) && r.id !== exclude);
  return candidates.find((r) => r.status === 'ready') ?? candidates[0];
}

/** What the old PRIMARY becomes when an emergency promotes a replica (README "EC2 signals and interruption handling"). */
function oldPrimaryOutcome(incident: Incident, agent: Agent): OldPrimaryOutcome {
  if (incident.signal_type === 'instance_terminated') return { role: 'TERMINATED', confirmed: true };
  // A spot interruption that terminates the instance: it is going away anyway, so it is recorded as
  // TERMINATED (unconfirmed until EC2's state change or the agent confirms) when auto-terminate is on.
  // Stop/hibernate interruptions leave a stopped instance behind: a ZOMBIE the agent cleans up.
  const goingAway = incident.instance_action === null || incident.instance_action === 'terminate';
  return goingAway && agent.config.auto_terminate_enabled ? { role: 'TERMINATED', confirmed: false } : { role: 'ZOMBIE' };
}

/**
 * Promotes `replica` for an incident: the promotion, the incident's resolution, its open work item's
 * removal, the cancellation of the incident's still-pending switch commands and what it records
 * (the role changes, the incident's outcome when this is its first handling, the notification)
 * commit together. `extra`: parts of the caller that commit with it too (closing a related incident).
 */
export async function promoteForIncident(
  incident: Incident,
  agent: Agent,
  replica: Replica,
  now: Date,
  cancels: Command[],
  extra: TxPart[] = [],
): Promise<Incident> {
  const at = now.toISOString();
  const replicaInstance = await instancesRepo.get(replica.instance_id);
  if (replicaInstance && (replicaInstance.agent_id !== agent.id || replicaInstance.role !== 'REPLICA')) {
    throw new Retry(`replica instance ${replica.instance_id} is not this agent's REPLICA`);
  }
  const failover = Math.max(0, now.getTime() - Date.parse(incident.detected_at));
  const firstHandling = !incident.handled_at;
  const fields: ResolveFields = {
    outcome: 'promoted',
    action_taken: 'replica_promoted',
    replica_id: replica.id,
    new_instance_id: replica.instance_id,
    awaiting_replica_id: null,
    failover_time_ms: failover,
    resolved_at: at,
    message: `replica ${replica.id} (${replica.instance_id}) promoted to PRIMARY`,
    ...(firstHandling ? { handled_at: at, handling_lease_until: null } : {}),
  };
  const old = oldPrimaryOutcome(incident, agent);
  const resolved: Incident = { ...incident, ...(fields as Partial<Incident>) };
  const records = new Outbox()
    .event(
      {
        clientId: agent.client_id,
        type: 'instance_role_changed',
        data: {
          agent_id: agent.id,
          changes: promotionChanges(replica.instance_id, agent.primary_instance_id, old.role),
          reason: incident.signal_type,
          emergency_event_id: incident.id,
        },
        now,
      },
      ...cancels.map((c) => commandStatusEvent(c, 'cancelled', now)),
    )
    .notify(
      noticeNotification(
        incident,
        'warning',
        `${incident.signal_type === 'instance_terminated' ? 'Instance terminated' : 'Spot interruption'} on ${incident.instance_id}: replica ${replica.instance_id} promoted to PRIMARY in ${Math.round(failover / 1000)} s`,
        now,
        firstHandling ? 'outcome' : 'promoted',
      ),
    );
  // The outcome of a first handling is the incident's emergency_event (a later promotion of a
  // waiting incident reports the role change; the notification says it either way).
  if (firstHandling) records.event(emergencyEvent(resolved, now));
  await promoteReplicaTx({
    agent,
    replica,
    fromStatuses: ['ready', 'syncing'],
    replicaInstance,
    old,
    at,
    agentSet: { notice_status: 'none', notice_deadline: null },
    extra: [
      incidentsRepo.resolveTx(incident.id, fields, { firstHandling }),
      incidentsRepo.closeTx(incident.id),
      ...cancels.map((c) => commandsRepo.cancelTx(c, at, 'superseded: the emergency promoted a replica')),
      ...extra,
      ...records.parts(),
    ],
  });
  metrics.addMetric('ReplicaPromoted', MetricUnit.Count, 1);
  metrics.addMetric('FailoverTime', MetricUnit.Milliseconds, failover);
  await records.committed();
  return resolved;
}

/**
 * A replica reported ready: if a termination incident of the agent's PRIMARY is waiting (for this
 * replica or any), promote it now (API.md §3.6 "ready triggers a pending emergency promotion").
 * Not while the incident's switch is in flight: the agent is already moving.
 */
export async function onReplicaReady(agentId: string, replicaId: string, now: Date): Promise<Incident | undefined> {
  try {
    return await withRetries('pending promotion', null, async () => {
      const agent = await agentsRepo.get(agentId);
      if (!agent || agent.status === 'deleted' || !agent.primary_instance_id) return undefined;
      const replica = await replicasRepo.get(agentId, replicaId);
      if (!replica || !promotable(replica) || replica.status !== 'ready') return undefined;
      let incident = replica.emergency_event_id ? await incidentsRepo.get(replica.emergency_event_id) : undefined;
      if (!incident || incident.instance_id !== agent.primary_instance_id || incident.signal_type !== 'termination') {
        incident = agent.notice_status === 'termination' ? await incidentsRepo.findBySignal(agent.primary_instance_id, 'termination') : undefined;
      }
      if (!incident || FINAL_OUTCOMES.has(incident.outcome) || incident.instance_id !== agent.primary_instance_id) return undefined;
      const cancels: Command[] = [];
      if (incident.command_id) {
        const command = await commandsRepo.get(agentId, incident.command_id);
        if (command && command.status !== 'pending' && !FINAL_COMMAND_STATUSES.has(command.status)) return undefined; // switch in flight
        if (command?.status === 'pending') cancels.push(command);
      }
      return promoteForIncident(incident, agent, replica, now, cancels);
    });
  } catch (err) {
    if (err instanceof PromotionConflict || err instanceof Retry) {
      logger.warn('pending promotion gave up after repeated races', { agentId, replicaId, error: err as Error });
      return undefined;
    }
    throw err;
  }
}
