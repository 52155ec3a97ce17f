/**
 * The interruption flows shared by the EC2 events consumer, the agent's emergency routes, the
 * termination announcement and the replica-reconciler (API.md §3.7, §5; issue 3).
 *
 * One incident per (instance, signal): every report opens-or-attaches through one conditional
 * transaction (incidents-repo.openOrAttach). Exactly one caller creates it and applies its effects;
 * the effects commit in one transaction with the incident's `handled_at`, conditioned on it being
 * unset, and every id they write is derived from the incident id — so however many times and in
 * whatever order the reports arrive, there is one incident, one command, one notification.
 */
import { placeholderReplica } from '../agents/service.js';
import { switchLimitReached } from '../commands/switching.js';
import { type AgentGuard, agentsRepo } from '../shared/db/agents-repo.js';
import { commandsRepo } from '../shared/db/commands-repo.js';
import { incidentsRepo, type ResolveFields } from '../shared/db/incidents-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { type OldPrimaryOutcome, PromotionConflict, promoteReplicaTx } from '../shared/db/promotion-repo.js';
import { ACTIVE_REPLICA_STATUSES, isPlaceholderId, replicasRepo } from '../shared/db/replicas-repo.js';
import { TransactionConflict, transact, type TxPart } from '../shared/db/transaction.js';
import { addSeconds, FINAL_COMMAND_STATUSES, PRIORITY, pendingLifetimeSeconds } from '../shared/domain/commands.js';
import { newId } from '../shared/domain/ids.js';
import {
  effectiveRebalancePolicy,
  FINAL_OUTCOMES,
  HANDLING_LEASE_SECONDS,
  type Incident,
  type IncidentSource,
  type SignalType,
} from '../shared/domain/incidents.js';
import { dedupeId } from '../shared/domain/notifications.js';
import type { Agent, Command, Instance, Mode, Replica, TriggerType } from '../shared/domain/types.js';
import { type FeedEventInput, publishEvent, publishEvents } from '../shared/feed.js';
import { notify } from '../shared/notify.js';
import { logger, MetricUnit, metrics } from '../shared/observability.js';
import { chooseReplicaPool, poolsOfType } from '../shared/placement.js';

const MAX_ATTEMPTS = 5;
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

/** Whether a replica can be promoted now: ready, or syncing with a real EC2 id (API.md §3.7 step 2). */
const promotable = (r: Replica) =>
  !isPlaceholderId(r.instance_id) && (r.status === 'ready' || r.status === 'syncing');
const active = (r: Replica) => ACTIVE_REPLICA_STATUSES.has(r.status);

/** Ready replicas first, then syncing ones; the longest-running first. */
function bestPromotable(replicas: Replica[], exclude?: string): Replica | undefined {
  const candidates = replicas.filter((r) => promotable(r) && r.id !== exclude);
  return candidates.find((r) => r.status === 'ready') ?? candidates[0];
}

class Retry extends Error {}

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

interface Preloaded {
  agent?: Agent;
  instance?: Instance;
}

/**
 * Reads of the agent and the instance: the first attempt may use what the caller read a moment
 * ago (every write is conditioned, so a stale read only costs a retry); retries read afresh.
 */
function firstReads(incident: Incident, preloaded: Preloaded) {
  let attempt = 0;
  return {
    next() {
      attempt++;
    },
    async agent(): Promise<Agent | undefined> {
      return attempt === 0 && preloaded.agent ? preloaded.agent : agentsRepo.get(incident.agent_id);
    },
    async instance(): Promise<Instance | undefined> {
      return attempt === 0 && preloaded.instance ? preloaded.instance : instancesRepo.get(incident.instance_id);
    },
  };
}
type Reads = ReturnType<typeof firstReads>;

