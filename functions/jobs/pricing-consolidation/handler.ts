import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { parseTimestamp } from '../../shared/domain/ids.js';
import { runJob } from '../../shared/jobs/create-job-handler.js';
import { logger, metrics } from '../../shared/observability.js';
import { backfillSpotPrices } from './backfill.js';
import { consolidatePrices, type ConsolidationRunOptions } from './job.js';

export const JOB_NAME = 'pricing-consolidation';

/**
 * What an invocation asks for. The schedule (every 12 h) sends a Scheduler event: a normal run.
 * An on-demand run is a direct invoke of this Lambda (API.md has no HTTP route for it):
 * - `{}` or `{"trigger":"manual"}`: a normal run now (the local runtime's POST /local/jobs/pricing-consolidation);
 * - `{"trigger":"manual","window_start":"…","window_end":"…"}`: reprocess an explicit window;
 * - `{"backfill":{"days":7}}` or `{"backfill":{"start":"…","end":"…","pools":["m5.large.us-east-1a"]}}`:
 *   DescribeSpotPriceHistory backfill (needs ec2:DescribeSpotPriceHistory on the function's role).
 */
export type ConsolidationRequest =
  | { kind: 'consolidate'; options: ConsolidationRunOptions }
  | { kind: 'backfill'; start: Date; end: Date; pools?: string[] };

const validDate = (v: unknown): Date | undefined => {
  if (typeof v !== 'string') return undefined;
  const d = parseTimestamp(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

/** Reads the invocation event; anything unrecognised (e.g. the Scheduler's own payload) is a normal run. */
export function parseRequest(event: unknown, now: Date): ConsolidationRequest {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const backfill = e.backfill;
  if (typeof backfill === 'object' && backfill !== null) {
    const b = backfill as Record<string, unknown>;
    const days = typeof b.days === 'number' && b.days > 0 ? Math.min(b.days, 90) : 7;
    const end = validDate(b.end) ?? now;
    const start = validDate(b.start) ?? new Date(end.getTime() - days * 86_400_000);
    const pools = Array.isArray(b.pools) ? b.pools.filter((p): p is string => typeof p === 'string') : undefined;
    return { kind: 'backfill', start, end, ...(pools?.length ? { pools } : {}) };
  }
  const manual = e.trigger === 'manual';
  const windowStart = validDate(e.window_start);
  const windowEnd = validDate(e.window_end);
  return {
    kind: 'consolidate',
    options: {
      trigger: manual || windowStart ? 'manual' : 'schedule',
      ...(windowStart ? { windowStart } : {}),
      ...(windowEnd ? { windowEnd } : {}),
    },
  };
}

/** Leased like every job (runs never overlap); a backfill shares the lease, so it never races a run. */
export const handler = middy(async (event: unknown, _context: Context) => {
  const now = new Date();
  const request = parseRequest(event, now);
  if (request.kind === 'backfill') {
    return runJob(
      JOB_NAME,
      (at) =>
        backfillSpotPrices(at, {
          start: request.start,
          end: request.end,
          ...(request.pools ? { poolIds: request.pools } : {}),
        }),
      now,
    );
  }
  return runJob(JOB_NAME, (at) => consolidatePrices(at, request.options), now);
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
