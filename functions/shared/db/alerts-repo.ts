import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, UnprocessableError } from '../domain/errors.js';
import { ddb, tableName } from './client.js';
import { batchDelete, getItem, type Item, isConditionFailure, queryAll, stripKeys, txPut, txUpdate, updateItem, where } from './conditions.js';
import { keys } from './keys.js';
import { TransactionConflict, transact, txPart } from './transaction.js';

export type AlertType =
  | 'spot_price_above'
  | 'spot_price_below'
  | 'savings_below_percent'
  | 'pool_risk_above'
  | 'interruption_rate_above';

/** A pricing alert as stored (API.md §3.12 PricingAlert, plus evaluation state). */
export interface PricingAlert {
  alert_id: string;
  client_id: string;
  alert_type: AlertType;
  threshold: number;
  pool_id: string | null;
  enabled: boolean;
  notification_channels: string[];
  webhook_url: string | null;
  last_triggered_at: string | null;
  /** Evaluation state: the condition held at the last evaluation (a crossing fires once). */
  in_alarm: boolean;
  created_at: string;
  updated_at: string;
  version: number;
}

/** API.md §3.12: a client can have at most 50 alerts. */
export const MAX_ALERTS_PER_CLIENT = 50;

const toAlert = (item: Item) => stripKeys(item) as unknown as PricingAlert;

export function alertItem(alert: PricingAlert) {
  return {
    ...keys.pricingAlert(alert.client_id, alert.alert_id),
    ...(alert.enabled ? keys.enabledAlertsIndex(alert.client_id, alert.alert_id) : {}),
    entity: 'pricing-alert',
    ...alert,
  };
}

export const alertsRepo = {
  async get(clientId: string, alertId: string): Promise<PricingAlert | undefined> {
    const item = await getItem(keys.pricingAlert(clientId, alertId));
    return item ? toAlert(item) : undefined;
  },

  /** A client's alerts (its item collection, `ALERT#` prefix): at most 50. */
  async listByClient(clientId: string): Promise<PricingAlert[]> {
    const items = await queryAll<Item>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.client(clientId).PK, ':prefix': keys.pricingAlertPrefix },
    });
    return items.map(toAlert).sort((a, b) => a.created_at.localeCompare(b.created_at));
  },

  /** Removes every alert of a client (its delete cascade): out of the evaluator's index at once. */
  async deleteAllOfClient(clientId: string): Promise<number> {
    const items = await queryAll<Item>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.client(clientId).PK, ':prefix': keys.pricingAlertPrefix },
      ProjectionExpression: 'PK, SK',
    });
    await batchDelete(items.map((i) => ({ PK: String(i.PK), SK: String(i.SK) })));
    return items.length;
  },

  /** Every enabled alert of every client (GSI1, sparse), for the evaluator. */
  async listEnabled(): Promise<PricingAlert[]> {
    const items = await queryAll<Item>({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.enabledAlertsIndex('', '').GSI1PK },
    });
    return items.map(toAlert);
  },

  /**
   * Creates an alert and counts it on the client item in one transaction: the counter's condition
   * enforces the limit of 50 without counting, and no concurrent create can overshoot it.
   */
  async create(alert: PricingAlert): Promise<void> {
    try {
      await transact([
        txPart('alert', txPut(alertItem(alert))),
        txPart(
          'alert-limit',
          txUpdate(keys.client(alert.client_id), {
            add: { alerts_count: 1 },
            bumpVersion: false,
            // Only a live client takes alerts: one being deleted would keep them after its cascade.
            condition: where.and(
              where.in('status', ['active', 'inactive']),
              where.or(where.absent('alerts_count'), where.lt('alerts_count', MAX_ALERTS_PER_CLIENT)),
            ),
          }),
        ),
      ]);
    } catch (err) {
      if (err instanceof TransactionConflict && err.failedOn('alert-limit')) {
        const client = await getItem<{ status?: string }>(keys.client(alert.client_id));
        if (client?.status !== 'active' && client?.status !== 'inactive') {
          throw new ConflictError('INVALID_TRANSITION', 'the client is being deleted');
        }
        throw new UnprocessableError('ALERT_LIMIT_REACHED', `a client can have at most ${MAX_ALERTS_PER_CLIENT} pricing alerts`);
      }
      throw err;
    }
  },

  /** A user edit: version-checked when `expectedVersion` is given; the enabled index follows `enabled`. */
  async update(
    clientId: string,
    alertId: string,
    set: Partial<Omit<PricingAlert, 'alert_id' | 'client_id' | 'version' | 'created_at'>>,
    expectedVersion: number | undefined,
  ): Promise<PricingAlert | undefined> {
    const index = keys.enabledAlertsIndex(clientId, alertId);
    const item = await updateItem<Item>(keys.pricingAlert(clientId, alertId), {
      set: { ...set, ...(set.enabled === true ? index : {}) },
      remove: set.enabled === false ? ['GSI1PK', 'GSI1SK'] : [],
      expectedVersion,
    });
    return item ? toAlert(item) : undefined;
  },

  /**
   * Evaluation state, not a user edit (no version bump, like an agent heartbeat): enters the alarm
   * and records the trigger time — conditioned on the state the evaluator read, so two concurrent
   * evaluations cannot both fire. Returns false when another evaluation got there first.
   */
  async enterAlarm(alert: PricingAlert, at: string, fired: boolean): Promise<boolean> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.pricingAlert(alert.client_id, alert.alert_id),
          UpdateExpression: fired ? 'SET in_alarm = :true, last_triggered_at = :at' : 'SET in_alarm = :true',
          ConditionExpression:
            'attribute_exists(PK) AND (attribute_not_exists(in_alarm) OR in_alarm = :false) AND ' +
            (alert.last_triggered_at === null
              ? '(attribute_not_exists(last_triggered_at) OR last_triggered_at = :null)'
              : 'last_triggered_at = :prev'),
          ExpressionAttributeValues: {
            ':true': true,
            ':false': false,
            ...(fired ? { ':at': at } : {}),
            ...(alert.last_triggered_at === null ? { ':null': null } : { ':prev': alert.last_triggered_at }),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  /** Leaves the alarm (the condition no longer holds): the next crossing can fire again. */
  async leaveAlarm(alert: PricingAlert): Promise<void> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.pricingAlert(alert.client_id, alert.alert_id),
          UpdateExpression: 'SET in_alarm = :false',
          ConditionExpression: 'attribute_exists(PK) AND in_alarm = :true',
          ExpressionAttributeValues: { ':true': true, ':false': false },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  },
};
