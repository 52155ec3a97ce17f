/**
 * GET /api/admin/system-health: the table, the engine pointer, agents, each scheduled job's
 * freshness, the EC2 event feed and the EC2-events dead-letter queue (read through dlq.ts).
 */
import { JOBS } from '../jobs/job-table.js';
import { config } from '../shared/config.js';
import { adminRepo } from '../shared/db/admin-repo.js';
import { jobsRepo } from '../shared/db/jobs-repo.js';
import { uploadsRepo } from '../shared/db/uploads-repo.js';
import { logger } from '../shared/observability.js';
import { queueDepth } from './dlq.js';

/** Expected period of a job from its EventBridge expression (rate(N unit) or a daily cron). */
export function expectedPeriodSeconds(schedule: string): number {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(schedule.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2] ?? '';
    return n * (unit.startsWith('minute') ? 60 : unit.startsWith('hour') ? 3600 : 86_400);
  }
  return 86_400; // the cron jobs of job-table.ts run daily
}

/** DLQ depth (visible + in flight), or null when no DLQ is configured or it cannot be read. */
async function dlqDepth(): Promise<number | null> {
  const url = config.dlqUrl;
  if (!url) return null;
  try {
    return await queueDepth(url);
  } catch (err) {
    logger.warn('could not read the DLQ depth', { error: err as Error });
    return null;
  }
}

async function safely<T>(what: string, fn: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    logger.warn(`system-health: ${what} failed`, { error: err as Error });
    return fallback;
  }
}

/**
 * Component health: the table (one GetItem, 1 s budget), the decision engine pointer, agents,
 * each scheduled job's last run and freshness (a job is stale when its last run is older than
 * twice its period), the EC2 event feed, and the DLQ depth when EVENTS_DLQ_URL is set.
 */
export async function systemHealth(now: Date) {
  const reachable = await adminRepo.ping(1000);
  const [pointer, online, offline, jobs, ec2At, depth] = await Promise.all([
    safely('engine pointer', () => uploadsRepo.pointer(false), undefined),
    safely('online agents', () => adminRepo.countOnlineAgents(), 0),
    safely('offline agents', () => adminRepo.countAgents({ statuses: ['offline', 'error'] }), 0),
    Promise.all(
      JOBS.map(async (job) => {
        const lease = await safely(`lease ${job.name}`, () => jobsRepo.getLease(job.name), undefined);
        const lastRunAt = lease?.last_finished_at ?? lease?.last_started_at ?? null;
        const period = expectedPeriodSeconds(job.schedule);
        const fresh = lastRunAt !== null && now.getTime() - Date.parse(lastRunAt) <= 2 * period * 1000;
        return {
          name: job.name,
          last_run_at: lastRunAt,
          last_status: lease?.last_status ?? (lease?.holder ? 'running' : null),
          expected_every_seconds: period,
          fresh,
        };
      }),
    ),
    safely('ec2 events meta', () => adminRepo.ec2EventsLastReceivedAt(), null),
    dlqDepth(),
  ]);
  const staleJobs = jobs.filter((j) => !j.fresh).map((j) => j.name);
  return {
    api_status: reachable ? (staleJobs.length === 0 && (depth ?? 0) === 0 ? 'healthy' : 'degraded') : 'unhealthy',
    database: reachable ? 'healthy' : 'unreachable',
    decision_engine: pointer?.active_upload_id ? 'active_upload' : 'default_parameters',
    active_upload_id: pointer?.active_upload_id ?? null,
    agents: { online, offline },
    jobs,
    stale_jobs: staleJobs,
    ec2_events_last_received_at: ec2At,
    dlq: { configured: Boolean(config.dlqUrl), depth },
    checked_at: now.toISOString(),
  };
}
