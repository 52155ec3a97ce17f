import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.js';
import { getItem, isConditionFailure, putIfAbsent, queryPage, stripKeys } from './conditions.js';
import { keys } from './keys.js';

export interface JobLease {
  job: string;
  holder: string | null;
  lease_until: number;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_status: 'ok' | 'failed' | null;
}

export interface JobRun {
  id: string;
  job: string;
  status: 'running' | 'ok' | 'failed';
  started_at: string;
  finished_at: string | null;
  summary: Record<string, unknown>;
  error: string | null;
}

/** Job leases (runs never overlap) and run records (what ran, with what outcome). */
export const jobsRepo = {
  async getLease(job: string): Promise<JobLease | undefined> {
    return getItem<JobLease>(keys.jobLease(job), false);
  },

  /** Takes the lease if it is free or expired; false when another run holds it. */
  async acquire(job: string, holder: string, nowMs: number, leaseSeconds: number, startedAt: string): Promise<boolean> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.jobLease(job),
          UpdateExpression: 'SET holder = :holder, lease_until = :until, last_started_at = :at, job = :job',
          ConditionExpression: 'attribute_not_exists(PK) OR lease_until < :now OR attribute_not_exists(holder)',
          ExpressionAttributeValues: {
            ':holder': holder,
            ':until': nowMs + leaseSeconds * 1000,
            ':at': startedAt,
            ':now': nowMs,
            ':job': job,
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  },

  async release(job: string, holder: string, finishedAt: string, status: 'ok' | 'failed'): Promise<void> {
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.jobLease(job),
          UpdateExpression: 'SET last_finished_at = :at, last_status = :status REMOVE holder',
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':at': finishedAt, ':status': status, ':holder': holder },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // lease expired and was taken over: nothing to release
    }
  },

  async recordRun(run: JobRun): Promise<void> {
    await putIfAbsent({ ...keys.jobRun(run.job, run.started_at, run.id), entity: 'job-run', ...run, ttl: Math.floor(Date.parse(run.started_at) / 1000) + 30 * 86_400 });
  },

  async listRuns(job: string, limit: number, nextToken?: string) {
    const page = await queryPage<Record<string, unknown>>(
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :run)',
        ExpressionAttributeValues: { ':pk': keys.jobLease(job).PK, ':run': 'RUN#' },
        ScanIndexForward: false,
      },
      limit,
      nextToken,
    );
    return { items: page.items.map((i) => stripKeys(i) as unknown as JobRun), nextToken: page.nextToken };
  },
};
