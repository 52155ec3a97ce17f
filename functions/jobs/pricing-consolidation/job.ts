import {
  type ConsolidationRun,
  type ConsolidationTrigger,
  pricesRepo,
  type StagedRow,
} from '../../shared/db/prices-repo.js';
import {
  BUCKET_MS,
  type ConsolidationResult,
  consolidate,
  HOUR_MS,
  hourOf,
  MAX_INTERPOLATION_GAP_MS,
  type PricePoint,
} from '../../shared/domain/consolidation.js';
import { newId } from '../../shared/domain/ids.js';
import type { JobSummary } from '../../shared/jobs/create-job-handler.js';
import { logger } from '../../shared/observability.js';
import { interruptionsByPool } from '../../shared/pool-interruptions.js';

/** API.md §6: each run starts 1 h before the previous window's end. */
export const WINDOW_OVERLAP_MS = HOUR_MS;
/** A derived window never reaches back further than staging is kept (14 days). */
export const MAX_DERIVED_WINDOW_MS = 14 * 24 * HOUR_MS;
/** Points this far before the window are read as anchors for the first gap (6 h + one bucket). */
export const DEFAULT_LOOKBACK_MS = MAX_INTERPOLATION_GAP_MS + BUCKET_MS;

export interface ConsolidationRunOptions {
  /** Explicit window start (manual reprocessing, backfill, tests); default: watermark − 1 h. */
  windowStart?: Date;
  /** Explicit window end; default `now`. */
  windowEnd?: Date;
  /** Only these pools (the backfill consolidates the pools it fetched). */
  pools?: readonly string[];
  /** How far before the window staging is read for anchors (default 6 h 5 min). */
  lookbackMs?: number;
  /** EC2_API prices hold until this time after their last record (the backfill's EndTime). */
  holdUntil?: Date;
  trigger?: ConsolidationTrigger;
}

/**
 * The window of a scheduled run (API.md §6): from the previous window end − 1 h (aligned down to the
 * hour, so every canonical hour is recomputed from all its buckets) up to now; the first run, or one
 * after a long pause, covers what staging still holds (14 days).
 */
export function consolidationWindow(now: Date, previousWindowEnd: string | undefined): { start: number; end: number } {
  const end = now.getTime();
  const floor = end - MAX_DERIVED_WINDOW_MS;
  const fromWatermark = previousWindowEnd ? Date.parse(previousWindowEnd) - WINDOW_OVERLAP_MS : floor;
  return { start: hourOf(Math.min(Math.max(fromWatermark, floor), end)), end };
}

const toPoint = (r: StagedRow): PricePoint => ({
  pool_id: r.pool_id,
  time: Date.parse(r.collected_at),
  price: Number(r.price),
  on_demand_price: r.on_demand_price ?? null,
  source: r.source_role === 'REPLICA' || r.source_role === 'EC2_API' ? r.source_role : 'PRIMARY',
  reporter: r.reporter_instance_id,
});

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Writes a consolidation result: PRICE5M and PRICEH items with deterministic keys (pool, bucket /
 * hour start). Rewriting them is harmless: they are a pure function of staging.
 */
export async function writeConsolidation(result: ConsolidationResult): Promise<void> {
  await pricesRepo.putConsolidated(
    result.buckets.map((b) => ({
      pool_id: b.pool_id,
      bucket_start: iso(b.bucket_start),
      price: b.price,
      on_demand_price: b.on_demand_price,
      is_interpolated: b.is_interpolated,
      fill: b.fill,
      source: b.source,
      samples: b.samples,
    })),
  );
  await pricesRepo.putCanonical(
    result.hours.map((h) => ({
      pool_id: h.pool_id,
      hour_start: iso(h.hour_start),
      avg_price: h.avg_price,
      min_price: h.min_price,
      max_price: h.max_price,
      last_price: h.last_price,
      on_demand_price: h.on_demand_price,
      interruptions: h.interruptions,
      buckets: h.buckets,
      interpolated_buckets: h.interpolated_buckets,
    })),
  );
}

