import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.js';
import { batchGet, buildUpdate, type Item, isConditionFailure } from './conditions.js';
import { keys } from './keys.js';

/** Hourly buckets are kept 8 days: enough for the 7 d window of the operational metrics. */
const HOURLY_TTL_SECONDS = 8 * 86_400;

/** `YYYY-MM-DDTHH` of a time (UTC). */
export const hourOf = (at: Date): string => at.toISOString().slice(0, 13);

/**
 * Operational counters (admin stats and operational metrics). They are maintained with atomic
 * `ADD`s, never read-modify-write, so concurrent writers cannot lose increments. Counting is
 * best-effort: a failed increment is logged by the caller, never fails a business write.
 */
export const statsRepo = {
  /** Adds `counters` to the hour bucket of `at`. */
  async add(at: Date, counters: Record<string, number>): Promise<void> {
    const hourly = Object.entries(counters).filter(([, v]) => v !== 0);
    if (hourly.length === 0) return;
    await ddb.send(
      new UpdateCommand(
        buildUpdate(keys.statsHour(hourOf(at)), {
          set: { ttl: Math.floor(at.getTime() / 1000) + HOURLY_TTL_SECONDS, hour_start: hourOf(at) },
          add: Object.fromEntries(hourly),
          bumpVersion: false,
          mustExist: false,
        }),
      ),
    );
  },

  /** Raises the hour's `attr` to `value` if it is higher (a running maximum). */
  async max(at: Date, attr: string, value: number): Promise<void> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.statsHour(hourOf(at)),
          UpdateExpression: 'SET #a = :v',
          ConditionExpression: 'attribute_not_exists(#a) OR #a < :v',
          ExpressionAttributeNames: { '#a': attr },
          ExpressionAttributeValues: { ':v': value },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  },

  /** The hour buckets from `from` to `to` (inclusive), as found (missing hours had no activity). */
  async hours(from: Date, to: Date): Promise<Item[]> {
    const hourKeys = [];
    for (let t = Date.parse(`${hourOf(from)}:00:00.000Z`); t <= to.getTime(); t += 3_600_000) {
      hourKeys.push(keys.statsHour(hourOf(new Date(t))));
    }
    return [...(await batchGet(hourKeys)).values()];
  },
};
