import { BatchWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.js';
import { isConditionFailure } from './conditions.js';
import { keys } from './keys.js';

/** One staged price point (API.md §6 Staging), as written by pricing-report. */
export interface StagedPoint {
  pool_id: string;
  instance_type: string;
  region: string;
  az: string;
  price: number;
  on_demand_price: number | null;
  collected_at: string;
  source_role: 'PRIMARY' | 'REPLICA';
  agent_id: string;
  client_id: string;
  reporter_instance_id: string;
}

/** Staging points expire after 14 days (API.md §6 old-data cleanup). */
const STAGING_TTL_SECONDS = 14 * 86_400;

export const pricesRepo = {
  /**
   * Stages points (BatchWrite, 25 per call, unprocessed items retried). Keys include the collection
   * time and the reporter, so a repeated report rewrites the same items instead of adding new ones.
   */
  async stage(points: StagedPoint[]): Promise<void> {
    const requests = points.map((p) => ({
      PutRequest: {
        Item: {
          ...keys.stagedPrice(p.pool_id, p.collected_at, p.reporter_instance_id),
          ...keys.stagedPriceByTimeIndex(p.collected_at.slice(0, 10), p.collected_at, p.pool_id),
          entity: 'staged-price',
          ...p,
          ttl: Math.floor(Date.parse(p.collected_at) / 1000) + STAGING_TTL_SECONDS,
        },
      },
    }));
    for (let i = 0; i < requests.length; i += 25) {
      let batch: typeof requests | undefined = requests.slice(i, i + 25);
      for (let attempt = 0; batch && batch.length > 0 && attempt < 5; attempt++) {
        const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [tableName()]: batch } }));
        batch = out.UnprocessedItems?.[tableName()] as typeof requests | undefined;
        if (batch?.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  },

  /**
   * Keeps the pool's latest observed price on its POOL item (decision candidates read it before
   * any consolidation has run). Only a newer observation replaces an older one.
   */
  async upsertLatestPrice(p: {
    pool_id: string;
    instance_type: string;
    region: string;
    az: string;
    price: number;
    on_demand_price: number | null;
    priced_at: string;
  }): Promise<void> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.pool(p.pool_id),
          UpdateExpression:
            'SET pool_id = :pool, instance_type = :type, #region = :region, az = :az, price = :price, priced_at = :at, entity = :entity, GSI1PK = :g1pk, GSI1SK = :g1sk, GSI2PK = :g2pk, GSI2SK = :g2sk' +
            (p.on_demand_price !== null ? ', on_demand_price = :od' : ''),
          ConditionExpression: 'attribute_not_exists(priced_at) OR priced_at < :at',
          ExpressionAttributeNames: { '#region': 'region' },
          ExpressionAttributeValues: {
            ':pool': p.pool_id,
            ':type': p.instance_type,
            ':region': p.region,
            ':az': p.az,
            ':price': p.price,
            ':at': p.priced_at,
            ':entity': 'pool',
            ':g1pk': keys.poolsOfTypeIndex(p.region, p.instance_type, p.pool_id).GSI1PK,
            ':g1sk': keys.poolsOfTypeIndex(p.region, p.instance_type, p.pool_id).GSI1SK,
            ':g2pk': keys.allPoolsIndex(p.region, p.pool_id).GSI2PK,
            ':g2sk': keys.allPoolsIndex(p.region, p.pool_id).GSI2SK,
            ...(p.on_demand_price !== null ? { ':od': p.on_demand_price } : {}),
          },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // an older observation: the pool already has a newer price
    }
  },
};
