import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { percentile, postJson, progress, round, runConcurrent } from './bench-env.js';

const TOTAL = Number(process.env.BENCH_HEARTBEATS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const AGENTS = 50;

/**
 * Heartbeat throughput through the full stack (HTTP → local gateway → middy → auth (token GetItem)
 * → zod → service (agent GetItem + UpdateItem + instance touch)) against the raw UpdateItem the
 * heartbeat ends with, on the same DynamoDB Local, at the same concurrency. The ratio says what the
 * layers cost on top of the one unavoidable write.
 */
export async function run(adminToken: string): Promise<Record<string, unknown>> {
  const { startLocalGatewayForBench } = await import('./gateway.js');
  const { addDbHook, ddb, tableName } = await import('../../functions/shared/db/client.js');
  const { keys } = await import('../../functions/shared/db/keys.js');
  const gateway = await startLocalGatewayForBench();
  try {
    const post = (path: string, token: string, body: unknown) => postJson(gateway.baseUrl, path, token, body);
    const created = await post('/api/admin/clients/create', adminToken, { name: `bench-${randomUUID()}`, max_agents: 1000 });
    const token = (created.client as { token: string }).token;
    const agents: string[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const reg = await post('/api/agents/register', token, {
        logical_agent_id: `bench-${i}`,
        instance_id: `i-be${String(i).padStart(15, '0')}`,
        instance_type: 'm5.large',
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'spot',
      });
      agents.push(reg.agent_id as string);
    }
    progress(`heartbeat: ${AGENTS} agents registered; warming up`);
    const heartbeat = (i: number) =>
      post(`/api/agents/${agents[i % AGENTS]}/heartbeat`, token, { status: 'online', instance_id: `i-be${String(i % AGENTS).padStart(15, '0')}` }).then(() => undefined);
    await runConcurrent(200, CONCURRENCY, heartbeat);

    progress(`heartbeat: ${TOTAL} heartbeats through the full stack at concurrency ${CONCURRENCY}`);
    // Count the DynamoDB round trips the full stack makes (same process: the gateway runs in-process).
    let calls = 0;
    const removeCounter = addDbHook('bench-heartbeat-counter', (call, send) => {
      calls++;
      return send({ ...call.input });
    });
    const full = await runConcurrent(TOTAL, CONCURRENCY, heartbeat);
    removeCounter();
    progress(`heartbeat: ${TOTAL} raw UpdateItem calls at concurrency ${CONCURRENCY}`);
    const raw = await runConcurrent(TOTAL, CONCURRENCY, async (i) => {
      const at = new Date().toISOString();
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.agent(agents[i % AGENTS] as string),
          UpdateExpression: 'SET #status = :s, last_heartbeat_at = :at, GSI3PK = :pk, GSI3SK = :at',
          ConditionExpression: 'attribute_exists(PK) AND #status <> :deleted',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':s': 'online', ':at': at, ':pk': 'AGENTS#ONLINE', ':deleted': 'deleted' },
        }),
      );
    });
    const fullRps = TOTAL / (full.wallMs / 1000);
    const rawRps = TOTAL / (raw.wallMs / 1000);
    return {
      concurrency: CONCURRENCY,
      requests: TOTAL,
      full_stack_rps: round(fullRps, 0),
      full_stack_p50_ms: round(percentile(full.latencies, 50)),
      full_stack_p99_ms: round(percentile(full.latencies, 99)),
      raw_update_rps: round(rawRps, 0),
      raw_update_p50_ms: round(percentile(raw.latencies, 50)),
      raw_update_p99_ms: round(percentile(raw.latencies, 99)),
      ratio_full_over_raw: round(fullRps / rawRps, 3),
      dynamodb_calls_per_heartbeat: round(calls / TOTAL, 2),
    };
  } finally {
    await gateway.close();
  }
}
