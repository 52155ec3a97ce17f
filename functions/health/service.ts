import { config } from '../shared/config.js';
import { jobsRepo } from '../shared/db/jobs-repo.js';
import { JOBS } from '../jobs/job-table.js';

/** GET / — static banner. */
export const banner = (now: Date) => ({
  name: 'spot-optimizer' as const,
  version: config.version,
  api_base: '/api' as const,
  timestamp: now.toISOString(),
});

/**
 * Whether a request comes from a browser navigating to `/`: its Accept names text/html (browsers
 * send `text/html,application/xhtml+xml,…`); curl's and the SDKs' wildcard or application/json do not.
 */
export const prefersHtml = (accept: string | undefined): boolean =>
  (accept ?? '').split(',').some((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    return type === 'text/html' && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
  });

/** A job is "fresh" when it ran within three of its periods (the heartbeat-timeout job runs every minute). */
const FRESHNESS_FACTOR = 3;

/**
 * GET /health — one DynamoDB read with a 1 s budget: the lease item of the most frequent job,
 * which also tells whether the scheduler is running.
 */
export async function health(now: Date): Promise<{ ok: boolean; body: Record<string, unknown> }> {
  const job = JOBS.find((j) => j.name === 'agent-heartbeat-timeout') ?? JOBS[0];
  let database = 'ok';
  let scheduler = 'unknown';
  try {
    const lease = await Promise.race([
      jobsRepo.getLease(job?.name ?? 'none'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
    ]);
    const lastRun = lease?.last_finished_at ? Date.parse(lease.last_finished_at) : undefined;
    const period = (job?.localEverySeconds ?? 60) * 1000;
    scheduler = lastRun === undefined ? 'unknown' : now.getTime() - lastRun <= FRESHNESS_FACTOR * period ? 'ok' : 'stale';
  } catch {
    database = 'unreachable';
  }
  if (database !== 'ok') return { ok: false, body: { status: 'unhealthy' } };
  return {
    ok: true,
    body: {
      status: scheduler === 'stale' ? 'degraded' : 'healthy',
      timestamp: now.toISOString(),
      version: config.version,
      checks: { database, scheduler },
    },
  };
}
