import { notificationsRepo } from './db/notifications-repo.js';
import { newId, ttlAfterDays } from './domain/ids.js';
import { dedupeId, type Notification, type Severity } from './domain/notifications.js';
import { publishEvent } from './feed.js';
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

/** Creates a notification (kept 90 days, API.md §6). Returns false when the dedupe key already notified. */
export async function notify(input: NotifyInput): Promise<boolean> {
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
  const created = await notificationsRepo.create(notification, ttlAfterDays(input.now, 90));
  if (created) {
    metrics.addMetric('NotificationCreated', MetricUnit.Count, 1);
    logger.info('notification created', { type: input.type, severity: input.severity, agentId: input.agentId });
    await publishEvent({
      clientId: input.clientId,
      type: 'notification_created',
      data: { notification_id: notification.id, type: input.type, severity: input.severity, agent_id: notification.agent_id },
      now: input.now,
    });
  }
  return created;
}