/** Applies an unhandled incident's effects (the caller holds its handling lease). */
export async function handleIncident(incident: Incident, now: Date, preloaded: Preloaded = {}): Promise<Incident> {
  const state = firstReads(incident, preloaded);
  // The handling's feed events go out with its emergency_event, in one BatchWrite (on a failure,
  // those already due are published before the error propagates).
  const feed: FeedEventInput[] = [];
  let handled: Incident;
  try {
    handled =
      incident.signal_type === 'termination'
        ? await handleTermination(incident, now, state, feed)
        : incident.signal_type === 'rebalance'
          ? await handleRebalance(incident, now, state, feed)
          : await handleInstanceTerminated(incident, now, state, feed);
  } catch (err) {
    await publishEvents(feed);
    throw err;
  }
  metrics.addMetric('IncidentHandled', MetricUnit.Count, 1);
  await publishEvents([...feed, {
    clientId: handled.client_id,
    type: 'emergency_event',
    data: {
      emergency_event_id: handled.id,
      agent_id: handled.agent_id,
      instance_id: handled.instance_id,
      signal_type: handled.signal_type,
      outcome: handled.outcome,
      action_taken: handled.action_taken,
      command_id: handled.command_id,
      replica_id: handled.replica_id,
    },
    now,
  }]);
  return handled;
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** The agent's notice fields, conditioned on what was read (its PRIMARY, version, in-flight and open-switch slots). */
const agentTx = (agent: Agent, set: Record<string, unknown>, guard: AgentGuard, leaveHeartbeatIndex = false): TxPart =>
  agentsRepo.updateTx(agent.id, { set, guard, leaveHeartbeatIndex });

/**
 * Commits a first handling: the effects and the incident's resolution in one transaction,
 * conditioned on the incident being unhandled. Returns the resolved incident, or the incident as
 * another handler left it; throws Retry when an effect's condition failed (state moved: re-read).
 */
async function commitHandling(
  incident: Incident,
  fields: ResolveFields,
  effects: TxPart[],
  now: Date,
  options: { close: boolean },
): Promise<Incident> {
  const at = now.toISOString();
  const resolution: ResolveFields = { ...fields, handled_at: at, handling_lease_until: null };
  try {
    await transact([
      incidentsRepo.resolveTx(incident.id, resolution, { firstHandling: true }),
      ...effects,
      ...(options.close ? [incidentsRepo.closeTx(incident.id)] : []),
    ]);
  } catch (err) {
    if (!(err instanceof TransactionConflict)) throw err;
    const fresh = await incidentsRepo.get(incident.id);
    if (fresh?.handled_at) return fresh; // someone else handled it: their effects stand
    throw new Retry(`handling of ${incident.id} lost a race (${err.message})`);
  }
  return { ...incident, ...(resolution as Partial<Incident>), version: incident.version + 1 };
}

/** Runs `attempt` until it stops losing races (state re-read each time). */
async function withRetries<T>(what: string, reads: Pick<Reads, 'next'> | null, attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof Retry || err instanceof PromotionConflict) || i >= MAX_ATTEMPTS - 1) throw err;
      logger.info(`${what}: retrying after a lost race`, { reason: (err as Error).message });
      reads?.next();
    }
  }
}

const noticeNotification = async (incident: Incident, severity: 'info' | 'warning' | 'critical', message: string, now: Date) => {
  await notify({
    clientId: incident.client_id,
    type: `emergency_${incident.signal_type}`,
    severity,
    message,
    agentId: incident.agent_id,
    dedupeKey: `incident:${incident.id}:outcome`,
    now,
  });
};

