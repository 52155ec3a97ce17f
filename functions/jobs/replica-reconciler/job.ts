import { handleIncident } from '../../shared/flows/interruption/intake.js';
import { onReplicaReady } from '../../shared/flows/interruption/promotion.js';
import { lostReplicaPlan } from '../../shared/flows/interruption/replica-loss.js';
import { placeholderReplica } from '../../shared/flows/replicas.js';
import { agentsRepo } from '../../shared/db/agents-repo.js';
import { incidentsRepo } from '../../shared/db/incidents-repo.js';
import { replicasRepo } from '../../shared/db/replicas-repo.js';
import { TransactionConflict, transact } from '../../shared/db/transaction.js';
import { FINAL_OUTCOMES, type Incident, REBALANCE_WINDOW_SECONDS } from '../../shared/domain/incidents.js';
import { isActiveReplica, isPlaceholderId } from '../../shared/domain/replicas.js';
import type { JobSummary } from '../../shared/jobs/create-job-handler.js';
import { logger } from '../../shared/observability.js';

/** A placeholder not launched within 10 min is stuck (API.md §6). */
export const STUCK_LAUNCHING_SECONDS = 10 * 60;
/** An unconfirmed termination is confirmed after 24 h (API.md §4.2). */
export const UNCONFIRMED_SECONDS = 24 * 3600;
/** An incident still waiting this long after its deadline has failed: the instance is gone. */
export const DEADLINE_GRACE_SECONDS = 10 * 60;

