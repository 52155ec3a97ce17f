/**
 * Local runtime (`npm start`): DynamoDB Local + every HTTP route through the local API Gateway
 * emulation + every scheduled job on a timer, in one process, with no AWS account and no Docker.
 *
 *   npm start                      in-memory database (gone on exit)
 *   npm start -- --persist [dir]   keep the database on disk (default .local-data/); or LOCAL_DATA_DIR=dir
 *   npm start -- --demo            seed a realistic fleet through the real handlers (bin/support/demo.ts)
 *   PORT=3001 npm start            another port (default 3000); CORS_ORIGINS=https://a.example,… (default none)
 *
 * Function modules read their environment at module scope (Powertools logger, typed config), so
 * the environment is set first and every function module is imported dynamically afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs as parseCommandLine } from 'node:util';
import { type DynamoDbLocal, LOCAL_AWS_ENV, startDynamoDbLocal } from './support/dynamodb-local.js';

const TABLE_NAME = 'spot-optimizer-local';
const DEFAULT_DATA_DIR = '.local-data';

const USAGE = `usage: npm start [-- [--persist [dir]] [--demo]]
  --persist [dir]  keep the database on disk (default ${DEFAULT_DATA_DIR}/)
  --demo           seed a realistic fleet (clients, agents, switches, replicas, interruptions, savings)
  --help           this text
env: PORT (3000), ADMIN_TOKEN (generated), LOCAL_DATA_DIR, CORS_ORIGINS (comma-separated origins; none)`;

function parseArgs(argv: string[]): { dataDir?: string; demo: boolean } {
  let parsed;
  try {
    parsed = parseCommandLine({
      args: argv,
      options: { persist: { type: 'boolean' }, demo: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      // `--persist dir`: the one positional is the data folder, and only after --persist.
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (positionals.length > (values.persist ? 1 : 0)) {
    console.error(`unexpected argument ${positionals.at(-1)}\n${USAGE}`);
    process.exit(2);
  }
  const dataDir = values.persist ? (positionals[0] ?? DEFAULT_DATA_DIR) : process.env.LOCAL_DATA_DIR;
  return { ...(dataDir ? { dataDir } : {}), demo: values.demo === true };
}

const { dataDir, demo } = parseArgs(process.argv.slice(2));
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
// The console is built into a temporary folder at start (functions/console/build.ts) and removed on exit.
const consoleDir = mkdtempSync(join(tmpdir(), 'spot-optimizer-console-'));
process.env.CONSOLE_ASSETS_DIR = consoleDir;

/** Ctrl+C / SIGTERM, also during startup: stop timers and the server, then DynamoDB Local, exit 0. */
function shutdown(signal: string): void {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`\n${signal}: shutting down`);
  for (const timer of timers) clearInterval(timer);
  rmSync(consoleDir, { recursive: true, force: true });
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
process.on('SIGHUP', () => shutdown('SIGHUP'));
// Whatever ends the parent (npm killed with SIGKILL, a closed terminal), this process is re-parented:
// stop then too, so no server or DynamoDB Local outlives `npm start`.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) shutdown('parent exited');
}, 1_000).unref();

