/**
 * Local runtime (`npm start`): DynamoDB Local + every HTTP route through the local API Gateway
 * emulation + every scheduled job on a timer, in one process, with no AWS account and no Docker.
 *
 *   npm start                      in-memory database (gone on exit)
 *   npm start -- --persist [dir]   keep the database on disk (default .local-data/); or LOCAL_DATA_DIR=dir
 *   PORT=3001 npm start            another port (default 3000)
 *
 * Function modules read their environment at module scope (Powertools logger, typed config), so
 * the environment is set first and every function module is imported dynamically afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DynamoDbLocal, LOCAL_AWS_ENV, startDynamoDbLocal } from './support/dynamodb-local.js';

const TABLE_NAME = 'spot-optimizer-local';
const DEFAULT_DATA_DIR = '.local-data';

function parseArgs(argv: string[]): { dataDir?: string } {
  const i = argv.indexOf('--persist');
  if (i >= 0) {
    const next = argv[i + 1];
    return { dataDir: next && !next.startsWith('--') ? next : DEFAULT_DATA_DIR };
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log('usage: npm start [-- --persist [dir]]   (env: PORT, ADMIN_TOKEN, LOCAL_DATA_DIR)');
    process.exit(0);
  }
  return process.env.LOCAL_DATA_DIR ? { dataDir: process.env.LOCAL_DATA_DIR } : {};
}

const { dataDir } = parseArgs(process.argv.slice(2));
const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be a port number, got ${process.env.PORT}`);
  process.exit(1);
}

// Environment first: nothing under functions/ has been imported yet.
for (const [name, value] of Object.entries(LOCAL_AWS_ENV)) process.env[name] ??= value;
process.env.TABLE_NAME = TABLE_NAME;
const generatedToken = !process.env.ADMIN_TOKEN;
process.env.ADMIN_TOKEN ||= `local_${randomBytes(24).toString('base64url')}`;
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN'; // handlers' INFO lines would bury the request log
// The SDK checks for exactly 'true' (not '1'): its Node 22 notice would print on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let ddb: DynamoDbLocal | undefined;
let server: Server | undefined;
const timers: NodeJS.Timeout[] = [];
let shuttingDown = false;

/** Ctrl+C / SIGTERM, also during startup: stop timers and the server, then DynamoDB Local, exit 0. */
function shutdown(signal: string): void {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`\n${signal}: shutting down`);
  for (const timer of timers) clearInterval(timer);
  setTimeout(() => process.exit(1), 5_000).unref();
  // Do not wait for slow requests or keep-alive sockets: this is a dev server.
  server?.closeAllConnections();
  server?.close();
  (ddb?.stop() ?? Promise.resolve()).then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

async function main(): Promise<void> {
  ddb = await startDynamoDbLocal(dataDir ? { dataDir } : {});
  if (shuttingDown) return;
  process.env.DYNAMODB_ENDPOINT = ddb.endpoint;

  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { createTable } = await import('../functions/shared/db/create-table.js');
  const client = new DynamoDBClient({ endpoint: ddb.endpoint });
  const { created } = await createTable(client, TABLE_NAME);
  client.destroy();

  const gateway = await import('./support/local-gateway.js');
  const { JOBS } = await import('../functions/jobs/job-table.js');
  const { routesByGroup } = await gateway.loadRoutesByGroup();

  const api = gateway.createLocalGateway({ routesByGroup, jobs: JOBS, log: (line) => console.log(line) });
  await new Promise<void>((resolve, reject) => {
    api.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: set PORT to another port`) : err),
    );
    api.listen(port, '127.0.0.1', () => resolve());
  });
  server = api;
  const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

  // Jobs: first run after one period, never two runs of one job at a time.
  for (const job of JOBS) {
    let running = false;
    const timer = setInterval(async () => {
      if (running || shuttingDown) return;
      running = true;
      try {
        const run = await gateway.invokeJob(job);
        const status = (run.result as { status?: unknown } | undefined)?.status;
        console.log(
          run.ok
            ? `[job] ${job.name}: ${typeof status === 'string' ? status : 'ok'} in ${run.durationMs} ms`
            : `[job] ${job.name}: FAILED in ${run.durationMs} ms: ${run.error}`,
        );
      } catch (err) {
        console.log(`[job] ${job.name}: could not run: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        running = false;
      }
    }, job.localEverySeconds * 1000);
    timers.push(timer);
  }

  const storage = dataDir ? `on disk in ${dataDir}${created ? '' : ', existing data kept'}` : 'in memory';
  const token = process.env.ADMIN_TOKEN ?? '';
  console.log(
    [
      `Spot Optimizer local API listening on ${url}`,
      `  DynamoDB Local ${ddb.endpoint} (${storage}, started in ${ddb.startupMs} ms, pid ${ddb.pid}), table ${TABLE_NAME}`,
      `  admin token: ${token}${generatedToken ? ' (generated; set ADMIN_TOKEN to choose one)' : ''}`,
      `  jobs: ${JOBS.length} on timers`,
      '  try:',
      `    curl -s ${url}/health`,
      `    curl -s -X POST ${url}/api/admin/clients/create -H 'Authorization: Bearer ${token}' -H 'content-type: application/json' -d '{"name":"acme"}'`,
      '  Ctrl+C to stop',
    ].join('\n'),
  );
}

main().catch(async (err: unknown) => {
  console.error(`local runtime failed to start: ${err instanceof Error ? err.message : String(err)}`);
  await ddb?.stop().catch(() => {});
  process.exit(1);
});