const ago = (now: Date, seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();

/**
 * replica-reconciler (API.md §6, every minute). Idempotent; each step reads through a documented
 * key or sparse index and writes with conditions, so it is safe next to the request paths:
 *  1. open incidents: take over ones nobody handled (handler crashed), run pending promotions
 *     (awaited replica now ready), re-point to another replica when the awaited one is gone,
 *     close them once the deadline has long passed;
 *  2. manual-mode agents keep exactly one active replica (created with the agent-version guard);
 *  3. placeholders stuck launching > 10 min: failed, and recreated while still wanted;
 *  4. terminations unconfirmed > 24 h: confirmed.
 */
export async function reconcileReplicas(
  now: Date,
  /** Limits the run to some agents (tests share one table; production reconciles everything). */
  scope: { agentIds?: ReadonlySet<string> } = {},
): Promise<JobSummary> {
  const inScope = (agentId: string) => !scope.agentIds || scope.agentIds.has(agentId);
  const summary = {
    incidents_checked: 0,
    incidents_taken_over: 0,
    pending_promotions: 0,
    incidents_closed: 0,
    notices_cleared: 0,
    manual_replicas_created: 0,
    stuck_placeholders: 0,
    placeholders_recreated: 0,
    terminations_confirmed: 0,
    errors: 0,
  };
  const guard = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      summary.errors++;
      logger.error(`replica-reconciler: ${what} failed`, { error: err as Error });
    }
  };

  // 1. Open incidents.
  for (const marker of (await incidentsRepo.listOpen()).filter((m) => inScope(m.agent_id))) {
    summary.incidents_checked++;
    await guard(`incident ${marker.incident_id}`, async () => {
      const incident = await incidentsRepo.get(marker.incident_id);
      if (!incident || FINAL_OUTCOMES.has(incident.outcome)) {
        await incidentsRepo.close(marker.incident_id);
        summary.incidents_closed++;
        return;
      }
      if (!incident.handled_at) {
        const claimed = await incidentsRepo.claimHandling(incident.id, now);
        if (claimed) {
          await handleIncident(claimed, now);
          summary.incidents_taken_over++;
        }
        return;
      }
      if (await runPendingPromotion(incident, now)) {
        summary.pending_promotions++;
        return;
      }
      const agent = await agentsRepo.get(incident.agent_id);
      const moved = !agent || agent.status === 'deleted' || agent.primary_instance_id !== incident.instance_id;
      if (incident.signal_type === 'rebalance') {
        // A rebalance notice lasts its 2 h window (or until the PRIMARY moved on).
        if (!moved && incident.detected_at > ago(now, REBALANCE_WINDOW_SECONDS)) return;
        if (agent && !moved && agent.notice_status === 'rebalance') {
          // (The notice changed meanwhile: it is left alone.)
          await agentsRepo.clearRebalanceNotice(agent.id, incident.instance_id);
          summary.notices_cleared++;
        }
        await incidentsRepo.close(incident.id);
        summary.incidents_closed++;
        return;
      }
      const deadlineOver = incident.deadline !== null && incident.deadline < ago(now, DEADLINE_GRACE_SECONDS);
      if (moved || deadlineOver || incident.signal_type !== 'termination') {
        await closeIncident(incident, moved ? 'handled' : 'failed', now);
        summary.incidents_closed++;
      }
    });
  }

  // 2. Manual mode keeps exactly one active replica.
  for (const listed of (await replicasRepo.listManualModeAgents()).filter((a) => inScope(a.id))) {
    await guard(`manual replica of ${listed.id}`, async () => {
      const agent = await agentsRepo.get(listed.id);
      if (!agent || agent.status === 'deleted' || !agent.config.manual_replica_enabled) return;
      const replicas = await replicasRepo.listByAgent(agent.id);
      if (replicas.some((r) => isActiveReplica(r) && r.type === 'manual')) return;
      const placeholder = await placeholderReplica(agent, 'manual', now.toISOString());
      if (!placeholder.pool_id) return; // no pool known yet: nothing the agent could launch
      try {
        await transact([replicasRepo.createTx(placeholder), agentsRepo.versionGuardTx(agent)]);
        summary.manual_replicas_created++;
      } catch (err) {
        if (!(err instanceof TransactionConflict)) throw err; // the agent changed meanwhile: next run decides again
      }
    });
  }

  // 3. Placeholders stuck launching.
  for (const stuck of (await replicasRepo.listStuckLaunching(ago(now, STUCK_LAUNCHING_SECONDS))).filter((r) => inScope(r.agent_id))) {
    await guard(`stuck placeholder ${stuck.id}`, async () => {
      const replica = await replicasRepo.get(stuck.agent_id, stuck.id);
      if (!replica || replica.status !== 'launching' || !isPlaceholderId(replica.instance_id)) return;
      summary.stuck_placeholders++;
      const agent = await agentsRepo.get(replica.agent_id);
      const failed = { ...replica, error_message: 'not launched within 10 minutes' };
      if (!agent || agent.status === 'deleted') {
        await replicasRepo.save({ ...failed, status: 'failed', is_active: false }, replica.version);
        return;
      }
      // Manual replicas are replaced by the plan itself; an automatic one only while its notice lasts.
      const plan = await lostReplicaPlan(agent, failed, now, { status: 'failed', confirmed: true });
      const stillWanted = replica.type !== 'manual' && agent.notice_status !== 'none' && agent.config.auto_switch_enabled;
      const recreated = stillWanted ? await placeholderReplica(agent, replica.type, now.toISOString()) : undefined;
      if (recreated?.pool_id) {
        recreated.emergency_event_id = replica.emergency_event_id;
        plan.items.push(replicasRepo.createTx(recreated, 'recreated-replica'));
      }
      try {
        await transact(plan.items);
      } catch (err) {
        if (!(err instanceof TransactionConflict)) throw err;
        return;
      }
      if (plan.replacement || recreated?.pool_id) summary.placeholders_recreated++;
      if (recreated?.pool_id && replica.emergency_event_id) {
        await transact([
          incidentsRepo.resolveTx(replica.emergency_event_id, { awaiting_replica_id: recreated.id }, { firstHandling: false }),
        ]).catch((e: unknown) => {
          if (!(e instanceof TransactionConflict)) throw e;
        });
      }
    });
  }

  // 4. Terminations nobody confirmed within 24 h.
  for (const listed of (await replicasRepo.listUnconfirmed(ago(now, UNCONFIRMED_SECONDS))).filter((r) => inScope(r.agent_id))) {
    await guard(`unconfirmed termination ${listed.id}`, async () => {
      const replica = await replicasRepo.get(listed.agent_id, listed.id);
      if (!replica) return;
      // Saving also drops the replica from the sparse index (a writer that confirmed it elsewhere may have left it there).
      await replicasRepo.save({ ...replica, termination_confirmed: true }, replica.version);
      summary.terminations_confirmed++;
    });
  }
  return summary;
}

/** The awaited replica (or any) of an open termination incident is ready: promote it. */
async function runPendingPromotion(incident: Incident, now: Date): Promise<boolean> {
  if (incident.signal_type !== 'termination') return false;
  const replicas = await replicasRepo.listByAgent(incident.agent_id);
  const ready =
    replicas.find((r) => r.id === incident.awaiting_replica_id && r.status === 'ready') ??
    replicas.find((r) => r.status === 'ready' && !isPlaceholderId(r.instance_id));
  if (!ready) return false;
  const promoted = await onReplicaReady(incident.agent_id, ready.id, now);
  return promoted?.outcome === 'promoted';
}

async function closeIncident(incident: Incident, outcome: 'handled' | 'failed', now: Date): Promise<void> {
  const final = incident.outcome === 'handled' ? 'handled' : outcome;
  try {
    await transact([
      incidentsRepo.resolveTx(
        incident.id,
        {
          outcome: final,
          awaiting_replica_id: null,
          resolved_at: incident.resolved_at ?? now.toISOString(),
          ...(final === 'failed' ? { message: 'no replica became ready before the instance went away' } : {}),
        },
        { firstHandling: false },
      ),
      incidentsRepo.closeTx(incident.id),
    ]);
  } catch (err) {
    if (!(err instanceof TransactionConflict)) throw err;
  }
}