/** The emergency switch target: lowest risk, then cheapest, never the interrupted pool; on-demand when no spot pool qualifies. */
export async function chooseEmergencyTarget(
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

/** A switch command whose id derives from the incident: however often it is written, it exists once. */
function incidentSwitch(
  incident: Incident,
  agent: Agent,
  target: { mode: Mode; pool_id: string | null },
  trigger: TriggerType,
  priority: number,
  reason: string,
  at: string,
): Command {
  return {
    id: dedupeId(`incident:${incident.id}:switch`),
    agent_id: agent.id,
    client_id: agent.client_id,
    instance_id: incident.instance_id,
    command_type: 'switch',
    target_mode: target.mode,
    target_pool_id: target.pool_id,
    replica_id: null,
    terminate_wait_seconds: agent.config.auto_terminate_enabled ? Math.max(1, agent.config.terminate_wait_seconds) : 0,
    priority,
    status: 'pending',
    trigger_type: trigger,
    created_by: `system:${incident.signal_type}`,
    reason,
    created_at: at,
    delivered_at: null,
    completed_at: null,
    expires_at: addSeconds(at, pendingLifetimeSeconds(trigger)),
    success: null,
    message: null,
    version: 1,
  };
}

/** What the old PRIMARY becomes when an emergency promotes a replica (documented choice, see README of issue 3). */
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
 * removal and the cancellation of the incident's still-pending switch commit together.
 */
async function promoteForIncident(
  incident: Incident,
  agent: Agent,
  replica: Replica,
  now: Date,
  cancels: Command[],
  feed?: FeedEventInput[],
): Promise<Incident> {
  const at = now.toISOString();
  const replicaInstance = await instancesRepo.get(replica.instance_id);
  if (replicaInstance && (replicaInstance.agent_id !== agent.id || replicaInstance.role !== 'REPLICA')) {
    throw new Retry(`replica instance ${replica.instance_id} is not this agent's REPLICA`);
  }
  const failover = Math.max(0, now.getTime() - Date.parse(incident.detected_at));
  const fields: ResolveFields = {
    outcome: 'promoted',
    action_taken: 'replica_promoted',
    replica_id: replica.id,
    new_instance_id: replica.instance_id,
    awaiting_replica_id: null,
    failover_time_ms: failover,
    resolved_at: at,
    message: `replica ${replica.id} (${replica.instance_id}) promoted to PRIMARY`,
    ...(incident.handled_at ? {} : { handled_at: at }),
  };
  const old = oldPrimaryOutcome(incident, agent);
  await promoteReplicaTx({
    agent,
    replica,
    fromStatuses: ['ready', 'syncing'],
    replicaInstance,
    old,
    at,
    agentSet: { notice_status: 'none', notice_deadline: null },
    extra: [
      incidentsRepo.resolveTx(incident.id, fields, { firstHandling: !incident.handled_at }),
      incidentsRepo.closeTx(incident.id),
      ...cancels.map((c) => commandsRepo.cancelTx(c, at, 'superseded: the emergency promoted a replica')),
    ],
  });
  metrics.addMetric('ReplicaPromoted', MetricUnit.Count, 1);
  metrics.addMetric('FailoverTime', MetricUnit.Milliseconds, failover);
  const resolved: Incident = { ...incident, ...(fields as Partial<Incident>) };
  const roleChanged: FeedEventInput = {
    clientId: agent.client_id,
    type: 'instance_role_changed',
    data: {
      agent_id: agent.id,
      changes: [
        { instance_id: replica.instance_id, from: 'REPLICA', to: 'PRIMARY' },
        ...(agent.primary_instance_id ? [{ instance_id: agent.primary_instance_id, from: 'PRIMARY', to: old.role }] : []),
      ],
      reason: incident.signal_type,
      emergency_event_id: incident.id,
    },
    now,
  };
  // Within a handling the feed event goes out with the handling's own; otherwise it and the
  // notification are independent: sent concurrently.
  if (feed) feed.push(roleChanged);
  const notified = noticeNotification(
    resolved,
    'warning',
    `${incident.signal_type === 'instance_terminated' ? 'Instance terminated' : 'Spot interruption'} on ${incident.instance_id}: replica ${replica.instance_id} promoted to PRIMARY in ${Math.round(failover / 1000)} s`,
    now,
  );
  await Promise.all([feed ? undefined : publishEvent(roleChanged), notified]);
  return resolved;
}

async function recordOnly(incident: Incident, now: Date, action: string, message: string): Promise<Incident> {
  return commitHandling(incident, { outcome: 'handled', action_taken: action, message, resolved_at: now.toISOString() }, [], now, {
    close: true,
  });
}

// ---------------------------------------------------------------------------------------------
// Termination (spot interruption warning, termination-imminent, create-emergency-replica, Health)

async function handleTermination(incident: Incident, now: Date, reads: Reads, feed: FeedEventInput[]): Promise<Incident> {
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
    if (candidate) return promoteForIncident(incident, agent, candidate, now, toCancel, feed);

    const waitingFor = replicas.find(active);
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
        const result = await commitHandling(
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
          { close: !waitingFor },
        );
        await noticeNotification(result, 'warning', `Spot interruption on ${incident.instance_id}: a switch already in flight moves the agent`, now);
        return result;
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
        { close: !waitingFor },
      );
      if (result.command_id === command.id) {
        metrics.addMetric('EmergencyCommandQueued', MetricUnit.Count, 1);
        // A switch another route created between our read and our commit (a route that does not
        // touch the agent item) is cancelled now, before the emergency can complete: only the
        // emergency is delivered.
        const late = (await commandsRepo.listPending(agent.id, 100)).filter(
          (c) => c.id !== command.id && c.command_type === 'switch' && c.priority < PRIORITY.emergency,
        );
        for (const c of late) if (await commandsRepo.cancel(c, at, 'an emergency took over')) toCancel.push(c);
        feed.push(
          {
            clientId: agent.client_id,
            type: 'command_status_changed',
            data: { agent_id: agent.id, command_id: command.id, command_type: 'switch', status: 'pending', priority: command.priority },
            now,
          },
          ...toCancel.map((c): FeedEventInput => ({
            clientId: agent.client_id,
            type: 'command_status_changed',
            data: { agent_id: agent.id, command_id: c.id, command_type: c.command_type, status: 'cancelled' },
            now,
          })),
        );
        await noticeNotification(
          result,
          'warning',
          `Spot interruption on ${incident.instance_id}: no replica ready, emergency switch queued to ${target.pool_id ?? 'on-demand'}`,
          now,
        );
      }
      return result;
    }

    // 3. A replica is on its way: promote it as soon as it reports ready.
    if (waitingFor) {
      const result = await commitHandling(
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
        { close: false },
      );
      await noticeNotification(result, 'warning', `Spot interruption on ${incident.instance_id}: waiting for replica ${waitingFor.id}`, now);
      return result;
    }

    // 4. Nothing can be done: critical.
    const why = !agent.config.enabled ? 'the agent is disabled' : 'auto-switch is off and there is no replica';
    const result = await commitHandling(
      incident,
      { outcome: 'no_replica', action_taken: 'none', resolved_at: at, message: `nothing can be done: ${why}` },
      [agentTx(agent, noticeSet, { primary: incident.instance_id, version: agent.version })],
      now,
      { close: true },
    );
    await noticeNotification(result, 'critical', `Spot interruption on ${incident.instance_id} and nothing can be done: ${why}`, now);
    return result;
  });
}

