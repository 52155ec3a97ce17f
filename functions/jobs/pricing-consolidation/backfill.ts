import type { DescribeSpotPriceHistoryCommandInput, EC2Client, _InstanceType } from '@aws-sdk/client-ec2';
import type * as Ec2Sdk from './ec2.js';
import { type PoolItem, pricesRepo, type StagedPoint } from '../../shared/db/prices-repo.js';
import { BUCKET_MS } from '../../shared/domain/consolidation.js';
import { parsePoolId, poolIdOf } from '../../shared/domain/ids.js';
import type { JobSummary } from '../../shared/jobs/create-job-handler.js';
import { logger, traced } from '../../shared/observability.js';
import { forEachLiveAgent } from '../../shared/savings-ledger.js';
import { consolidatePrices, DEFAULT_LOOKBACK_MS } from './job.js';

/**
 * Backfill of the price series from EC2 DescribeSpotPriceHistory (EC2-SIGNALS.md §7), for the pools
 * the fleet uses (the POOL items pricing reports created) or an explicit list.
 *
 * - One request series per AZ: `AvailabilityZone`, the AZ's instance types, `Linux/UNIX`,
 *   `StartTime`/`EndTime`, `MaxResults` 1000, paginated with `NextToken` until it is empty or null.
 * - Records are price *changes*: the API also returns the last change before StartTime (the price in
 *   force at the start). They are staged with `source_role: 'EC2_API'` (reporter `ec2-api`), which
 *   ranks below PRIMARY and REPLICA agent reports in consolidation, and consolidation holds each
 *   EC2 price until the next record (and the last one until EndTime) instead of interpolating.
 * - The staged points' TTL counts from now (not from their old timestamps), then the backfill window
 *   is consolidated at once (`trigger: 'backfill'`, visible on the consolidation-jobs route; it does
 *   not move the scheduled runs' watermark).
 * - Each pool's POOL item gets the price in force at EndTime (`priced_at` = EndTime: the API vouches
 *   for it up to then), unless the pool already has a newer observation.
 */

/** DescribeSpotPriceHistory accepts at most 90 days of history. */
export const MAX_BACKFILL_DAYS = 90;
export const PRODUCT_DESCRIPTION = 'Linux/UNIX';
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
  /** EC2 client per region (default: one `EC2Client` per region, created once). */
  clientFor?: (region: string) => EC2Client;
  /** Consolidate the window after staging (default true). */
  consolidate?: boolean;
  /** MaxResults per page (1–1000, default 1000). */
  pageSize?: number;
}

/**
 * The EC2 SDK: deployed, its own bundle beside index.mjs (job-table `lazyBundles`), so that no cold
 * start of the job loads it; from the sources (local runtime, tests, scripts), the module itself.
 */
const EC2_MODULE = import.meta.url.endsWith('.mjs') ? './ec2.mjs' : './ec2.js';
// A variable, not literals: the bundler must leave this import to run time.
const loadEc2 = (): Promise<typeof Ec2Sdk> => import(EC2_MODULE);

const clients = new Map<string, EC2Client>();
const defaultClientFor = (sdk: typeof Ec2Sdk) => (region: string): EC2Client => {
  let client = clients.get(region);
  if (!client) {
    client = traced(new sdk.EC2Client({ region, maxAttempts: 5 }));
    clients.set(region, client);
  }
  return client;
};

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
  const sdk = await loadEc2();
  const clientFor = options.clientFor ?? defaultClientFor(sdk);
  logger.info('spot price backfill started', {
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
    const client = clientFor(request.region);
    let nextToken: string | undefined;
    let seriesRecords = 0;
    do {
      const input: DescribeSpotPriceHistoryCommandInput = {
        AvailabilityZone: request.az,
        InstanceTypes: request.instanceTypes as _InstanceType[],
        ProductDescriptions: [PRODUCT_DESCRIPTION],
        StartTime: start,
        EndTime: end,
        MaxResults: options.pageSize ?? 1000,
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
      const out = await client.send(new sdk.DescribeSpotPriceHistoryCommand(input));
      pages++;
      const points: StagedPoint[] = [];
      for (const r of out.SpotPriceHistory ?? []) {
        records++;
        seriesRecords++;
        if (!r.InstanceType || !r.AvailabilityZone || r.SpotPrice === undefined || !r.Timestamp) continue;
        if (r.ProductDescription && r.ProductDescription !== PRODUCT_DESCRIPTION) continue;
        const poolId = `${r.InstanceType}.${r.AvailabilityZone}`;
        const pool = wanted.get(poolId);
        const price = Number.parseFloat(r.SpotPrice);
        const time = new Date(r.Timestamp).getTime();
        if (!pool || !Number.isFinite(price) || price < 0 || !Number.isFinite(time)) continue;
        points.push({
          pool_id: poolId,
          instance_type: pool.instance_type,
          region: pool.region,
          az: pool.az,
          price,
          on_demand_price: options.onDemandPrices?.[pool.region]?.[pool.instance_type] ?? pool.on_demand_price ?? null,
          collected_at: new Date(time).toISOString(),
          source_role: 'EC2_API',
          agent_id: null,
          client_id: null,
          reporter_instance_id: EC2_REPORTER,
        });
        earliest.set(poolId, Math.min(earliest.get(poolId) ?? time, time));
        const last = latest.get(poolId);
        if (!last || time > last.time || (time === last.time && price > last.price)) latest.set(poolId, { time, price });
      }
      await pricesRepo.stage(points, { ttlFrom: now });
      staged += points.length;
      nextToken = out.NextToken || undefined; // "" or null ends the series
      logger.info('spot price backfill progress', {
        az: request.az,
        series: `${index + 1}/${plan.length}`,
        page_records: out.SpotPriceHistory?.length ?? 0,
        series_records: seriesRecords,
        total_records: records,
        points_staged: staged,
        more: nextToken !== undefined,
      });
    } while (nextToken);
  }

  for (const [poolId, last] of latest) {
    const pool = wanted.get(poolId) as BackfillPool;
    await pricesRepo.upsertLatestPrice({
      pool_id: poolId,
      instance_type: pool.instance_type,
      region: pool.region,
      az: pool.az,
      price: last.price,
      on_demand_price: options.onDemandPrices?.[pool.region]?.[pool.instance_type] ?? pool.on_demand_price ?? null,
      priced_at: end.toISOString(),
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