/**
 * Runs never overlap (the job's lease), so a run still `running` when another starts died with its
 * invocation (a crash, a timeout): it is recorded as failed instead of staying `running` for ever.
 */
async function closeAbandonedRuns(now: Date): Promise<void> {
  const { items } = await pricesRepo.listRuns('running', 100);
  for (const run of items) {
    await pricesRepo.finishRun(run, { status: 'failed', finished_at: now.toISOString(), error: 'abandoned: the run did not finish (its invocation ended)' });
    logger.warn('pricing consolidation run abandoned', { run_id: run.id, started_at: run.started_at });
  }
}

/**
 * The pricing-consolidation job (API.md §6): staging → consolidated 5-minute series → canonical
 * hourly series, for the window from the previous window end − 1 h to now. Each run writes a
 * ConsolidationJob record (running → ok | failed). Staging is read through the day index (Query per
 * day, no Scan); points up to 6 h before the window serve as interpolation anchors.
 */
export async function consolidatePrices(now: Date, options: ConsolidationRunOptions = {}): Promise<JobSummary> {
  const trigger = options.trigger ?? 'schedule';
  let start: number;
  let end: number;
  if (options.windowStart) {
    end = (options.windowEnd ?? now).getTime();
    start = hourOf(options.windowStart.getTime());
  } else {
    ({ start, end } = consolidationWindow(options.windowEnd ?? now, await pricesRepo.getWatermark()));
  }
  const run: ConsolidationRun = {
    id: newId(),
    status: 'running',
    trigger,
    started_at: now.toISOString(),
    window_start: iso(start),
    window_end: iso(end),
    finished_at: null,
    points_read: null,
    duplicates_removed: null,
    points_interpolated: null,
    lower_rank_discarded: null,
    buckets_written: null,
    hours_written: null,
    pools: null,
    error: null,
  };
  await closeAbandonedRuns(now);
  await pricesRepo.createRun(run);
  logger.info('pricing consolidation started', { run_id: run.id, trigger, window_start: run.window_start, window_end: run.window_end });
  try {
    const poolFilter = options.pools ? new Set(options.pools) : undefined;
    const readFrom = start - (options.lookbackMs ?? DEFAULT_LOOKBACK_MS);
    const points: PricePoint[] = [];
    await pricesRepo.readStaged(iso(readFrom), iso(end), (rows) => {
      for (const r of rows) points.push(toPoint(r));
    }, poolFilter);
    const interruptions = await interruptionsByPool(iso(start), iso(end));
    const result = consolidate(points, {
      windowStart: start,
      windowEnd: end,
      interruptions,
      ...(options.holdUntil ? { holdUntil: options.holdUntil.getTime() } : {}),
    });
    await writeConsolidation(result);
    const figures = {
      points_read: result.stats.points_read,
      duplicates_removed: result.stats.duplicates_removed,
      points_interpolated: result.stats.points_interpolated,
      lower_rank_discarded: result.stats.lower_rank_discarded,
      buckets_written: result.buckets.length,
      hours_written: result.hours.length,
      pools: result.stats.pools,
    };
    await pricesRepo.finishRun(run, { status: 'ok', finished_at: new Date().toISOString(), ...figures });
    // Only a derived window moves the schedule forward; reprocessing an explicit window or a backfill does not.
    if (!options.windowStart) await pricesRepo.advanceWatermark(run.window_end, run.id);
    logger.info('pricing consolidation finished', { run_id: run.id, ...figures });
    return { run_id: run.id, trigger, window_start: run.window_start, window_end: run.window_end, ...figures };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await pricesRepo
      .finishRun(run, { status: 'failed', finished_at: new Date().toISOString(), error: message.slice(0, 1000) })
      .catch((recordErr: unknown) => logger.error('could not record the failed run', { error: recordErr as Error }));
    throw err;
  }
}
