import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { jobsRepo } from '../db/jobs-repo.js';
import { newId } from '../domain/ids.js';
import { logger, MetricUnit, metrics } from '../observability.js';

export type JobSummary = Record<string, unknown>;
export type JobBody = (now: Date) => Promise<JobSummary>;

export interface JobOutcome {
  job: string;
  status: 'ok' | 'failed' | 'skipped';
  summary: JobSummary;
}

/**
 * Runs a job body under a lease (API.md §6: runs never overlap) and records the run. A run that
 * finds the lease held is skipped, not failed. Exported for tests and the local runtime.
 */
export async function runJob(job: string, body: JobBody, now = new Date(), leaseSeconds = 300): Promise<JobOutcome> {
  const holder = newId();
  const startedAt = now.toISOString();
  if (!(await jobsRepo.acquire(job, holder, now.getTime(), leaseSeconds, startedAt))) {
    logger.info('job skipped: lease held by another run', { job });
    metrics.addMetric('JobSkipped', MetricUnit.Count, 1);
    return { job, status: 'skipped', summary: {} };
  }
  const started = performance.now();
  let status: 'ok' | 'failed' = 'ok';
  let summary: JobSummary = {};
  let error: string | null = null;
  try {
    summary = await body(now);
    logger.info('job finished', { job, summary });
  } catch (err) {
    status = 'failed';
    error = err instanceof Error ? err.message : String(err);
    logger.error('job failed', { job, error: err as Error });
    throw err;
  } finally {
    const finishedAt = new Date().toISOString();
    metrics.addMetric('JobDuration', MetricUnit.Milliseconds, performance.now() - started);
    metrics.addMetric(status === 'ok' ? 'JobSucceeded' : 'JobFailed', MetricUnit.Count, 1);
    await jobsRepo.recordRun({ id: holder, job, status, started_at: startedAt, finished_at: finishedAt, summary, error });
    await jobsRepo.release(job, holder, finishedAt, status);
  }
  return { job, status, summary };
}

/**
 * The time a job runs at: an EventBridge "Scheduled Event" carries the time it was scheduled for
 * (the one clock seam of the jobs: the local runtime's `--demo` seeder replays past days by sending
 * events with earlier times); any other payload (EventBridge Scheduler's) runs at the current time.
 */
export function scheduledTime(event: unknown): Date {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const at = e['detail-type'] === 'Scheduled Event' && typeof e.time === 'string' ? Date.parse(e.time) : Number.NaN;
  return Number.isFinite(at) ? new Date(at) : new Date();
}

/** A scheduled job's Lambda handler: Powertools logger + metrics, then the leased run. */
export function createJobHandler(job: string, body: JobBody) {
  return middy(async (event: unknown, _context: Context) => runJob(job, body, scheduledTime(event)))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
