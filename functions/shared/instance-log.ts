import { instanceLogRepo } from './db/instance-log-repo.js';
import { newId, ttlAfterDays } from './domain/ids.js';
import { logger } from './observability.js';

/**
 * The lifecycle log of an instance (GET /api/client/instances/{iid}/logs): items in the instance's
 * own item collection (`INSTANCE#<iid>` / `LOG#<at>#<id>`), kept 30 days.
 */

/** API.md §3.8 log event types. */
export type InstanceEventType =
  | 'registered'
  | 'became_primary'
  | 'became_replica'
  | 'became_zombie'
  | 'switch_initiated'
  | 'rebalance_notice'
  | 'termination_notice'
  | 'promoted'
  | 'terminated';

export type InstanceEventSeverity = 'info' | 'warning' | 'error' | 'critical';

export interface InstanceEvent {
  id: string;
  instance_id: string;
  timestamp: string;
  event_type: InstanceEventType;
  severity: InstanceEventSeverity;
  message: string;
  metadata: Record<string, unknown> | null;
}

const LOG_TTL_DAYS = 30;

/** Orders events written by one process in the same millisecond (`registered` before `became_primary`). */
let sequence = 0;

/**
 * Appends an event to an instance's lifecycle log. Best effort: the log is informational, so a
 * failed write is logged and never fails the business operation that already happened. The sort
 * key is `LOG#<at>#<sequence>-<id>`: time order, then write order within a process.
 */
export async function recordInstanceEvent(
  instanceId: string,
  eventType: InstanceEventType,
  severity: InstanceEventSeverity,
  message: string,
  metadata: Record<string, unknown> | null,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const id = newId();
  sequence = (sequence + 1) % 1e9;
  try {
    await instanceLogRepo.append(
      { id, instance_id: instanceId, timestamp: at, event_type: eventType, severity, message, metadata },
      `${String(sequence).padStart(9, '0')}-${id}`,
      ttlAfterDays(now, LOG_TTL_DAYS),
    );
  } catch (err) {
    logger.warn('instance log write failed', { instance_id: instanceId, event_type: eventType, error: err as Error });
  }
}

/** An instance's log, newest first; optionally one severity (a filter: pages may be short). */
export async function listInstanceEvents(
  instanceId: string,
  query: { severity?: InstanceEventSeverity; limit: number; nextToken?: string },
): Promise<{ events: InstanceEvent[]; nextToken: string | null }> {
  const page = await instanceLogRepo.list(instanceId, query);
  return { events: page.events as InstanceEvent[], nextToken: page.nextToken };
}

/**
 * Log entries of a registration that created a PRIMARY: `registered` and `became_primary` on the new
 * instance, `became_zombie` on the PRIMARY it replaced (if any). Called after the transaction.
 */
export async function logRegistration(
  instanceId: string,
  agentId: string,
  previousPrimaryId: string | null,
  now: Date,
): Promise<void> {
  await recordInstanceEvent(instanceId, 'registered', 'info', 'instance registered by its agent', { agent_id: agentId }, now);
  await recordInstanceEvent(instanceId, 'became_primary', 'info', 'instance became the PRIMARY', { agent_id: agentId, replaced: previousPrimaryId }, now);
  if (previousPrimaryId && previousPrimaryId !== instanceId) {
    await recordInstanceEvent(
      previousPrimaryId,
      'became_zombie',
      'warning',
      `replaced as PRIMARY by ${instanceId} (re-registration); still running, serving no traffic`,
      { agent_id: agentId, new_primary: instanceId },
      now,
    );
  }
}
