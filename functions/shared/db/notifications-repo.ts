import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Notification } from '../domain/notifications.js';
import { ddb, tableName } from './client.js';
import { getItem, isConditionFailure, queryAll, queryPage, stripKeys, txPut } from './conditions.js';
import { keys } from './keys.js';
import { type TxPart, txPart } from './transaction.js';

const toNotification = (item: Record<string, unknown>) => stripKeys(item) as unknown as Notification;

export const notificationsRepo = {
  /**
   * Transaction part creating a notification (create-if-absent: a notification whose id derives
   * from a dedupe key is written once; its condition failing names the part `notification`).
   */
  createTx(notification: Notification, ttl: number): TxPart {
    return txPart(
      'notification',
      txPut({
        ...keys.notification(notification.id),
        ...keys.notificationsOfClientIndex(notification.client_id, notification.created_at, notification.id),
        // GSI3: every notification in one time-ordered partition (admin activity).
        ...keys.activityIndex(notification.created_at, notification.id),
        ...(notification.is_read
          ? {}
          : keys.unreadNotificationsIndex(notification.client_id, notification.created_at, notification.id)),
        entity: 'notification',
        ...notification,
        ttl,
      }),
    );
  },

  async get(notificationId: string): Promise<Notification | undefined> {
    const item = await getItem(keys.notification(notificationId));
    return item ? toNotification(item) : undefined;
  },

  /** A client's (or the system's, clientId null) notifications, newest first (GSI1). */
  async list(clientId: string | null, limit: number, nextToken?: string) {
    const page = await queryPage<Record<string, unknown>>(
      {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.notificationsOfClientIndex(clientId, '', '').GSI1PK },
        ScanIndexForward: false,
      },
      limit,
      nextToken,
    );
    return { items: page.items.map(toNotification), nextToken: page.nextToken };
  },

  /** Unread notifications (GSI2, sparse), optionally only those created before `before`. */
  async listUnread(clientId: string | null, before?: string): Promise<Notification[]> {
    const pk = keys.unreadNotificationsIndex(clientId, '', '').GSI2PK;
    const items = await queryAll<Record<string, unknown>>({
      IndexName: 'GSI2',
      KeyConditionExpression: before ? 'GSI2PK = :pk AND GSI2SK < :before' : 'GSI2PK = :pk',
      ExpressionAttributeValues: { ':pk': pk, ...(before ? { ':before': before } : {}) },
    });
    return items.map(toNotification);
  },

  /** Marks read and leaves the unread index; false when it was already read. */
  async markRead(notificationId: string, at: string): Promise<boolean> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.notification(notificationId),
          UpdateExpression: 'SET is_read = :true, read_at = :at REMOVE GSI2PK, GSI2SK',
          ConditionExpression: 'attribute_exists(PK) AND is_read = :false',
          ExpressionAttributeValues: { ':true': true, ':false': false, ':at': at },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },
};
