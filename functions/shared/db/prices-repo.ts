import {
  type NativeAttributeValue,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../domain/errors.js';
import { ddb, tableName } from './client.js';
import { batchGet, batchPut, buildUpdate, getItem, isConditionFailure, type Item, putIfAbsent, queryAll, queryPage, stripKeys } from './conditions.js';
import { keys } from './keys.js';

/**
 * The pricing pipeline's table access (API.md §6): staging, the consolidated 5-minute series
 * (`PRICE5M#<pool>` / bucket start), the canonical hourly series (`PRICEH#<pool>` / hour start),
 * POOL items with their statistics, pool interruptions, and ConsolidationJob records.
 */

/** Who produced a staged point: an agent's PRIMARY or REPLICA, or the EC2 DescribeSpotPriceHistory backfill. */
export type StagedSource = 'PRIMARY' | 'REPLICA' | 'EC2_API';

/** One staged price point (API.md §6 Staging), as written by pricing-report or the backfill. */
export interface StagedPoint {
  pool_id: string;
  instance_type: string;
  region: string;
  az: string;
  price: number;
  on_demand_price: number | null;
  collected_at: string;
  source_role: StagedSource;
  /** Null for EC2_API points. */
  agent_id: string | null;
  client_id: string | null;
  /** The reporting instance; `ec2-api` for the backfill. */
  reporter_instance_id: string;
}

/** What consolidation reads back from staging (a projection of StagedPoint). */
export type StagedRow = Pick<
  StagedPoint,
  'pool_id' | 'collected_at' | 'price' | 'on_demand_price' | 'source_role' | 'reporter_instance_id'
>;

/** One item of the consolidated 5-minute series. */
export interface ConsolidatedPriceItem {
  pool_id: string;
  bucket_start: string;
  price: number;
  on_demand_price: number | null;
  is_interpolated: boolean;
  fill: 'linear' | 'hold' | null;
  source: StagedSource;
  samples: number;
}

/** One item of the canonical hourly series. */
export interface CanonicalPriceItem {
  pool_id: string;
  hour_start: string;
  avg_price: number;
  min_price: number;
  max_price: number;
  last_price: number;
  on_demand_price: number | null;
  interruptions: number;
  buckets: number;
  interpolated_buckets: number;
}

/** A POOL item: the contract between the pricing pipeline and its readers (README "Pricing, decisions and savings"). */
export interface PoolItem {
  pool_id: string;
  instance_type: string;
  region: string;
  az: string;
  price?: number | null;
  priced_at?: string | null;
  /** The market source that priced it (`ec2`, `replay`). */
  market_source?: string | null;
  on_demand_price?: number | null;
  /** When the on-demand list price was last read from the market. */
  on_demand_at?: string | null;
  risk_score?: number | null;
  volatility?: number | null;
  avg_price_24h?: number | null;
  price_stddev_24h?: number | null;
  interruptions_30d?: number | null;
  history_hours?: number | null;
  stats_at?: string | null;
}

export interface PoolStatsUpdate {
  risk_score: number;
  volatility: number;
  avg_price_24h: number | null;
  price_stddev_24h: number | null;
  interruptions_30d: number;
  history_hours: number;
  stats_at: string;
}

export type ConsolidationStatus = 'running' | 'ok' | 'failed';
export type ConsolidationTrigger = 'schedule' | 'manual' | 'backfill';

/** A ConsolidationJob record (GET /api/admin/consolidation-jobs). */
export interface ConsolidationRun {
  id: string;
  status: ConsolidationStatus;
  trigger: ConsolidationTrigger;
  started_at: string;
  window_start: string;
  window_end: string;
  finished_at: string | null;
  points_read: number | null;
  duplicates_removed: number | null;
  points_interpolated: number | null;
  lower_rank_discarded: number | null;
  buckets_written: number | null;
  hours_written: number | null;
  pools: number | null;
  error: string | null;
}

const DAY_S = 86_400;
/** Staging points expire after 14 days (API.md §6 old-data cleanup). */
export const STAGING_TTL_SECONDS = 14 * DAY_S;
/** Consolidated and canonical prices are kept 90 days (API.md §6 old-data cleanup). */
export const PRICE_SERIES_TTL_SECONDS = 90 * DAY_S;
const RUN_TTL_SECONDS = 90 * DAY_S;

const epochSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** Every page of a Query, handed to `onPage` as it arrives (large reads never build one big array twice). */
async function queryEach(
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  onPage: (items: Item[]) => void,
): Promise<void> {
  let start: Record<string, NativeAttributeValue> | undefined;
  do {
    const out = await ddb.send(new QueryCommand({ TableName: tableName(), ...input, ExclusiveStartKey: start }));
    onPage((out.Items ?? []) as Item[]);
    start = out.LastEvaluatedKey;
  } while (start);
}

/** The UTC days (`yyyy-mm-dd`) that [fromIso, toIso) touches. */
export function daysBetween(fromIso: string, toIso: string): string[] {
  const days: string[] = [];
  const end = Date.parse(toIso) - 1;
  for (let t = Date.parse(fromIso.slice(0, 10)); t <= end; t += DAY_S * 1000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** A nextToken minted by another listing (another index) is a client error, not a 500. */
async function withTokenCheck<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const e = err as { name?: string; message?: string };
    if (e.name === 'ValidationException' && /start(ing)? ?key/i.test(e.message ?? '')) {
      throw new ValidationError('nextToken is not valid', [{ field: 'query.nextToken', issue: 'invalid' }], 'INVALID_NEXT_TOKEN');
    }
    throw err;
  }
}

const poolItemOf = (item: Item) => stripKeys(item) as unknown as PoolItem;

/** Items of one price-series partition (PRICE5M / PRICEH) with sort key in [fromIso, toIso], oldest first. */
function seriesRange<T>(pk: string, fromIso: string, toIso: string, projection?: string): Promise<T[]> {
  return queryAll<T>(
    {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': pk, ':from': fromIso, ':to': toIso },
      ...(projection ? { ProjectionExpression: projection } : {}),
    },
    100_000,
  );
}

export const pricesRepo = {
  // ---- staging ----

  /**
   * Stages points (BatchWrite, 25 per call, unprocessed items retried). Keys include the collection
   * time and the reporter, so a repeated report rewrites the same items instead of adding new ones.
   * The TTL counts 14 days from the collection time, or from `ttlFrom` (the backfill stages old
   * records and must keep them long enough to be consolidated).
   */
  async stage(points: StagedPoint[], options: { ttlFrom?: Date } = {}): Promise<void> {
    const ttlBase = options.ttlFrom ? Math.floor(options.ttlFrom.getTime() / 1000) : undefined;
    await batchPut(
      points.map((p) => ({
        ...keys.stagedPrice(p.pool_id, p.collected_at, p.reporter_instance_id),
        ...keys.stagedPriceByTimeIndex(p.collected_at.slice(0, 10), p.collected_at, p.pool_id),
        entity: 'staged-price',
        ...p,
        ttl: (ttlBase ?? epochSeconds(p.collected_at)) + STAGING_TTL_SECONDS,
      })),
      4,
    );
  },

  /**
   * Staged points collected in [fromIso, toIso), read through the day index (GSI1 `STAGE#DAY#<day>`,
   * one Query per day, no Scan), optionally only those of `pools`. `onPage` receives each page.
   */
  async readStaged(
    fromIso: string,
    toIso: string,
    onPage: (rows: StagedRow[]) => void,
    pools?: ReadonlySet<string>,
  ): Promise<void> {
    const days = daysBetween(fromIso, toIso);
    await Promise.all(
      days.map((day) =>
        queryEach(
          {
            IndexName: 'GSI1',
            KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': keys.stagedPriceByTimeIndex(day, '', '').GSI1PK,
              // GSI1SK is `<collected_at>#<pool>`: `<to>` sorts before `<to>#…`, so the range is [from, to).
              ':from': fromIso,
              ':to': toIso,
            },
            ProjectionExpression: '#pool, #at, #price, #od, #src, #rep',
            ExpressionAttributeNames: {
              '#pool': 'pool_id',
              '#at': 'collected_at',
              '#price': 'price',
              '#od': 'on_demand_price',
              '#src': 'source_role',
              '#rep': 'reporter_instance_id',
            },
          },
          (items) => {
            const rows = items as unknown as StagedRow[];
            onPage(pools ? rows.filter((r) => pools.has(r.pool_id)) : rows);
          },
        ),
      ),
    );
  },

  // ---- consolidated and canonical series ----

  /** Writes consolidated buckets. Keys are (pool, bucket start): a rerun overwrites with identical items. */
  async putConsolidated(buckets: ConsolidatedPriceItem[]): Promise<void> {
    await batchPut(
      buckets.map((b) => ({
        ...keys.consolidatedPrice(b.pool_id, b.bucket_start),
        entity: 'price-5m',
        ...b,
        ttl: epochSeconds(b.bucket_start) + PRICE_SERIES_TTL_SECONDS,
      })),
    );
  },

  /** Writes canonical hours (keys (pool, hour start); a rerun overwrites with identical items). */
  async putCanonical(hours: CanonicalPriceItem[]): Promise<void> {
    await batchPut(
      hours.map((h) => ({
        ...keys.canonicalPrice(h.pool_id, h.hour_start),
        entity: 'price-1h',
        ...h,
        ttl: epochSeconds(h.hour_start) + PRICE_SERIES_TTL_SECONDS,
      })),
    );
  },

  /** A pool's consolidated buckets with start in [fromIso, toIso], oldest first. */
  async listConsolidated(poolId: string, fromIso: string, toIso: string): Promise<ConsolidatedPriceItem[]> {
    const items = await seriesRange<Item>(keys.consolidatedPrice(poolId, '').PK, fromIso, toIso);
    return items.map((i) => stripKeys(i) as unknown as ConsolidatedPriceItem);
  },

  /** Only bucket start and price of a pool's buckets in [fromIso, toIso] (statistics read many pools). */
  async listConsolidatedPrices(poolId: string, fromIso: string, toIso: string): Promise<{ bucket_start: string; price: number }[]> {
    return seriesRange(keys.consolidatedPrice(poolId, '').PK, fromIso, toIso, 'bucket_start, price');
  },

  /** A pool's canonical hours with start in [fromIso, toIso], oldest first. */
  async listCanonical(poolId: string, fromIso: string, toIso: string): Promise<CanonicalPriceItem[]> {
    const items = await seriesRange<Item>(keys.canonicalPrice(poolId, '').PK, fromIso, toIso);
    return items.map((i) => stripKeys(i) as unknown as CanonicalPriceItem);
  },

  // ---- POOL items ----

  /**
   * The market price of a pool (the market-prices job, the backfill; never an agent's report):
   * its latest spot price, vouched for by the market source up to `priced_at`, and its on-demand
   * list price when known. Only a later `priced_at` replaces an earlier one.
   */
  async recordMarketPrice(p: {
    pool_id: string;
    instance_type: string;
    region: string;
    az: string;
    price: number;
    on_demand_price: number | null;
    priced_at: string;
    /** When the on-demand price was read from the market (omitted: it was not read now). */
    on_demand_at?: string;
    /** The market source (`ec2`, `replay`). */
    source: string;
  }): Promise<boolean> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.pool(p.pool_id),
          UpdateExpression:
            'SET pool_id = :pool, instance_type = :type, #region = :region, az = :az, price = :price, priced_at = :at, market_source = :src, entity = :entity, GSI1PK = :g1pk, GSI1SK = :g1sk, GSI2PK = :g2pk, GSI2SK = :g2sk' +
            (p.on_demand_price !== null ? ', on_demand_price = :od' : '') +
            (p.on_demand_at ? ', on_demand_at = :odat' : ''),
          ConditionExpression: 'attribute_not_exists(priced_at) OR priced_at < :at',
          ExpressionAttributeNames: { '#region': 'region' },
          ExpressionAttributeValues: {
            ...(p.on_demand_at ? { ':odat': p.on_demand_at } : {}),
            ':pool': p.pool_id,
            ':type': p.instance_type,
            ':region': p.region,
            ':az': p.az,
            ':price': p.price,
            ':at': p.priced_at,
            ':src': p.source,
            ':entity': 'pool',
            ':g1pk': keys.poolsOfTypeIndex(p.region, p.instance_type, p.pool_id).GSI1PK,
            ':g1sk': keys.poolsOfTypeIndex(p.region, p.instance_type, p.pool_id).GSI1SK,
            ':g2pk': keys.allPoolsIndex(p.region, p.pool_id).GSI2PK,
            ':g2sk': keys.allPoolsIndex(p.region, p.pool_id).GSI2SK,
            ...(p.on_demand_price !== null ? { ':od': p.on_demand_price } : {}),
          },
        }),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // the pool already has a later market price
      return false;
    }
  },

  /**
   * Puts (region, type) on the market watch list: an agent runs that type there and the market job
   * has no pool of it yet. Written only while the market has no pool of it (a cheap, rare put).
   */
  async watchMarket(region: string, instanceType: string): Promise<void> {
    await putIfAbsent({ ...keys.marketWatch(region, instanceType), entity: 'market-watch', region, instance_type: instanceType });
  },

  /** The market watch list (one small partition). */
  async listMarketWatch(): Promise<{ region: string; instance_type: string }[]> {
    return queryAll<{ region: string; instance_type: string }>({
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.marketWatch('', '').PK },
      ProjectionExpression: '#region, instance_type',
      ExpressionAttributeNames: { '#region': 'region' },
    });
  },

  async getPool(poolId: string): Promise<PoolItem | undefined> {
    const item = await getItem<Item>(keys.pool(poolId), false);
    return item ? poolItemOf(item) : undefined;
  },

  /** POOL items by id (one BatchGet per 100); unknown pools are absent. */
  async getPools(poolIds: string[]): Promise<PoolItem[]> {
    return [...(await batchGet(poolIds.map((id) => keys.pool(id)))).values()].map(poolItemOf);
  },

  /**
   * Known pools: of one type in one region (GSI1 `POOLS#<region>#<type>`), of a region or all
   * (GSI2 `POOLS`, sort key `<region>#<pool>`); a type without a region is a filter on GSI2.
   */
  async listPools(filter: { region?: string; instanceType?: string } = {}): Promise<PoolItem[]> {
    let input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;
    if (filter.region && filter.instanceType) {
      input = {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.poolsOfTypeIndex(filter.region, filter.instanceType, '').GSI1PK },
      };
    } else {
      input = {
        IndexName: 'GSI2',
        KeyConditionExpression: filter.region ? 'GSI2PK = :pk AND begins_with(GSI2SK, :region)' : 'GSI2PK = :pk',
        ExpressionAttributeValues: {
          ':pk': keys.allPoolsIndex('', '').GSI2PK,
          ...(filter.region ? { ':region': `${filter.region}#` } : {}),
          ...(filter.instanceType ? { ':type': filter.instanceType } : {}),
        },
        ...(filter.instanceType ? { FilterExpression: 'instance_type = :type' } : {}),
      };
    }
    const items = await queryAll<Item>(input, 1_000_000);
    return items.map(poolItemOf);
  },

  /**
   * Writes the pool-risk job's statistics onto an existing POOL item. A run never overwrites the
   * statistics of a later run (`stats_at` only moves forward). Returns false for an unknown pool.
   */
  async updatePoolStats(poolId: string, stats: PoolStatsUpdate): Promise<boolean> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.pool(poolId),
          UpdateExpression:
            'SET risk_score = :risk, volatility = :vol, avg_price_24h = :avg, price_stddev_24h = :sd, interruptions_30d = :int, history_hours = :hh, stats_at = :at',
          ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(stats_at) OR stats_at <= :at)',
          ExpressionAttributeValues: {
            ':risk': stats.risk_score,
            ':vol': stats.volatility,
            ':avg': stats.avg_price_24h,
            ':sd': stats.price_stddev_24h,
            ':int': stats.interruptions_30d,
            ':hh': stats.history_hours,
            ':at': stats.stats_at,
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  // ---- ConsolidationJob records ----

  async createRun(run: ConsolidationRun): Promise<void> {
    await ddb.send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...keys.consolidationRun(run.started_at, run.id),
          ...keys.consolidationRunsByStatusIndex(run.status, run.started_at, run.id),
          entity: 'consolidation-run',
          ...run,
          ttl: epochSeconds(run.started_at) + RUN_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  },

  /** Final status and figures of a run (the status index moves with the status). */
  async finishRun(
    run: Pick<ConsolidationRun, 'id' | 'started_at'>,
    result: Partial<Omit<ConsolidationRun, 'id' | 'started_at' | 'trigger'>> & { status: ConsolidationStatus },
  ): Promise<void> {
    await ddb.send(
      new UpdateCommand(
        buildUpdate(keys.consolidationRun(run.started_at, run.id), {
          set: { ...result, GSI1PK: keys.consolidationRunsByStatusIndex(result.status, run.started_at, run.id).GSI1PK },
          bumpVersion: false,
        }),
      ),
    );
  },

  /** ConsolidationJob records, newest first; with a status, through the status index (GSI1). */
  async listRuns(status: string | undefined, limit: number, nextToken?: string) {
    const page = await withTokenCheck(() =>
      queryPage<Item>(
        status
          ? {
              IndexName: 'GSI1',
              KeyConditionExpression: 'GSI1PK = :pk',
              ExpressionAttributeValues: { ':pk': keys.consolidationRunsByStatusIndex(status, '', '').GSI1PK },
              ScanIndexForward: false,
            }
          : {
              KeyConditionExpression: 'PK = :pk AND begins_with(SK, :run)',
              ExpressionAttributeValues: { ':pk': keys.consolidationWatermark().PK, ':run': 'RUN#' },
              ScanIndexForward: false,
            },
        limit,
        nextToken,
      ),
    );
    return { items: page.items.map((i) => stripKeys(i) as unknown as ConsolidationRun), nextToken: page.nextToken };
  },

  /** End of the last scheduled/manual window, or undefined before the first run. */
  async getWatermark(): Promise<string | undefined> {
    return (await getItem<{ window_end?: string }>(keys.consolidationWatermark()))?.window_end;
  },

  /** Moves the watermark forward (never back: a late or manual run over an old window leaves it). */
  async advanceWatermark(windowEnd: string, runId: string): Promise<void> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.consolidationWatermark(),
          UpdateExpression: 'SET window_end = :end, run_id = :run, entity = :entity',
          ConditionExpression: 'attribute_not_exists(window_end) OR window_end < :end',
          ExpressionAttributeValues: { ':end': windowEnd, ':run': runId, ':entity': 'consolidation-watermark' },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  },
};
