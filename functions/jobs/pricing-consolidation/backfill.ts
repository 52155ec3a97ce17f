import type { EC2Client } from '@aws-sdk/client-ec2';
import { type PoolItem, pricesRepo, type StagedPoint } from '../../shared/db/prices-repo.js';
import { BUCKET_MS } from '../../shared/domain/consolidation.js';
import { parsePoolId, poolIdOf } from '../../shared/domain/ids.js';
import type { JobSummary } from '../../shared/jobs/create-job-handler.js';
import { awsMarketSource, type MarketPriceSource, marketPriceSource } from '../../shared/market/market-prices.js';
import { logger } from '../../shared/observability.js';
import { forEachLiveAgent } from '../../shared/savings-ledger.js';
import { consolidatePrices, DEFAULT_LOOKBACK_MS } from './job.js';

/**
 * Backfill of the price series from the market source — EC2 DescribeSpotPriceHistory in AWS
 * (EC2-SIGNALS.md §7) — for the pools the fleet uses (POOL items and every live agent's pool) or
 * an explicit list.
 *
 * - One request series per AZ: the AZ's instance types, `Linux/UNIX`, `StartTime`/`EndTime`,
 *   `MaxResults` 1000, paginated with `NextToken` until it is empty or null (aws-market-source.ts).
 * - Records are price *changes*: the API also returns the last change before StartTime (the price in
 *   force at the start). They are staged with `source_role: 'EC2_API'` (reporter `ec2-api`), and
 *   consolidation holds each EC2 price until the next record (and the last one until EndTime)
 *   instead of interpolating.
 * - The staged points' TTL counts from now (not from their old timestamps), then the backfill window
 *   is consolidated at once (`trigger: 'backfill'`, visible on the consolidation-jobs route; it does
 *   not move the scheduled runs' watermark).
 * - Each pool's POOL item gets the price in force at EndTime (`priced_at` = EndTime: the market
 *   vouches for it up to then), unless the pool already has a later market price.
 */

/** DescribeSpotPriceHistory accepts at most 90 days of history. */
export const MAX_BACKFILL_DAYS = 90;
export const EC2_REPORTER = 'ec2-api';

export type BackfillPool = Pick<PoolItem, 'pool_id' | 'instance_type' | 'az' | 'region' | 'on_demand_price'>;

export interface BackfillOptions {
  start: Date;
  end: Date;
  /** Default: every known pool (POOL items) and every live agent's current pool, in every region. */
  pools?: BackfillPool[];
  /** Or pool ids (`<type>.<az>`): known pools keep their POOL item's region and on-demand price. */
  poolIds?: string[];
  /** On-demand prices by region and type (default: the POOL item's `on_demand_price`). */
  onDemandPrices?: Record<string, Record<string, number>>;
  /** The market source (default: the process's, EC2 in AWS). */
  source?: MarketPriceSource;
  /** EC2 client per region, for the AWS source (tests pin the exact requests with it). */
  clientFor?: (region: string) => EC2Client;
  /** Consolidate the window after staging (default true). */
  consolidate?: boolean;
  /** MaxResults per page (1–1000, default 1000). */
  pageSize?: number;
}

/** The requests to send: one series per AZ, its instance types sorted (deterministic, testable). */
export function planRequests(pools: readonly BackfillPool[]): { region: string; az: string; instanceTypes: string[] }[] {
  const byAz = new Map<string, { region: string; types: Set<string> }>();
  for (const p of pools) {
    let entry = byAz.get(p.az);
    if (!entry) {
      entry = { region: p.region, types: new Set() };
      byAz.set(p.az, entry);
    }
    entry.types.add(p.instance_type);
  }
  return [...byAz.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([az, e]) => ({ region: e.region, az, instanceTypes: [...e.types].sort() }));
}

/**
 * Fetches, stages and (by default) consolidates the spot price history of [start, end]. Returns
 * figures for the job summary; progress is logged per page.
 */
