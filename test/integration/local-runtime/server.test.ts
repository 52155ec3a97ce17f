import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../bin/support/dynamodb-local.js';
import { api } from '../../support/http.js';

/**
 * The real `npm start` (tsx bin/local.ts) as a child process: it must come up without a terminal,
 * serve the route table, and on SIGINT exit 0 and take DynamoDB Local's java process with it.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX_CLI = createRequire(import.meta.url).resolve('tsx/cli');
const ADMIN_TOKEN = 'local-runtime-test-token-0123456789abcdefghijklmnop';

let child: ChildProcess;
let output = '';
let baseUrl = '';
let javaPid = 0;
let ddbPort = 0;
let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

beforeAll(async () => {
  const port = await freePort();
  // A clean environment: the test run's own DYNAMODB_ENDPOINT / TABLE_NAME must not leak in.
  const { DYNAMODB_ENDPOINT: _e, TABLE_NAME: _t, LOCAL_DATA_DIR: _d, ...env } = process.env;
  child = spawn(process.execPath, [TSX_CLI, 'bin/local.ts'], {
    cwd: ROOT,
    env: { ...env, PORT: String(port), ADMIN_TOKEN, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL line within 45 s:\n${output}`)), 45_000);
    const check = () => {
      const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bin/local.ts exited with ${code} before listening:\n${output}`));
    });
  });
  baseUrl = url;
  javaPid = Number(/pid (\d+)/.exec(output)?.[1] ?? 0);
  ddbPort = Number(/DynamoDB Local http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1] ?? 0);
}, 60_000);

afterAll(async () => {
  // Only if a test failed before the SIGINT test: never leave our processes behind.
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (javaPid && alive(javaPid)) process.kill(javaPid, 'SIGKILL');
});

describe('local runtime (tsx bin/local.ts)', () => {
  it('prints the URL on the requested port, the admin token and a curl example', () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output).toContain(`admin token: ${ADMIN_TOKEN}`);
    expect(output).toContain(`curl -s ${baseUrl}/health`);
    expect(javaPid).toBeGreaterThan(0);
    expect(ddbPort).toBeGreaterThan(0);
  });

  it('serves GET /health and the GET / banner from the health Lambda', async () => {
    const http = api(baseUrl);
    const health = await http.get<{ status: string; checks: { database: string } }>('/health');
    expect(health.status).toBe(200);
    expect(health.json.checks.database).toBe('ok');
    expect(health.headers['apigw-requestid']).toBeTruthy();

    const banner = await http.get<{ name: string; api_base: string }>('/');
    expect(banner.status).toBe(200);
    expect(banner.json).toMatchObject({ name: 'spot-optimizer', api_base: '/api' });
  });

  it('serves GET /openapi.json', async () => {
    const res = await api(baseUrl).get<{ openapi?: string; paths?: object }>('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json.openapi).toMatch(/^3\./);
  });

  it('answers an unknown route like API Gateway: 404 {"message":"Not Found"} with a request id', async () => {
    const res = await api(baseUrl).get('/api/no-such-route');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ message: 'Not Found' });
    expect(res.headers['apigw-requestid']).toBeTruthy();
  });

  it('POST /local/eventbridge hands the event to the ec2-events consumer and answers JSON', async () => {
    const event = readFileSync(`${ROOT}test/fixtures/spot-interruption-warning.json`, 'utf8');
    const res = await api(baseUrl).post<{ ok: boolean }>('/local/eventbridge', {
      headers: { 'content-type': 'application/json' },
      token: ADMIN_TOKEN,
      body: event,
    });
    // The fixture's instance belongs to no client: the consumer records nothing but must not fail.
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(true);
  });

  it('exits 0 on SIGINT within a few seconds and stops DynamoDB Local', async () => {
    const started = Date.now();
    child.kill('SIGINT');
    const result = await Promise.race([
      exit,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no exit after SIGINT:\n${output}`)), 8_000),
      ),
    ]);
    expect(result).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(alive(javaPid)).toBe(false);
    expect(await portOpen(ddbPort)).toBe(false);
  });
});
