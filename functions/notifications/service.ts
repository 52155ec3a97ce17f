import { adminRepo } from '../shared/db/admin-repo.js';
import { type AlertType, alertsRepo, type PricingAlert } from '../shared/db/alerts-repo.js';
import { clientsRepo } from '../shared/db/clients-repo.js';
import { notificationsRepo } from '../shared/db/notifications-repo.js';
import { ConflictError, NotFoundError, ValidationError } from '../shared/domain/errors.js';
import { newId, parseTimestamp } from '../shared/domain/ids.js';
import type { Notification, Severity } from '../shared/domain/notifications.js';
import type { Caller } from '../shared/domain/types.js';
import { assertOwner } from '../shared/http/auth.js';
import { reply } from '../shared/http/route.js';

/** The list route has no pagination (API.md §3.12): the newest 100 are returned. */
export const NOTIFICATION_LIST_LIMIT = 100;
/** mark-all-read marks at most this many per call (repeat the call for more); keeps the Lambda well inside 25 s. */
export const MARK_ALL_LIMIT = 2000;

export const notificationView = (n: Notification | Record<string, unknown>) => {
  const x = n as Notification;
  return {
    id: x.id,
    client_id: x.client_id ?? null,
    type: x.type,
    severity: x.severity,
    message: x.message,
    agent_id: x.agent_id ?? null,
    is_read: x.is_read === true,
    created_at: x.created_at,
  };
};

/**
 * Whose notifications a request is about: a client token always its own; the admin token one
 * client's (`client_id`) or, without it, the system-wide ones (client_id null).
 */
const targetOf = (caller: Caller, clientId: string | undefined): string | null =>
  caller.kind === 'client' ? caller.clientId : (clientId ?? null);

export async function listNotifications(
  caller: Caller,
  query: { unread_only: boolean; severity?: Severity; client_id?: string },
) {
  const target = targetOf(caller, query.client_id);
  const filter = { unreadOnly: query.unread_only, ...(query.severity ? { severity: query.severity } : {}) };
  const [page, unread] = await Promise.all([
    adminRepo.notificationsPage({ clientId: target }, NOTIFICATION_LIST_LIMIT, undefined, filter),
    adminRepo.countUnread(target),
  ]);
  return { notifications: page.items.map(notificationView), unread_count: unread };
}

/** Another client's (or, for a client token, a system-wide) notification is 404, as if absent. */
export async function markRead(caller: Caller, notificationId: string, now: Date) {
  const notification = await notificationsRepo.get(notificationId);
  if (!notification) throw new NotFoundError('notification');
  if (caller.kind === 'client') {
    if (notification.client_id === null) throw new NotFoundError('notification');
    assertOwner(caller, notification.client_id, 'notification');
  }
  // Already read → nothing to do; the answer is the same (safe to repeat).
  await notificationsRepo.markRead(notification.id, now.toISOString());
  return { id: notification.id, is_read: true as const };
}

/** Runs `fn` over `items` with at most `width` in flight. */
async function eachLimited<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

export async function markAllRead(caller: Caller, body: { client_id?: string; before?: string }, now: Date) {
  const target = targetOf(caller, body.client_id);
  const before = body.before ? parseTimestamp(body.before).toISOString() : undefined;
  const unread = (await notificationsRepo.listUnread(target, before)).slice(0, MARK_ALL_LIMIT);
  let updated = 0;
  await eachLimited(unread, 16, async (n) => {
    if (await notificationsRepo.markRead(n.id, now.toISOString())) updated++;
  });
  return { updated };
}

// ---- pricing alerts ----

export const alertView = (a: PricingAlert) => ({
  alert_id: a.alert_id,
  alert_type: a.alert_type,
  threshold: a.threshold,
  pool_id: a.pool_id ?? null,
  enabled: a.enabled,
  notification_channels: a.notification_channels,
  webhook_url: a.webhook_url ?? null,
  last_triggered_at: a.last_triggered_at ?? null,
  version: a.version,
  created_at: a.created_at,
});

export async function listPricingAlerts(clientId: string) {
  return { alerts: (await alertsRepo.listByClient(clientId)).map(alertView) };
}

export interface AlertInput {
  alert_id?: string;
  version?: number;
  alert_type: AlertType;
  threshold: number;
  pool_id?: string;
  enabled?: boolean;
  notification_channels?: Array<'dashboard' | 'email' | 'webhook'>;
  webhook_url?: string;
}

function checkThreshold(type: AlertType, threshold: number): void {
  const bad =
    threshold < 0 ||
    (type === 'pool_risk_above' && threshold > 1) ||
    (type === 'savings_below_percent' && threshold > 100);
  if (bad) {
    const range = type === 'pool_risk_above' ? '0–1' : type === 'savings_below_percent' ? '0–100' : '≥ 0';
    throw new ValidationError(`threshold must be ${range} for ${type}`, [{ field: 'body.threshold', issue: `out of range (${range})` }]);
  }
}

function checkWebhook(channels: string[], webhookUrl: string | null): void {
  if (channels.includes('webhook') && !webhookUrl) {
    throw new ValidationError('the webhook channel needs a webhook_url', [{ field: 'body.webhook_url', issue: 'required for the webhook channel' }]);
  }
}

/**
 * POST /api/client/{cid}/pricing-alerts: creates an alert (201), or with `alert_id` updates that
 * alert (200; version-checked with `version` or If-Match). At most 50 per client (422).
 */
export async function upsertPricingAlert(clientId: string, input: AlertInput, ifMatch: number | undefined, now: Date) {
  checkThreshold(input.alert_type, input.threshold);
  const client = await clientsRepo.get(clientId);
  if (!client || client.status === 'deleted') throw new NotFoundError('client');
  if (client.status === 'deleting') throw new ConflictError('INVALID_TRANSITION', 'the client is being deleted');
  const at = now.toISOString();
  if (input.alert_id) {
    const existing = await alertsRepo.get(clientId, input.alert_id);
    if (!existing) throw new NotFoundError('pricing alert');
    const channels = input.notification_channels ?? existing.notification_channels;
    const webhookUrl = input.webhook_url ?? existing.webhook_url;
    checkWebhook(channels, webhookUrl);
    const updated = await alertsRepo.update(
      clientId,
      input.alert_id,
      {
        alert_type: input.alert_type,
        threshold: input.threshold,
        pool_id: input.pool_id ?? existing.pool_id,
        enabled: input.enabled ?? existing.enabled,
        notification_channels: [...new Set(channels)],
        webhook_url: webhookUrl,
        // A changed rule starts unarmed: its first crossing notifies.
        in_alarm: false,
        updated_at: at,
      },
      input.version ?? ifMatch,
    );
    if (!updated) throw new NotFoundError('pricing alert');
    return reply(200, alertView(updated));
  }
  const channels = [...new Set(input.notification_channels ?? ['dashboard'])];
  checkWebhook(channels, input.webhook_url ?? null);
  const alert: PricingAlert = {
    alert_id: newId(),
    client_id: clientId,
    alert_type: input.alert_type,
    threshold: input.threshold,
    pool_id: input.pool_id ?? null,
    enabled: input.enabled ?? true,
    notification_channels: channels,
    webhook_url: input.webhook_url ?? null,
    last_triggered_at: null,
    in_alarm: false,
    created_at: at,
    updated_at: at,
    version: 1,
  };
  await alertsRepo.create(alert);
  return reply(201, alertView(alert));
}
