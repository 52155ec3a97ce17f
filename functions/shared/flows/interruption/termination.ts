/**
 * Termination signals (a spot interruption warning, termination-imminent, create-emergency-replica
 * for a termination notice, an imminent AWS Health scheduled change): promote a replica now, else
 * queue a priority-100 emergency switch, else wait for a launching replica (API.md §3.7, §5).
 */
import { commandsRepo } from '../../db/commands-repo.js';
import { FINAL_COMMAND_STATUSES, PRIORITY } from '../../domain/commands.js';
import type { Incident } from '../../domain/incidents.js';
import { isActiveReplica } from '../../domain/replicas.js';
import type { Agent, Instance, Mode } from '../../domain/types.js';
import { commandStatusEvent } from '../../feed.js';
import { MetricUnit, metrics } from '../../observability.js';
import { Outbox } from '../../outbox.js';
import { chooseReplicaPool } from '../../placement.js';
import { replicasRepo } from '../../db/replicas-repo.js';
import { replicaOfInstance } from '../replicas.js';
import { agentTx, commitHandling, incidentSwitch, noticeNotification, type Reads, recordOnly, withRetries } from './handling.js';
import { bestPromotable, promoteForIncident } from './promotion.js';
import { lostReplicaEffects } from './replica-loss.js';

/** The emergency switch target: lowest risk, then cheapest, never the interrupted pool; on-demand when no spot pool qualifies. */
async function chooseEmergencyTarget(
  agent: Agent,
  instance: Instance,
): Promise<{ mode: Mode; pool_id: string | null; price: number | null; risk_score: number | null }> {
  const interrupted = instance.pool_id ?? (instance.id === agent.primary_instance_id ? agent.current_pool_id : null);
  const region = instance.region ?? agent.region;
  const type = instance.instance_type ?? agent.instance_type;
  const pool =
    region && type
      ? await chooseReplicaPool({
          region,
          instanceType: type,
          currentPoolId: interrupted,
          excludePoolIds: interrupted ? [interrupted] : [],
          maxRisk: agent.config.risk_threshold,
          maxPrice: instance.ondemand_price,
        })
      : null;
  return pool
    ? { mode: 'spot', pool_id: pool.pool_id, price: pool.price, risk_score: pool.risk_score }
    : { mode: 'ondemand', pool_id: null, price: instance.ondemand_price, risk_score: null };
}

