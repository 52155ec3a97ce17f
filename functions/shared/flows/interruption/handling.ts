/**
 * The transaction plumbing of every interruption signal: an incident's first handling commits its
 * effects together with `handled_at` (conditioned on it being unset), lost races are retried on
 * fresh reads, and the outcome is notified once. Every id it writes derives from the incident id.
 */
import { type AgentGuard, agentsRepo } from '../../db/agents-repo.js';
import { incidentsRepo, type ResolveFields } from '../../db/incidents-repo.js';
import { instancesRepo } from '../../db/instances-repo.js';
import { PromotionConflict } from '../../db/promotion-repo.js';
import { TransactionConflict, transact, type TxPart } from '../../db/transaction.js';
import { addSeconds, pendingLifetimeSeconds } from '../../domain/commands.js';
import type { Incident } from '../../domain/incidents.js';
import { dedupeId } from '../../domain/notifications.js';
import type { Agent, Command, Instance, Mode, TriggerType } from '../../domain/types.js';
import type { FeedEventInput } from '../../feed.js';
import { logger } from '../../observability.js';
import { Outbox } from '../../outbox.js';

/** A handling that keeps losing races gives up after this many attempts (its lease lets another take over). */
const MAX_ATTEMPTS = 5;

/** A lost race: the attempt's state moved on, so it re-reads and runs again (see {@link withRetries}). */
export class Retry extends Error {}

export interface Preloaded {
  agent?: Agent;
  instance?: Instance;
}

/**
 * Reads of the agent and the instance: the first attempt may use what the caller read a moment
 * ago (every write is conditioned, so a stale read only costs a retry); retries read afresh.
 */
export function firstReads(incident: Incident, preloaded: Preloaded) {
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
export type Reads = ReturnType<typeof firstReads>;

/** The agent's notice fields, conditioned on what was read (its PRIMARY, version, in-flight and open-switch slots). */
export const agentTx = (agent: Agent, set: Record<string, unknown>, guard: AgentGuard, leaveHeartbeatIndex = false): TxPart =>
  agentsRepo.updateTx(agent.id, { set, guard, leaveHeartbeatIndex });

/** The feed's emergency_event of an incident as it now stands. */
export const emergencyEvent = (incident: Incident, now: Date): FeedEventInput => ({
  clientId: incident.client_id,
  type: 'emergency_event',
  data: {
    emergency_event_id: incident.id,
    agent_id: incident.agent_id,
    instance_id: incident.instance_id,
    signal_type: incident.signal_type,
    outcome: incident.outcome,
    action_taken: incident.action_taken,
    command_id: incident.command_id,
    replica_id: incident.replica_id,
  },
  now,
});

/**
 * Commits a first handling: the effects, the incident's resolution and what it records — its feed
 * events (the emergency_event of the outcome included) and its notification, `records` — in one
 * transaction, conditioned on the incident being unhandled (shared/outbox.ts). Returns the resolved
 * incident, or the incident as another handler left it; throws Retry when an effect's condition
 * failed (state moved: re-read). Build `records` per attempt: a failed attempt recorded nothing.
 */
export async function commitHandling(
  incident: Incident,
  fields: ResolveFields,
  effects: TxPart[],
  now: Date,
  options: { close: boolean; records?: Outbox },
): Promise<Incident> {
  const at = now.toISOString();
  const resolution: ResolveFields = { ...fields, handled_at: at, handling_lease_until: null };
  const resolved: Incident = { ...incident, ...(resolution as Partial<Incident>), version: incident.version + 1 };
  const records = (options.records ?? new Outbox()).event(emergencyEvent(resolved, now));
  try {
    await transact([
      incidentsRepo.resolveTx(incident.id, resolution, { firstHandling: true }),
      ...effects,
      ...(options.close ? [incidentsRepo.closeTx(incident.id)] : []),
      ...records.parts(),
    ]);
  } catch (err) {
    if (!(err instanceof TransactionConflict)) throw err;
    const fresh = await incidentsRepo.get(incident.id);
    if (fresh?.handled_at) return fresh; // someone else handled it: their effects stand
    throw new Retry(`handling of ${incident.id} lost a race (${err.message})`);
  }
  await records.committed();
  return resolved;
}

/** Runs `attempt` until it stops losing races (state re-read each time). */
export async function withRetries<T>(what: string, reads: Pick<Reads, 'next'> | null, attempt: () => Promise<T>): Promise<T> {
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

/**
 * The client's notification of an incident's outcome: once for its first handling, once more when a
 * replica it waited for is promoted later (`stage`) — each dedupe key is written by one guarded commit.
 */
export const noticeNotification = (
  incident: Pick<Incident, 'id' | 'client_id' | 'agent_id' | 'signal_type'>,
  severity: 'info' | 'warning' | 'critical',
  message: string,
  now: Date,
  stage: 'outcome' | 'promoted' = 'outcome',
) => ({
  clientId: incident.client_id,
  type: `emergency_${incident.signal_type}`,
  severity,
  message,
  agentId: incident.agent_id,
  dedupeKey: `incident:${incident.id}:${stage}`,
  now,
});

/** A switch command whose id derives from the incident: however often it is written, it exists once. */
export function incidentSwitch(
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

export async function recordOnly(incident: Incident, now: Date, action: string, message: string): Promise<Incident> {
  return commitHandling(incident, { outcome: 'handled', action_taken: action, message, resolved_at: now.toISOString() }, [], now, {
    close: true,
  });
}
