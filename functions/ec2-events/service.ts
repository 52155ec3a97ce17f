import { recordEc2EventReceived } from '../shared/db/admin-repo.js';
import { agentsRepo } from '../shared/db/agents-repo.js';
import { clientsRepo } from '../shared/db/clients-repo.js';
import { incidentsRepo } from '../shared/db/incidents-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { replicasRepo } from '../shared/db/replicas-repo.js';
import { config } from '../shared/config.js';
import { INTERRUPTION_LEAD_SECONDS, type SignalType } from '../shared/domain/incidents.js';
import type { Agent, Instance } from '../shared/domain/types.js';
import { notify } from '../shared/notify.js';
import { logger, MetricUnit, metrics } from '../shared/observability.js';
import { reportSignal } from '../shared/flows/interruption/intake.js';
import { replicaOfInstance } from '../shared/flows/replicas.js';
import { healthInstanceIds, type ParsedEvent } from './schemas.js';

/**
 * The EC2 events consumer (API.md §5). Per event, validated at the handler edge (handler.ts):
 *  1. (zod: malformed → throw → EventBridge retries, then the DLQ);
 *  2. resolve `detail.instance-id` → instance → agent (two GetItems on keys). An instance no live
 *     agent of this installation owns, or an account the owning client did not allow, is counted
 *     and logged and writes NOTHING — not an error;
 *  3. claim the event id (conditional put, kept 7 days): a duplicate delivery stops here;
 *  4. report the signal: the (instance, signal) incident is opened or attached (the agent's own
 *     reports of the same interruption land on the same incident) and its creator acts.
 * A failure after the claim releases it and rethrows, so EventBridge's retry processes the event.
 */

/**
 * The claim outlives one invocation (25 s timeout) and ends before EventBridge's first retry of a
 * failed one (Lambda retries an asynchronous invocation after a minute): a crashed invocation's
 * retry re-claims it.
 */
const CLAIM_LEASE_SECONDS = 30;

/** A delivery of an event another invocation is still processing: retried later by EventBridge. */
export class EventInProgressError extends Error {
  constructor(eventId: string) {
    super(`event ${eventId} is being processed by another invocation; retry later`);
    this.name = 'EventInProgressError';
  }
}
/** A Health scheduled change this close is an imminent termination; further out it is advance warning. */
const HEALTH_IMMINENT_SECONDS = 15 * 60;

type Work =
  | {
    instanceId: string;
    kind: 'signal';
    signal: SignalType;
    origin: string;
    deadline: string | null;
    instanceAction: string | null;
  }
  | { instanceId: string; kind: 'launched' | 'stopped'; origin: string };

export interface InstanceOutcome {
  instance_id: string;
  status: 'processed' | 'unknown_instance' | 'foreign_account';
  signal?: SignalType;
  incident_id?: string;
  created?: boolean;
  outcome?: string;
  action_taken?: string | null;
  command_id?: string | null;
}

export interface EventSummary {
  event_id: string | null;
  detail_type: string | null;
  status: 'processed' | 'duplicate' | 'unknown_instance' | 'foreign_account' | 'ignored';
  reason?: string;
  instances: InstanceOutcome[];
}

function workOf(parsed: Exclude<ParsedEvent, { kind: 'ignored' }>, now: Date): Work[] | string {
  const time = new Date(Date.parse(parsed.event.time));
  switch (parsed.kind) {
    case 'spot-interruption': {
      const action = parsed.event.detail['instance-action'];
      // Hibernation starts at once; terminate/stop come two minutes after the warning (EC2-SIGNALS.md §1).
      const lead = action === 'hibernate' ? 0 : INTERRUPTION_LEAD_SECONDS;
      return [
        {
          instanceId: parsed.event.detail['instance-id'],
          kind: 'signal',
          signal: 'termination',
          origin: 'spot-interruption-warning',
          deadline: new Date(time.getTime() + lead * 1000).toISOString(),
          instanceAction: action,
        },
      ];
    }
    case 'rebalance':
      return [
        {
          instanceId: parsed.event.detail['instance-id'],
          kind: 'signal',
          signal: 'rebalance',
          origin: 'rebalance-recommendation-event',
          deadline: null,
          instanceAction: null,
        },
      ];
    case 'state-change': {
      const { state } = parsed.event.detail;
      const instanceId = parsed.event.detail['instance-id'];
      if (state === 'shutting-down' || state === 'terminated') {
        return [{ instanceId, kind: 'signal', signal: 'instance_terminated', origin: `state-change:${state}`, deadline: null, instanceAction: null }];
      }
      if (state === 'running') return [{ instanceId, kind: 'launched', origin: 'state-change:running' }];
      if (state === 'stopped') return [{ instanceId, kind: 'stopped', origin: 'state-change:stopped' }];
      return `state ${state} is not acted on`;
    }
    case 'health': {
      const d = parsed.event.detail;
      if (d.service !== 'EC2' || d.eventTypeCategory !== 'scheduledChange') return `Health ${d.service}/${d.eventTypeCategory} is not acted on`;
      if (d.statusCode === 'closed') return 'the Health event is closed';
      const start = d.startTime ? new Date(Date.parse(d.startTime)) : null;
      // A scheduled change weeks away is advance warning (acted on like a rebalance recommendation:
      // pre-warm or move, per the agent's policy); one about to start is a termination.
      const imminent = start !== null && start.getTime() - now.getTime() <= HEALTH_IMMINENT_SECONDS * 1000;
      return healthInstanceIds(parsed.event).map((instanceId) => ({
        instanceId,
        kind: 'signal' as const,
        signal: imminent ? ('termination' as const) : ('rebalance' as const),
        origin: `health:${d.eventTypeCode}`,
        deadline: start ? start.toISOString() : null,
        instanceAction: null,
      }));
    }
  }
}