export async function handleTermination(incident: Incident, now: Date, reads: Reads): Promise<Incident> {
  const at = now.toISOString();
  return withRetries('termination', reads, async () => {
    const agent = await reads.agent();
    if (!agent || agent.status === 'deleted') return recordOnly(incident, now, 'none', 'the agent is deleted');
    if (agent.primary_instance_id !== incident.instance_id) return terminationOfNonPrimary(incident, agent, now, reads);

    const instance = await reads.instance();
    if (!instance) return recordOnly(incident, now, 'none', 'the instance is unknown');
    // Independent reads: one round trip of latency.
    const [replicas, pending] = await Promise.all([replicasRepo.listByAgent(agent.id), commandsRepo.listPending(agent.id, 100)]);
    const toCancel = pending.filter((c) => c.priority < PRIORITY.emergency && c.command_type === 'switch');

    // 1. A ready (or syncing, launched) replica: promote it now.
    const candidate = bestPromotable(replicas);
    if (candidate) return promoteForIncident(incident, agent, candidate, now, toCancel);

    const waitingFor = replicas.find(isActiveReplica);
    const deadline = incident.deadline;
    const noticeSet = { notice_status: 'termination', notice_deadline: deadline };
    const canSwitch = agent.config.enabled && agent.config.auto_switch_enabled;

    // 2. No replica to promote: an emergency switch moves the agent (v4 agents only run switches).
    if (canSwitch) {
      const inflight = agent.inflight_command_id ? await commandsRepo.get(agent.id, agent.inflight_command_id) : undefined;
      const inflightSwitch = inflight && !FINAL_COMMAND_STATUSES.has(inflight.status) && inflight.command_type === 'switch' ? inflight : undefined;
      if (inflightSwitch) {
        // The agent is already executing a switch off this instance (delivered before the notice):
        // that switch IS the way out; a second one would be a second command delivered.
        const records = new Outbox()
          .event(...toCancel.map((c) => commandStatusEvent(c, 'cancelled', now)))
          .notify(noticeNotification(incident, 'warning', `Spot interruption on ${incident.instance_id}: a switch already in flight moves the agent`, now));
        return commitHandling(
          incident,
          {
            outcome: 'handled',
            action_taken: 'switch_in_flight',
            command_id: inflightSwitch.id,
            target_mode: inflightSwitch.target_mode,
            target_pool_id: inflightSwitch.target_pool_id,
            awaiting_replica_id: waitingFor?.id ?? null,
            message: `a switch (${inflightSwitch.id}) was already in flight; it moves the agent off ${incident.instance_id}`,
          },
          [
            agentTx(agent, noticeSet, { primary: incident.instance_id, inflight: inflightSwitch.id, version: agent.version }),
            ...toCancel.map((c) => commandsRepo.cancelTx(c, at, 'an emergency took over')),
            ...(waitingFor ? [replicasRepo.linkIncidentTx(waitingFor, incident.id)] : []),
          ],
          now,
          { close: !waitingFor, records },
        );
      }
      const target = await chooseEmergencyTarget(agent, instance);
      const command = incidentSwitch(
        incident,
        agent,
        target,
        'emergency',
        PRIORITY.emergency,
        `${incident.origin} on ${incident.instance_id}: emergency switch to ${target.pool_id ?? 'on-demand'}`,
        at,
      );
      const records = new Outbox()
        .event(
          commandStatusEvent(command, 'pending', now),
          ...toCancel.map((c) => commandStatusEvent(c, 'cancelled', now)),
        )
        .notify(
          noticeNotification(
            incident,
            'warning',
            `Spot interruption on ${incident.instance_id}: no replica ready, emergency switch queued to ${target.pool_id ?? 'on-demand'}`,
            now,
          ),
        );
      const result = await commitHandling(
        incident,
        {
          outcome: 'handled',
          action_taken: 'emergency_switch',
          command_id: command.id,
          target_mode: target.mode,
          target_pool_id: target.pool_id,
          risk_score: target.risk_score,
          awaiting_replica_id: waitingFor?.id ?? null,
          message: `no replica to promote: emergency switch queued to ${target.pool_id ?? 'on-demand'}`,
        },
        [
          commandsRepo.createTx(command),
          // The in-flight slot is empty as read: a delivery racing us makes this fail, and we re-read.
          agentTx(
            agent,
            { ...noticeSet, open_switch_id: command.id, open_switch_priority: command.priority },
            {
              primary: incident.instance_id,
              inflight: agent.inflight_command_id ?? null,
              version: agent.version,
              openSwitch: agent.open_switch_id ?? null,
            },
          ),
          ...toCancel.map((c) => commandsRepo.cancelTx(c, at, 'an emergency took over')),
          ...(waitingFor ? [replicasRepo.linkIncidentTx(waitingFor, incident.id)] : []),
        ],
        now,
        { close: !waitingFor, records },
      );
      if (result.command_id === command.id) {
        metrics.addMetric('EmergencyCommandQueued', MetricUnit.Count, 1);
        // A switch another route created between our read and our commit (a route that does not
        // touch the agent item) is cancelled now, before the emergency can complete: only the
        // emergency is delivered. Each cancellation commits with its feed event.
        const late = (await commandsRepo.listPending(agent.id, 100)).filter(
          (c) => c.id !== command.id && c.command_type === 'switch' && c.priority < PRIORITY.emergency,
        );
        for (const c of late) {
          const cancelled = new Outbox().event(commandStatusEvent(c, 'cancelled', now));
          if (await commandsRepo.cancel(c, at, 'an emergency took over', cancelled.parts())) await cancelled.committed();
        }
      }
      return result;
    }

    // 3. A replica is on its way: promote it as soon as it reports ready.
    if (waitingFor) {
      const records = new Outbox()
        .event(...toCancel.map((c) => commandStatusEvent(c, 'cancelled', now)))
        .notify(noticeNotification(incident, 'warning', `Spot interruption on ${incident.instance_id}: waiting for replica ${waitingFor.id}`, now));
      return commitHandling(
        incident,
        {
          outcome: 'open',
          action_taken: 'awaiting_replica',
          awaiting_replica_id: waitingFor.id,
          replica_id: waitingFor.id,
          message: `waiting for replica ${waitingFor.id} to become ready`,
        },
        [
          agentTx(agent, noticeSet, { primary: incident.instance_id, version: agent.version }),
          ...toCancel.map((c) => commandsRepo.cancelTx(c, at, 'an emergency took over')),
          replicasRepo.linkIncidentTx(waitingFor, incident.id),
        ],
        now,
        { close: false, records },
      );
    }

    // 4. Nothing can be done: critical.
    const why = !agent.config.enabled ? 'the agent is disabled' : 'auto-switch is off and there is no replica';
    return commitHandling(
      incident,
      { outcome: 'no_replica', action_taken: 'none', resolved_at: at, message: `nothing can be done: ${why}` },
      [agentTx(agent, noticeSet, { primary: incident.instance_id, version: agent.version })],
      now,
      {
        close: true,
        records: new Outbox().notify(noticeNotification(incident, 'critical', `Spot interruption on ${incident.instance_id} and nothing can be done: ${why}`, now)),
      },
    );
  });
}

/** A termination signal for an instance that is not the PRIMARY (API.md §5 table). */
async function terminationOfNonPrimary(incident: Incident, agent: Agent, now: Date, reads: Reads): Promise<Incident> {
  const instance = await reads.instance();
  if (instance?.role === 'REPLICA') {
    const replica = await replicaOfInstance(agent.id, instance);
    if (replica && isActiveReplica(replica)) {
      const effects = await lostReplicaEffects(agent, replica, now, { confirmed: false });
      return commitHandling(
        incident,
        { outcome: 'handled', action_taken: 'replica_terminated', replica_id: replica.id, resolved_at: now.toISOString(), message: 'the replica is being interrupted: marked terminated' },
        effects,
        now,
        { close: true },
      );
    }
  }
  return recordOnly(incident, now, 'recorded', `the instance is ${instance?.role ?? 'unknown'}, not the PRIMARY: recorded`);
}