/** A termination signal for an instance that is not the PRIMARY (API.md §5 table). */
async function terminationOfNonPrimary(incident: Incident, agent: Agent, now: Date, reads: Reads): Promise<Incident> {
  const instance = await reads.instance();
  if (instance?.role === 'REPLICA') {
    const replica = await replicaOfInstance(agent.id, instance);
    if (replica && active(replica)) {
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

export async function replicaOfInstance(agentId: string, instance: Instance): Promise<Replica | undefined> {
  const rid = (instance as Instance & { replica_id?: string | null }).replica_id;
  if (rid) {
    const r = await replicasRepo.get(agentId, rid);
    if (r) return r;
  }
  return (await replicasRepo.listByAgent(agentId)).find((r) => r.instance_id === instance.id);
}

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
  const wasActive = active(replica);
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
      const others = (await replicasRepo.listByAgent(agent.id)).filter((r) => r.id !== replica.id && active(r));
      const next = bestPromotable(others) ?? others[0] ?? replacement;
      items.push(incidentsRepo.resolveTx(waiting.id, { awaiting_replica_id: next?.id ?? null }, { firstHandling: false }));
      if (next && next === replacement) replacement.emergency_event_id = waiting.id;
      else if (next) items.push(replicasRepo.linkIncidentTx(next, waiting.id));
    }
  }
  if (replacement) items.push(replicasRepo.createTx(replacement), agentsRepo.versionGuardTx(agent));
  return { items, replacement };
}

// ---------------------------------------------------------------------------------------------
// Pending promotions (replica → ready, reconciler)

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

// ---------------------------------------------------------------------------------------------
// Instance terminated (state change shutting-down/terminated, POST /termination of the PRIMARY)

async function handleInstanceTerminated(incident: Incident, now: Date, reads: Reads, feed: FeedEventInput[]): Promise<Incident> {
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
        if (replica && (active(replica) || (replica.status === 'terminated' && !replica.termination_confirmed))) {
          effects.push(...(await lostReplicaEffects(agent, replica, now, { confirmed: true })));
          action = 'replica_terminated';
        }
      }
      const result = await commitHandling(
        incident,
        { outcome: 'handled', action_taken: action, resolved_at: at, message: `${instance.role} instance terminated` },
        effects,
        now,
        { close: true },
      );
      await closeTerminationIncident(instance.id, 'handled', now);
      return result;
    }

    // The PRIMARY is gone: promote a ready replica, else the agent has no PRIMARY (error).
    const [replicas, pending] = await Promise.all([replicasRepo.listByAgent(agent.id), commandsRepo.listPending(agent.id, 100)]);
    const candidate = bestPromotable(replicas);
    if (candidate) {
      const result = await promoteForIncident(incident, agent, candidate, now, pending, feed);
      await closeTerminationIncident(instance.id, 'promoted', now, result);
      return result;
    }
    const result = await commitHandling(
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
      ],
      now,
      { close: true },
    );
    await closeTerminationIncident(instance.id, 'failed', now);
    feed.push({
      clientId: agent.client_id,
      type: 'agent_status_changed',
      data: { agent_id: agent.id, from: agent.status, to: 'error', reason: 'primary terminated without a ready replica' },
      now,
    });
    await noticeNotification(result, 'critical', `The PRIMARY ${instance.id} terminated and no replica was ready: agent ${agent.id} has no PRIMARY`, now);
    return result;
  });
}