/**
 * A client's allowed accounts, cached per Lambda container for a minute: the list changes rarely
 * and an event from the stack's own account (the normal case) never needs it.
 */
const ACCOUNTS_CACHE_MS = 60_000;
const accountsCache = new Map<string, { accounts: string[]; until: number }>();
async function allowedAccounts(clientId: string, now: Date): Promise<string[]> {
  const hit = accountsCache.get(clientId);
  if (hit && hit.until > now.getTime()) return hit.accounts;
  const accounts = (await clientsRepo.get(clientId))?.aws_account_ids ?? [];
  accountsCache.set(clientId, { accounts, until: now.getTime() + ACCOUNTS_CACHE_MS });
  return accounts;
}

/**
 * system-health's `ec2_events_last_received_at` (functions/shared/db/admin-repo.ts): written for
 * processed events only — an unknown instance writes nothing — and at most once a minute per
 * container, so an interruption storm does not hammer one item.
 */
const RECEIVED_EVERY_MS = 60_000;
let lastNoted = 0;
async function noteReceived(now: Date): Promise<void> {
  if (now.getTime() - lastNoted < RECEIVED_EVERY_MS) return;
  lastNoted = now.getTime();
  await recordEc2EventReceived(now).catch((err: unknown) => logger.warn('could not record the receive time', { error: err as Error }));
}

/**
 * Whether an event from `account` may act on the client's instances (API.md §5). Events are
 * attributed by instance; a client that lists its `aws_account_ids` also pins the accounts (its own
 * and the stack's), while one that lists none accepts every account the bus admitted (the stack's
 * own, and the forwarders the operator allowed in the bus policy).
 */
function accountAllowed(account: string, allowed: string[]): boolean {
  if (allowed.length === 0) return true;
  return allowed.includes(account) || account === config.stackAccount;
}

/** The account an event is about: Health's organizational view names it in `affectedAccount`. */
function accountOf(parsed: Exclude<ParsedEvent, { kind: 'ignored' }>): string {
  const affected = parsed.kind === 'health' ? parsed.event.detail.affectedAccount : undefined;
  return typeof affected === 'string' && /^\d{12}$/.test(affected) ? affected : parsed.event.account;
}