export async function backfillSpotPrices(now: Date, options: BackfillOptions): Promise<JobSummary> {
  const earliestAllowed = now.getTime() - MAX_BACKFILL_DAYS * 86_400_000;
  const end = new Date(Math.min(options.end.getTime(), now.getTime()));
  const start = new Date(Math.max(options.start.getTime(), earliestAllowed));
  if (start.getTime() !== options.start.getTime()) {
    logger.warn('backfill start clamped to 90 days back', { requested: options.start.toISOString(), start: start.toISOString() });
  }
  if (!(end > start)) throw new Error('backfill window is empty');
  const pools = options.pools ?? (await resolvePools(options.poolIds));
  const wanted = new Map(pools.map((p) => [p.pool_id, p]));
  const plan = planRequests(pools);
  const source = options.source ?? (options.clientFor ? await awsMarketSource({ ec2For: options.clientFor }) : await marketPriceSource());
  logger.info('spot price backfill started', {
    source: source.name,
    start: start.toISOString(),
    end: end.toISOString(),
    pools: pools.length,
    request_series: plan.length,
  });

  let pages = 0;
  let records = 0;
  let staged = 0;
  const earliest = new Map<string, number>();
  const latest = new Map<string, { time: number; price: number }>();
  for (const [index, request] of plan.entries()) {
    let seriesRecords = 0;
    const series = await source.spotPriceHistory(
      {
        region: request.region,
        az: request.az,
        instanceTypes: request.instanceTypes,
        start,
        end,
        ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      },
      async (changes) => {
        const points: StagedPoint[] = [];
        for (const c of changes) {
          seriesRecords++;
          const poolId = poolIdOf(c.instance_type, c.az);
          const pool = wanted.get(poolId);
          if (!pool) continue;
          points.push({
            pool_id: poolId,
            instance_type: pool.instance_type,
            region: pool.region,
            az: pool.az,
            price: c.price,
            on_demand_price: options.onDemandPrices?.[pool.region]?.[pool.instance_type] ?? pool.on_demand_price ?? null,
            collected_at: new Date(c.at).toISOString(),
            source_role: 'EC2_API',
            agent_id: null,
            client_id: null,
            reporter_instance_id: EC2_REPORTER,
          });
          earliest.set(poolId, Math.min(earliest.get(poolId) ?? c.at, c.at));
          const last = latest.get(poolId);
          if (!last || c.at > last.time || (c.at === last.time && c.price > last.price)) latest.set(poolId, { time: c.at, price: c.price });
        }
        await pricesRepo.stage(points, { ttlFrom: now });
        staged += points.length;
        logger.info('spot price backfill progress', {
          az: request.az,
          series: `${index + 1}/${plan.length}`,
          page_records: changes.length,
          series_records: seriesRecords,
          points_staged: staged,
        });
      },
    );
    pages += series.pages;
    records += series.records;
  }

  for (const [poolId, last] of latest) {
    const pool = wanted.get(poolId) as BackfillPool;
    await pricesRepo.recordMarketPrice({
      pool_id: poolId,
      instance_type: pool.instance_type,
      region: pool.region,
      az: pool.az,
      price: last.price,
      on_demand_price: options.onDemandPrices?.[pool.region]?.[pool.instance_type] ?? pool.on_demand_price ?? null,
      priced_at: end.toISOString(),
      source: source.name,
    });
  }

  const summary: JobSummary = {
    start: start.toISOString(),
    end: end.toISOString(),
    pools_requested: pools.length,
    pools_with_records: latest.size,
    request_series: plan.length,
    pages,
    records,
    points_staged: staged,
  };
  if (options.consolidate !== false && latest.size > 0) {
    const firstRecord = Math.min(...earliest.values());
    summary.consolidation = await consolidatePrices(now, {
      windowStart: start,
      windowEnd: end,
      pools: [...latest.keys()],
      // Reach back to the carry-in records (the price in force at StartTime), however old.
      lookbackMs: Math.max(DEFAULT_LOOKBACK_MS, start.getTime() - firstRecord + BUCKET_MS),
      holdUntil: end,
      trigger: 'backfill',
    });
  }
  logger.info('spot price backfill finished', summary);
  return summary;
}

/**
 * The pools every live agent runs in now (its PRIMARY's type and AZ), whatever the region: an agent
 * whose pool no pricing report named yet (a new region, a new type) is backfilled too. Clients and
 * their agents are read through their indexes (savings-ledger's walk), never a Scan.
 */
async function agentPools(): Promise<BackfillPool[]> {
  const pools = new Map<string, BackfillPool>();
  await forEachLiveAgent(async (agent) => {
    if (!agent.instance_type || !agent.az) return;
    const id = poolIdOf(agent.instance_type, agent.az);
    const region = agent.region ?? parsePoolId(id).region;
    pools.set(id, { pool_id: id, instance_type: agent.instance_type, az: agent.az, region, on_demand_price: null });
  });
  return [...pools.values()];
}

/**
 * The fleet's pools — POOL items plus every live agent's pool — or the given ids (unknown ones
 * parsed from `<type>.<az>`).
 */
async function resolvePools(ids: readonly string[] | undefined): Promise<BackfillPool[]> {
  const known = (await pricesRepo.listPools()).map((p) => ({
    pool_id: p.pool_id,
    instance_type: p.instance_type,
    az: p.az,
    region: p.region,
    on_demand_price: p.on_demand_price ?? null,
  }));
  if (!ids) {
    const knownIds = new Set(known.map((p) => p.pool_id));
    return [...known, ...(await agentPools()).filter((p) => !knownIds.has(p.pool_id))];
  }
  const byId = new Map(known.map((p) => [p.pool_id, p]));
  return [...new Set(ids)].map((id) => {
    const pool = byId.get(id);
    if (pool) return pool;
    const { instanceType, az, region } = parsePoolId(id);
    return { pool_id: id, instance_type: instanceType, az, region, on_demand_price: null };
  });
}