/** The instance is gone: its termination incident (if one is still unresolved) ends with it. */
async function closeTerminationIncident(instanceId: string, outcome: 'handled' | 'promoted' | 'failed', now: Date, from?: Incident) {
  const termination = await incidentsRepo.findBySignal(instanceId, 'termination');
  if (!termination || FINAL_OUTCOMES.has(termination.outcome)) return;
  if (outcome === 'handled' && termination.outcome === 'handled') return;
  const fields: ResolveFields =
    outcome === 'promoted' && from
      ? {
          outcome: 'promoted',
          action_taken: 'replica_promoted',
          replica_id: from.replica_id,
          new_instance_id: from.new_instance_id,
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
  try {
    await transact([incidentsRepo.resolveTx(termination.id, fields, { firstHandling: false }), incidentsRepo.closeTx(termination.id)]);
  } catch (err) {
    if (!(err instanceof TransactionConflict)) throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Rebalance recommendation (policy: ignore | monitor | prewarm | switch)

async function handleRebalance(incident: Incident, now: Date, reads: Reads, feed: FeedEventInput[]): Promise<Incident> {
  const at = now.toISOString();
  return withRetries('rebalance', reads, async () => {
    const agent = await reads.agent();
    if (!agent || agent.status === 'deleted') return recordOnly(incident, now, 'none', 'the agent is deleted');
    if (agent.primary_instance_id !== incident.instance_id) {
      return recordOnly(incident, now, 'recorded', `the instance is ${incident.instance_role}, not the PRIMARY: recorded`);
    }
    const policy = effectiveRebalancePolicy(agent.config);
    if (policy === 'ignore') return recordOnly(incident, now, 'ignored', 'rebalance policy: ignore');
    const instance = await reads.instance();
    if (!instance) return recordOnly(incident, now, 'none', 'the instance is unknown');

    const threshold = agent.config.risk_threshold;
    const pools = agent.region && agent.instance_type ? await poolsOfType(agent.region, agent.instance_type) : [];
    const currentRisk = pools.find((p) => p.pool_id === agent.current_pool_id)?.risk_score ?? null;
    const maxPrice = instance.ondemand_price;
    const safer = pools
      .filter((p) => p.pool_id !== agent.current_pool_id && p.risk_score != null && p.risk_score <= threshold)
      .filter((p) => currentRisk === null || (p.risk_score as number) < currentRisk)
      .filter((p) => maxPrice == null || p.price == null || p.price <= maxPrice)
      .sort((a, b) => (a.risk_score as number) - (b.risk_score as number) || (a.price ?? Infinity) - (b.price ?? Infinity))[0];
    // The notice lasts the 2 h window: the incident stays on the reconciler's queue, which clears
    // the agent's `rebalance` notice afterwards (or when the PRIMARY moved on). Never downgrade a
    // termination notice.
    const noticeSet = agent.notice_status === 'termination' ? {} : { notice_status: 'rebalance', notice_deadline: null };

    // Switch: under `switch` the recommendation itself says the pool is unsafe; under `prewarm`
    // (API.md's rule) only when the pool's measured risk exceeds the threshold.
    const wantsSwitch =
      agent.notice_status !== 'termination' &&
      agent.config.enabled &&
      agent.config.auto_switch_enabled &&
      safer !== undefined &&
      (policy === 'switch' || (policy === 'prewarm' && currentRisk !== null && currentRisk > threshold));
    if (wantsSwitch && safer) {
      const pending = await commandsRepo.listPending(agent.id, 100);
      const openSwitch = pending.find((c) => c.command_type === 'switch' && c.priority >= PRIORITY.modelUrgent);
      // (A slot naming a finished command counts as empty, as in functions/commands/switching.ts.)
      const limitReached = await switchLimitReached(agent, now); // API.md §4.6 daily/weekly limits
      if (!openSwitch && !agent.inflight_command_id && limitReached === null) {
        const command = incidentSwitch(
          incident,
          agent,
          { mode: 'spot', pool_id: safer.pool_id },
          'model',
          PRIORITY.modelUrgent,
          `rebalance recommendation on ${incident.instance_id}: switch to ${safer.pool_id}`,
          at,
        );
        const lower = pending.filter((c) => c.command_type === 'switch' && c.priority < PRIORITY.modelUrgent);
        const result = await commitHandling(
          incident,
          {
            outcome: 'handled',
            action_taken: 'switch',
            command_id: command.id,
            target_mode: 'spot',
            target_pool_id: safer.pool_id,
            risk_score: currentRisk,
            resolved_at: at,
            message: `rebalance (${policy}): switch queued to ${safer.pool_id} (risk ${safer.risk_score})`,
          },
          [
            commandsRepo.createTx(command),
            agentTx(
              agent,
              { ...noticeSet, open_switch_id: command.id, open_switch_priority: command.priority },
              { primary: incident.instance_id, inflight: null, version: agent.version, openSwitch: agent.open_switch_id ?? null },
            ),
            ...lower.map((c) => commandsRepo.cancelTx(c, at, 'superseded by a rebalance switch')),
          ],
          now,
          { close: false },
        );
        if (result.command_id === command.id) {
          feed.push({
            clientId: agent.client_id,
            type: 'command_status_changed',
            data: { agent_id: agent.id, command_id: command.id, command_type: 'switch', status: 'pending', priority: command.priority },
            now,
          });
        }
        return result;
      }
    }

    const replicas = await replicasRepo.listByAgent(agent.id);
    if (policy === 'prewarm' && !replicas.some(active)) {
      const replica = await placeholderReplica(agent, 'automatic-rebalance', at);
      if (replica.pool_id) {
        replica.emergency_event_id = incident.id;
        return commitHandling(
          incident,
          {
            outcome: 'handled',
            action_taken: 'replica_prewarmed',
            replica_id: replica.id,
            target_pool_id: replica.pool_id,
            risk_score: currentRisk,
            resolved_at: at,
            message: `rebalance (prewarm): replica placeholder ${replica.id} in ${replica.pool_id}`,
          },
          [replicasRepo.createTx(replica), agentTx(agent, noticeSet, { primary: incident.instance_id, version: agent.version })],
          now,
          { close: false },
        );
      }
    }
    const existing = replicas.find(active);
    const reason =
      policy === 'prewarm'
        ? existing
          ? `rebalance (prewarm): replica ${existing.id} already exists`
          : 'rebalance (prewarm): no suitable pool for a replica'
        : policy === 'switch'
          ? !agent.config.auto_switch_enabled
              ? 'rebalance (switch): auto-switch is off'
              : !safer
                  ? 'rebalance (switch): no safer pool'
                  : 'rebalance (switch): a switch is already open or the switch limits are reached'
          : `rebalance (${policy}): monitoring`;
    return commitHandling(
      incident,
      {
        outcome: 'handled',
        action_taken: 'monitor',
        replica_id: existing?.id ?? null,
        risk_score: currentRisk,
        resolved_at: at,
        message: reason,
      },
      [agentTx(agent, noticeSet, { primary: incident.instance_id, version: agent.version })],
      now,
      { close: false },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// POST /api/agents/{aid}/termination of the PRIMARY (API.md §3.4: treated like an EC2 termination)

/** Returns the agent's status afterwards (`error` when no replica could take over). */
export async function announcePrimaryTermination(
  agent: Agent,
  instanceId: string,
  terminatedAt: string | null,
  now: Date,
): Promise<Agent['status']> {
  const instance = await instancesRepo.get(instanceId);
  if (!instance || instance.agent_id !== agent.id) return agent.status;
  await reportSignal(
    {
      instance,
      signal: 'instance_terminated',
      source: 'agent',
      origin: 'agent-termination',
      detectedAt: terminatedAt ? new Date(Date.parse(terminatedAt)).toISOString() : now.toISOString(),
      deadline: null,
    },
    now,
    { waitForHandling: true },
  );
  return (await agentsRepo.get(agent.id))?.status ?? agent.status;
}
