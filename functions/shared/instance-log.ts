import { instanceLogRepo } from './db/instance-log-repo.js';
import type { TxPart } from './db/transaction.js';
import { newId, ttlAfterDays } from './domain/ids.js';

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

/** One lifecycle event to record. */
export interface InstanceEventInput {
  instanceId: string;
  eventType: InstanceEventType;
  severity: InstanceEventSeverity;
  message: string;
  metadata: Record<string, unknown> | null;
  /** When it happened (the entry's timestamp). */
  at: Date;
}

/**
 * Transaction part appending an event to an instance's lifecycle log: it commits with the change it
 * records (shared/outbox.ts). The sort key is `LOG#<at>#<sequence>-<id>`: time order, then write
 * order within a process.
 */
export function instanceEventPart(e: InstanceEventInput): TxPart {
  const id = newId();
  sequence = (sequence + 1) % 1e9;
  return instanceLogRepo.appendTx(
    {
      id,
      instance_id: e.instanceId,
      timestamp: e.at.toISOString(),
      event_type: e.eventType,
      severity: e.severity,
      message: e.message,
      metadata: e.metadata,
    },
    `${String(sequence).padStart(9, '0')}-${id}`,
    ttlAfterDays(e.at, LOG_TTL_DAYS),
  );
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
 * instance, `became_zombie` on the PRIMARY it replaced (if any). They ride in the registration's transaction.
 */
export function registrationEvents(instanceId: string, agentId: string, previousPrimaryId: string | null, now: Date): InstanceEventInput[] {
  const events: InstanceEventInput[] = [
    { instanceId, eventType: 'registered', severity: 'info', message: 'instance registered by its agent', metadata: { agent_id: agentId }, at: now },
    { instanceId, eventType: 'became_primary', severity: 'info', message: 'instance became the PRIMARY', metadata: { agent_id: agentId, replaced: previousPrimaryId }, at: now },
  ];
  if (previousPrimaryId && previousPrimaryId !== instanceId) {
    events.push({
      instanceId: previousPrimaryId,
      eventType: 'became_zombie',
      severity: 'warning',
      message: `replaced as PRIMARY by ${instanceId} (re-registration); still running, serving no traffic`,
      metadata: { agent_id: agentId, new_primary: instanceId },
      at: now,
    });
  }
  return events;
}
