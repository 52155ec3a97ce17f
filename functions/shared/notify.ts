import { notificationsRepo } from './db/notifications-repo.js';
import { TransactionConflict, transact, type TxPart } from './db/transaction.js';
import { newId, ttlAfterDays } from './domain/ids.js';
import { dedupeId, type Notification, type Severity } from './domain/notifications.js';
import { countFeedEvents, type FeedEventInput, feedEventParts } from './feed.js';
import { logger, MetricUnit, metrics } from './observability.js';

export interface NotifyInput {
  clientId: string | null;
  type: string;
  severity: Severity;
  message: string;
  agentId?: string | null;
  /** Same key → one notification, however often the fact is reported. */
  dedupeKey?: string;
  now: Date;
}

/** The notification of `input` and the feed event that announces it. */
export function notificationOf(input: NotifyInput): { notification: Notification; event: FeedEventInput } {
  const notification: Notification = {
    id: input.dedupeKey ? dedupeId(input.dedupeKey) : newId(),
    client_id: input.clientId,
    type: input.type,
    severity: input.severity,
    message: input.message,
    agent_id: input.agentId ?? null,
    is_read: false,
    created_at: input.now.toISOString(),
  };
  const event: FeedEventInput = {
    clientId: input.clientId,
    type: 'notification_created',
    data: { notification_id: notification.id, type: input.type, severity: input.severity, agent_id: notification.agent_id },
    now: input.now,
  };
  return { notification, event };
}

/** Transaction part of a notification (kept 90 days, API.md §6); its feed event is the caller's to add. */
export const notificationPart = (notification: Notification, now: Date): TxPart =>
  notificationsRepo.createTx(notification, ttlAfterDays(now, 90));

/** After a notification committed: its metric and log line. */
export function notified(notification: Notification): void {
  metrics.addMetric('NotificationCreated', MetricUnit.Count, 1);
  logger.info('notification created', { type: notification.type, severity: notification.severity, agentId: notification.agent_id });
}

/**
 * Creates a notification that reports no other write, with its feed event, in one transaction.
 * Returns false when the dedupe key already notified. (A notification about an effect rides in the
 * effect's own transaction instead: shared/outbox.ts.)
 */
export async function notify(input: NotifyInput): Promise<boolean> {
  const { notification, event } = notificationOf(input);
  try {
    await transact([notificationPart(notification, input.now), ...feedEventParts([event])]);
  } catch (err) {
    if (err instanceof TransactionConflict && err.failedOn('notification')) return false;
    throw err;
  }
  notified(notification);
  await countFeedEvents([event]);
  return true;
}
