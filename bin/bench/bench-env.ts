import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTable } from '../../functions/shared/db/create-table.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../support/dynamodb-local.js';

/**
 * One DynamoDB Local + table for the whole bench run, with the environment the functions read set
 * BEFORE any function module is imported (benches import function code dynamically).
 */
export async function startBenchEnvironment(): Promise<{ db: DynamoDbLocal; adminToken: string; stop: () => Promise<void> }> {
  const db = await startDynamoDbLocal();
  const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
  Object.assign(process.env, {
    DYNAMODB_ENDPOINT: db.endpoint,
    TABLE_NAME: 'spot-optimizer-bench',
    ADMIN_TOKEN: adminToken,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
  });
  await createTable(new DynamoDBClient({ endpoint: db.endpoint }), 'spot-optimizer-bench');
  return { db, adminToken, stop: () => db.stop() };
}

/** Runs `task` `total` times with `concurrency` workers; returns per-call latencies (ms) and wall time. */
export async function runConcurrent(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await task(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
}

export { percentile } from '../support/latency.js';

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

export const progress = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

export { rng } from '../support/random.js';

/** POSTs JSON with a bearer token to a running API; a non-2xx answer throws with its body. */
export async function postJson(baseUrl: string, path: string, token: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${path} → ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
