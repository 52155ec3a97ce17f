/**
 * Intake of every report of an interruption (API.md §3.7, §5): the EC2 events consumer, the
 * agent's emergency routes, the termination announcement and the replica-reconciler all report
 * here.
 *
 * One incident per (instance, signal): every report opens-or-attaches through one conditional
 * transaction (incidents-repo.openOrAttach). Exactly one caller creates it and applies its effects
 * (termination.ts, rebalance.ts, instance-terminated.ts) under a handling lease that a later report
 * or the reconciler takes over when the handler died; the effects commit in one transaction with
 * the incident's `handled_at` (handling.ts) — so however many times and in whatever order the
 * reports arrive, there is one incident, one command, one notification.
 */
import { incidentsRepo } from '../../db/incidents-repo.js';
import { HANDLING_LEASE_SECONDS, type Incident, type IncidentSource, type SignalType } from '../../domain/incidents.js';
import { newId } from '../../domain/ids.js';
import type { Agent, Instance } from '../../domain/types.js';
import { logger, MetricUnit, metrics } from '../../observability.js';
import { firstReads, type Preloaded } from './handling.js';
import { handleInstanceTerminated } from './instance-terminated.js';
import { handleRebalance } from './rebalance.js';
import { handleTermination } from './termination.js';

/** An agent report waits this long for a concurrent first handler before answering with the current state. */
const WAIT_FOR_HANDLER_MS = 3_000;

export interface SignalReport {
  instance: Instance;
  /** The owning agent when the caller just read it (saves a read on the first handling attempt). */
  agent?: Agent;
  signal: SignalType;
  source: IncidentSource;
  /** What reported it first (`spot-interruption-warning`, `termination-imminent`, …). */
  origin: string;
  eventId?: string | null;
  detectedAt: string;
  deadline: string | null;
  instanceAction?: string | null;
}

export interface SignalResult {
  incident: Incident;
  created: boolean;
}

/**
 * Opens (or attaches to) the incident of a report and, for the report that created it, applies its
 * effects. A report that finds an incident nobody handled (its handler died: lease expired) takes
 * it over. With `waitForHandling`, a report that attached while another invocation is handling
 * waits for it briefly, so the agent receives the real outcome.
 */
export async function reportSignal(
  report: SignalReport,
  now: Date,
  options: { waitForHandling?: boolean } = {},
): Promise<SignalResult> {
  const { instance } = report;
  const draft: Incident = {
    id: newId(),
    agent_id: instance.agent_id,
    client_id: instance.client_id,
    instance_id: instance.id,
    signal_type: report.signal,
    sources: [report.source],
    detected_at: report.detectedAt,
    deadline: report.deadline,
    action_taken: null,
    replica_id: null,
    command_id: null,
    outcome: 'open',
    failover_time_ms: null,
    resolved_at: null,
    instance_role: instance.role,
    instance_action: report.instanceAction ?? null,
    origin: report.origin,
    event_ids: report.eventId ? [report.eventId] : [],
    reports: 1,
    handled_at: null,
    handling_lease_until: new Date(now.getTime() + HANDLING_LEASE_SECONDS * 1000).toISOString(),
    awaiting_replica_id: null,
    target_pool_id: null,
    target_mode: null,
    new_instance_id: null,
    risk_score: null,
    message: null,
    created_at: now.toISOString(),
    version: 1,
  };
  const { created, incident } = await incidentsRepo.openOrAttach(
    draft,
    { source: report.source, eventId: report.eventId ?? null, deadline: report.deadline },
    now,
  );
  metrics.addMetric(created ? 'IncidentOpened' : 'IncidentReportMerged', MetricUnit.Count, 1);
  logger.info(created ? 'incident opened' : 'report merged into incident', {
    incidentId: incident.id,
    signal: incident.signal_type,
    instanceId: incident.instance_id,
    source: report.source,
  });
  if (created) {
    const preloaded = report.agent?.id === instance.agent_id ? { agent: report.agent, instance } : { instance };
    return { created, incident: await handleIncident(incident, now, preloaded) };
  }
  if (incident.handled_at) return { created, incident };
  return { created, incident: await awaitOrTakeOver(incident, now, options.waitForHandling ?? false) };
}

async function awaitOrTakeOver(incident: Incident, now: Date, wait: boolean): Promise<Incident> {
  const started = Date.now();
  const clock = () => new Date(now.getTime() + (Date.now() - started));
  let current = incident;
  for (;;) {
    if (!current.handling_lease_until || current.handling_lease_until < clock().toISOString()) {
      const claimed = await incidentsRepo.claimHandling(current.id, clock());
      if (claimed) {
        logger.warn('taking over an incident nobody handled', { incidentId: current.id });
        return handleIncident(claimed, now);
      }
    }
    if (!wait || Date.now() - started > WAIT_FOR_HANDLER_MS) return current;
    await new Promise((r) => setTimeout(r, 40));
    const fresh = await incidentsRepo.get(current.id);
    if (!fresh) return current;
    if (fresh.handled_at) return fresh;
    current = fresh;
  }
}

/**
 * Applies an unhandled incident's effects (the caller holds its handling lease). Its feed events
 * (the emergency_event of its outcome) and notification commit with the effects (handling.ts).
 */
export async function handleIncident(incident: Incident, now: Date, preloaded: Preloaded = {}): Promise<Incident> {
  const state = firstReads(incident, preloaded);
  const handled =
    incident.signal_type === 'termination'
      ? await handleTermination(incident, now, state)
      : incident.signal_type === 'rebalance'
        ? await handleRebalance(incident, now, state)
        : await handleInstanceTerminated(incident, now, state);
  metrics.addMetric('IncidentHandled', MetricUnit.Count, 1);
  // Event → command: from the signal's own time (EventBridge `time`, or the agent's report) to now.
  if (handled.command_id) {
    metrics.addMetric('InterruptionCommandLatency', MetricUnit.Milliseconds, Math.max(0, Date.now() - Date.parse(handled.detected_at)));
  }
  return handled;
}