async function main(): Promise<void> {
  ddb = await startDynamoDbLocal(dataDir ? { dataDir } : {});
  if (shuttingDown) return;
  process.env.DYNAMODB_ENDPOINT = ddb.endpoint;

  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { createTable } = await import('../functions/shared/db/create-table.js');
  const client = new DynamoDBClient({ endpoint: ddb.endpoint });
  const { created } = await createTable(client, TABLE_NAME);
  client.destroy();
  if (!created) {
    // A persisted database from an earlier release: move its agents to the sharded indexes.
    const { migrateAgentsToShardedIndexes } = await import('../functions/shared/db/migrations.js');
    const moved = await migrateAgentsToShardedIndexes();
    if (moved.rekeyed > 0) console.log(`migrated ${moved.rekeyed} agents to the sharded indexes`);
  }

  const { buildConsole } = await import('../functions/console/build.js');
  const built = await buildConsole(consoleDir);
  const { parseCorsOrigins } = await import('../functions/shared/http/cors.js');
  const corsOrigins = parseCorsOrigins(process.env.CORS_ORIGINS);

  // The market: the real price history of bin/data/ replayed on today's clock, instead of EC2.
  const { createReplayMarket } = await import('./support/market-replay.js');
  const { useMarketPriceSource } = await import('../functions/shared/market/market-prices.js');
  const market = await createReplayMarket();
  useMarketPriceSource(market);

  const gateway = await import('./support/local-gateway.js');
  const { JOBS } = await import('../functions/jobs/job-table.js');
  const { routesByGroup } = await gateway.loadRoutesByGroup();

  // The demo's replay would bury the URL under thousands of request lines: the log starts after it.
  let quiet = demo;
  const api = gateway.createLocalGateway({ routesByGroup, jobs: JOBS, corsOrigins, log: (line) => quiet || console.log(line) });
  await new Promise<void>((resolve, reject) => {
    api.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: set PORT to another port`) : err),
    );
    api.listen(port, '127.0.0.1', () => resolve());
  });
  server = api;
  const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

  // Jobs: each runs once at start (after the demo's seeding: the market first, so a persisted
  // database is priced now, and the admin's system health sees every job fresh), then every period;
  // never two runs of one job at a time.
  const running = new Set<string>();
  const runJob = async (job: (typeof JOBS)[number]) => {
    if (running.has(job.name) || shuttingDown) return;
    running.add(job.name);
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
      running.delete(job.name);
    }
  };
  const runEveryJobOnce = async () => {
    const market = JOBS.filter((j) => j.name === 'market-prices');
    for (const job of [...market, ...JOBS.filter((j) => !market.includes(j))]) await runJob(job);
  };
  for (const job of JOBS) timers.push(setInterval(() => void runJob(job), job.localEverySeconds * 1000));
  if (!demo) void runEveryJobOnce();

  const storage = dataDir ? `on disk in ${dataDir}${created ? '' : ', existing data kept'}` : 'in memory';
  const token = process.env.ADMIN_TOKEN ?? '';
  console.log(
    [
      `Spot Optimizer local API listening on ${url}`,
      `  DynamoDB Local ${ddb.endpoint} (${storage}, started in ${ddb.startupMs} ms, pid ${ddb.pid}), table ${TABLE_NAME}, ${
        ddb.binding === 'loopback' ? 'reachable from this machine only' : 'WARNING: listening on every interface (no javac to build its loopback launcher)'
      }`,
      `  admin token: ${token}${generatedToken ? ' (generated; set ADMIN_TOKEN to choose one)' : ''}`,
      `  jobs: ${JOBS.length} on timers; market prices: bin/data/ history replayed on today's clock`,
      `  console: ${url}/console (built in ${built.buildMs} ms, ${(built.firstLoadGzipBytes / 1024).toFixed(1)} KB gzipped)${corsOrigins.length ? `; CORS for ${corsOrigins.join(', ')}` : ''}`,
      '  try:',
      `    curl -s ${url}/health`,
      `    curl -s -X POST ${url}/api/admin/clients/create -H 'Authorization: Bearer ${token}' -H 'content-type: application/json' -d '{"name":"acme"}'`,
      '  Ctrl+C to stop',
    ].join('\n'),
  );

  if (demo) {
    const { seedDemo } = await import('./support/demo.js');
    const seeded = await seedDemo({
      baseUrl: url,
      adminToken: token,
      routesByGroup,
      market,
      log: (line) => console.log(line),
      keepAlive: (timer) => timers.push(timer),
    });
    if (shuttingDown) return;
    await runEveryJobOnce();
    console.log(
      [
        `demo ready: open ${url}/console and sign in with the admin token above, or a client token:`,
        ...seeded.clients.map((c) => `  ${c.name.padEnd(16)} ${c.token}`),
      ].join('\n'),
    );
    quiet = false;
  }
}

main().catch(async (err: unknown) => {
  console.error(`local runtime failed to start: ${err instanceof Error ? err.message : String(err)}`);
  await ddb?.stop().catch(() => {});
  process.exit(1);
});