export async function processEc2Event(parsed: ParsedEvent, now: Date): Promise<EventSummary> {
  const base = { event_id: parsed.event.id, detail_type: parsed.event['detail-type'] };
  if (parsed.kind === 'ignored') {
    metrics.addMetric('Ec2EventIgnored', MetricUnit.Count, 1);
    logger.info('event ignored', { ...base, reason: parsed.reason });
    return { ...base, status: 'ignored', reason: parsed.reason, instances: [] };
  }
  const work = workOf(parsed, now);
  if (typeof work === 'string' || work.length === 0) {
    metrics.addMetric('Ec2EventIgnored', MetricUnit.Count, 1);
    const reason = typeof work === 'string' ? work : 'the event names no instance';
    logger.info('event ignored', { ...base, reason });
    return { ...base, status: 'ignored', reason, instances: [] };
  }

  // Resolve: instance → agent (one GetItem each); account check against the owning client.
  const resolved: { work: Work; instance: Instance; agent: Agent }[] = [];
  const skipped: InstanceOutcome[] = [];

  for (const w of work) {
    const instance = await instancesRepo.get(w.instanceId);
    const agent = instance ? await agentsRepo.get(instance.agent_id) : undefined;
    if (!instance || !agent || agent.status === 'deleted') {
      metrics.addMetric('Ec2EventUnknownInstance', MetricUnit.Count, 1);
      logger.info('event for an instance no agent of this installation owns: nothing written', { ...base, instanceId: w.instanceId });
      skipped.push({ instance_id: w.instanceId, status: 'unknown_instance' });
      continue;
    }
    const account = accountOf(parsed);
    if (config.stackAccount === undefined || account !== config.stackAccount) {
      if (!accountAllowed(account, await allowedAccounts(instance.client_id, now))) {
        metrics.addMetric('Ec2EventForeignAccount', MetricUnit.Count, 1);
        logger.warn('event from an account the client did not allow: nothing written', { ...base, instanceId: w.instanceId, account, region: parsed.event.region });
        skipped.push({ instance_id: w.instanceId, status: 'foreign_account' });
        continue;
      }
    }
    resolved.push({ work: w, instance, agent });
  }
  if (resolved.length === 0) {
    const status = skipped.some((s) => s.status === 'foreign_account') ? 'foreign_account' : 'unknown_instance';
    return { ...base, status, instances: skipped };
  }

  const claim = await incidentsRepo.claimEvent(parsed.event.id, now, CLAIM_LEASE_SECONDS);
  if (claim === 'in-progress') {
    // Another invocation is processing this event and may still fail: answering "done" would end
    // EventBridge's retries for good. Failing lets the retry (a minute later) find the outcome.
    metrics.addMetric('Ec2EventInProgress', MetricUnit.Count, 1);
    throw new EventInProgressError(parsed.event.id);
  }
  if (claim === 'done') {
    metrics.addMetric('Ec2EventDuplicate', MetricUnit.Count, 1);
    logger.info('duplicate event id: already processed', base);
    return { ...base, status: 'duplicate', instances: [] };
  }
  const outcomes: InstanceOutcome[] = [...skipped];
  try {
    for (const item of resolved) outcomes.push(await processOne(item, parsed, now));
  } catch (err) {
    await incidentsRepo.releaseEvent(parsed.event.id).catch((releaseErr: unknown) =>
      logger.error('could not release the event claim', { error: releaseErr as Error }),
    );
    throw err;
  }
  const summary: EventSummary = { ...base, status: 'processed', instances: outcomes };
  await Promise.all([
    noteReceived(now),
    incidentsRepo.finishEvent(parsed.event.id, { instances: outcomes.map((o) => `${o.instance_id}:${o.status}:${o.incident_id ?? ''}`) }),
  ]);
  metrics.addMetric('Ec2EventProcessed', MetricUnit.Count, 1);
  return summary;
}

async function processOne(
  { work, instance, agent }: { work: Work; instance: Instance; agent: Agent },
  parsed: Exclude<ParsedEvent, { kind: 'ignored' }>,
  now: Date,
): Promise<InstanceOutcome> {
  const time = new Date(Date.parse(parsed.event.time)).toISOString();
  if (work.kind === 'signal') {
    const { incident, created } = await reportSignal(
      {
        instance,
        agent,
        signal: work.signal,
        source: 'eventbridge',
        origin: work.origin,
        eventId: parsed.event.id,
        detectedAt: time,
        deadline: work.deadline,
        instanceAction: work.instanceAction,
      },
      now,
    );
    return {
      instance_id: instance.id,
      status: 'processed',
      signal: work.signal,
      incident_id: incident.id,
      created,
      outcome: incident.outcome,
      action_taken: incident.action_taken,
      command_id: incident.command_id,
    };
  }
  if (work.kind === 'launched' && instance.role === 'REPLICA') {
    // `running` sets the replica's launched_at (API.md §5).
    const replica = await replicaOfInstance(agent.id, instance);
    if (replica && !replica.launched_at) {
      await replicasRepo.save({ ...replica, launched_at: time }, replica.version).catch((err: unknown) => {
        logger.info('replica changed meanwhile; launched_at not recorded', { replicaId: replica.id, error: err as Error });
      });
    }
  }
  if (work.kind === 'stopped' && agent.primary_instance_id === instance.id) {
    await notify({
      clientId: agent.client_id,
      type: 'primary_stopped',
      severity: 'warning',
      message: `The PRIMARY instance ${instance.id} of agent ${agent.hostname ?? agent.id} was stopped`,
      agentId: agent.id,
      dedupeKey: `stopped:${instance.id}:${time}`,
      now,
    });
  }
  return { instance_id: instance.id, status: 'processed' };
}
