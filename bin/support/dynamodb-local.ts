import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface DynamoDbLocalOptions {
  /** Fixed port; by default a free one is picked (DynamoDB Local binds every interface). */
  port?: number;
  /** Keep the data on disk in this folder (`-dbPath … -sharedDb`) instead of in memory. */
  dataDir?: string;
  /** How long to wait for the port to answer (default 30 s). */
  startTimeoutMs?: number;
}

export interface DynamoDbLocal {
  endpoint: string;
  /** `loopback`: reachable from this machine only; `all-interfaces`: the jar's own binding (no javac here). */
  binding: 'loopback' | 'all-interfaces';
  port: number;
  /** The java process id (lets callers check that it is gone after stop). */
  pid: number;
  /** Milliseconds from spawn until the first successful ListTables. */
  startupMs: number;
  stop(): Promise<void>;
}

/** DynamoDB Local ignores credentials but the SDK insists on some: fixed fake ones, never real ones. */
export const LOCAL_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_REGION: 'us-east-1',
} as const;

/** Sets the fake credentials and region in process.env where they are not already set. */
export function ensureLocalAwsEnv(): void {
  for (const [name, value] of Object.entries(LOCAL_AWS_ENV)) process.env[name] ??= value;
}

/** The jar ships in amplify-dynamodb-simulator's `emulator/` folder (real DynamoDB Local 1.25). */
export function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

/** Asks the OS for a free port: bind port 0, read it, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    // No host: DynamoDB Local binds all interfaces, so the port must be free on all of them.
    server.listen(0, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolvePort(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const LAUNCHER_SOURCE = fileURLToPath(new URL('./DynamoDbLocalLoopback.java', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * No browser page may call DynamoDB Local: its CORS allow-list (default `*`, which lets any page
 * the developer visits read and write the local tables) is set to an origin no page can have.
 */
export const NO_BROWSER_ORIGIN = 'https://localhost.invalid';

/**
 * The classpath of the loopback launcher (DynamoDbLocalLoopback.java), compiled once with `javac`
 * into node_modules/.cache (keyed by the source and the jar), or undefined when there is no javac
 * (a JRE without the JDK): DynamoDB Local then binds every interface, as the jar alone does.
 */
export function loopbackLauncherClasspath(emulator = emulatorDir()): string | undefined {
  const key = createHash('sha256')
    .update(readFileSync(LAUNCHER_SOURCE))
    .update(readFileSync(join(emulator, 'DynamoDBLocal.jar')).subarray(0, 1 << 20))
    .digest('hex')
    .slice(0, 16);
  const dir = join(REPO_ROOT, 'node_modules', '.cache', 'spot-optimizer', `dynamodb-local-loopback-${key}`);
  if (existsSync(join(dir, 'DynamoDbLocalLoopback.class'))) return dir;
  const cache = dirname(dir);
  mkdirSync(cache, { recursive: true });
  // Compile beside it, then rename: concurrent starts (test workers) never see half a class file.
  const staging = mkdtempSync(join(cache, 'compiling-'));
  try {
    const out = spawnSync('javac', ['-nowarn', '-cp', libClasspath(emulator), '-d', staging, LAUNCHER_SOURCE], { encoding: 'utf8' });
    if (out.error || out.status !== 0) return undefined;
    try {
      renameSync(staging, dir);
    } catch {
      // Another process renamed its copy first: use that one.
    }
    return existsSync(join(dir, 'DynamoDbLocalLoopback.class')) ? dir : undefined;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const libClasspath = (emulator: string) => [join(emulator, 'DynamoDBLocal.jar'), join(emulator, 'DynamoDBLocal_lib', '*')].join(':');

/**
 * Starts DynamoDB Local as a child java process and resolves once it answers ListTables. The child
 * is killed by `stop()` and, as a last resort, when this process exits.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  ensureLocalAwsEnv();
  const port = options.port ?? (await freePort());
  const storage = options.dataDir
    ? (() => {
        // Absolute: java runs with the emulator folder as its working directory.
        const dir = resolve(options.dataDir);
        mkdirSync(dir, { recursive: true });
        return ['-dbPath', dir, '-sharedDb'];
      })()
    : ['-inMemory'];
  const emulator = emulatorDir();
  const launcher = loopbackLauncherClasspath(emulator);
  const args = [
    // C1 only and the serial GC: the emulator starts in ~1.5 s instead of ~3 s on 2 cores.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-Djava.library.path=./DynamoDBLocal_lib',
    ...(launcher ? ['-cp', `${libClasspath(emulator)}:${launcher}`, 'DynamoDbLocalLoopback'] : ['-jar', 'DynamoDBLocal.jar']),
    '-port',
    String(port),
    '-disableTelemetry',
    '-cors',
    NO_BROWSER_ORIGIN,
    ...storage,
  ];

  const started = Date.now();
  const child = spawn('java', args, { cwd: emulator, stdio: ['ignore', 'pipe', 'pipe'] });
  // Keep the tail of its output for error messages; its banner is noise otherwise.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((r) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      r();
    });
  });
  child.once('error', (err) => {
    spawnError = err;
  });
  const killOnExit = () => killNow(child);
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (exited || spawnError) return;
    // SIGTERM lets a persistent database close its files; in memory there is nothing to lose.
    child.kill(options.dataDir ? 'SIGTERM' : 'SIGKILL');
    const escalate = setTimeout(() => killNow(child), 5_000);
    await exitPromise;
    clearTimeout(escalate);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: {
      accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
    },
    maxAttempts: 1,
  });
  const deadline = started + (options.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (spawnError) {
        const code = (spawnError as NodeJS.ErrnoException).code;
        throw new Error(
          code === 'ENOENT'
            ? 'DynamoDB Local needs Java 17+, but `java` was not found on PATH (install e.g. openjdk-17-jre-headless)'
            : `could not start java for DynamoDB Local: ${spawnError.message}`,
        );
      }
      if (exited) {
        throw new Error(
          `DynamoDB Local (java) exited during startup with ${exited.signal ?? `code ${exited.code}`}:\n${output.trim()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(1_000) });
        break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new Error(
          `DynamoDB Local did not answer on port ${port} within ${options.startTimeoutMs ?? 30_000} ms:\n${output.trim()}`,
        );
      }
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }

  return {
    endpoint,
    binding: launcher ? 'loopback' : 'all-interfaces',
    port,
    pid: child.pid ?? 0,
    startupMs: Date.now() - started,
    stop,
  };
}

function killNow(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
