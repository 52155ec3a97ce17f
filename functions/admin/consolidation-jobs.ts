import { pricesRepo } from '../shared/db/prices-repo.js';

/**
 * GET /api/admin/consolidation-jobs: the pricing-consolidation runs (ConsolidationJob records),
 * newest first; `status` (`running|ok|failed`) reads the status index. Runs are triggered by the
 * 12-hourly schedule, on demand by invoking the job Lambda (locally: POST /local/jobs/pricing-consolidation),
 * and by the DescribeSpotPriceHistory backfill (`trigger: "backfill"`).
 */
export async function listConsolidationJobs(query: { status?: string; limit: number; nextToken?: string }) {
  const page = await pricesRepo.listRuns(query.status, query.limit, query.nextToken);
  return {
    jobs: page.items.map((r) => ({
      id: r.id,
      status: r.status,
      window_start: r.window_start ?? null,
      window_end: r.window_end ?? null,
      finished_at: r.finished_at ?? null,
      points_read: r.points_read ?? null,
      duplicates_removed: r.duplicates_removed ?? null,
      points_interpolated: r.points_interpolated ?? null,
      error: r.error ?? null,
      trigger: r.trigger ?? null,
      started_at: r.started_at,
      lower_rank_discarded: r.lower_rank_discarded ?? null,
      buckets_written: r.buckets_written ?? null,
      hours_written: r.hours_written ?? null,
      pools: r.pools ?? null,
    })),
    nextToken: page.nextToken,
  };
}
