import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/* The page functions below run in the browser. */
declare const document: { querySelectorAll(s: string): { length: number }; documentElement: { scrollWidth: number; clientWidth: number } };
declare const window: unknown;
import { freePort } from '../../bin/support/dynamodb-local.js';
import { money, num } from '../../functions/console/app/format.js';

/**
 * The console in a real browser (Debian's chromium through playwright-core, no browser download)
 * against `npm start -- --demo` as a child process: sign in as a client and as the admin, visit every
 * page, compare shown figures with the API's, no failed request, no console error, axe-core on every
 * page, a settings conflict, a revoked token. Screenshots go to test/.artifacts/ (git-ignored).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX_CLI = createRequire(import.meta.url).resolve('tsx/cli');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test/.artifacts');
const ADMIN = 'browser-test-admin-token-0123456789abcdefghijklmno';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let child: ChildProcess;
let output = '';
let base = '';
const tokens: Record<string, string> = {};
let browser: BrowserContext;
let userDir = '';
const problems: string[] = [];
/** Responses a test provokes on purpose (a conflict, a revoked token): not failures. */
const expected: Array<(status: number, url: string) => boolean> = [];

const apiGet = async <T>(path: string, token: string): Promise<T> => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
};
const apiPost = async <T>(path: string, token: string, body: unknown): Promise<T> => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, `${path}: ${res.status}`).toBeLessThan(300);
  return (await res.json()) as T;
};

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  const { DYNAMODB_ENDPOINT: _e, TABLE_NAME: _t, LOCAL_DATA_DIR: _d, CONSOLE_ASSETS_DIR: _c, ...env } = process.env;
  child = spawn(process.execPath, [TSX_CLI, 'bin/local.ts', '--demo'], { cwd: ROOT, env: { ...env, PORT: String(port), ADMIN_TOKEN: ADMIN, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo not ready within 240 s:\n${output.slice(-3000)}`)), 240_000);
    const check = () => {
      if (!/demo ready/.test(output)) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`bin/local.ts --demo exited ${code}:\n${output.slice(-3000)}`)));
  });
  base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
  for (const m of output.matchAll(/^ {2}(Acme Analytics|Globex Media|Initech Labs)\s+(\S+)$/gm)) tokens[m[1] as string] = m[2] as string;
  userDir = mkdtempSync(join(tmpdir(), 'console-browser-'));
  browser = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (userDir) rmSync(userDir, { recursive: true, force: true });
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
}, 30_000);

function watch(page: Page): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|409)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !expected.some((ok) => ok(r.status(), r.url()))) problems.push(`${r.status()} ${r.url()}`);
  });
}

/** Waits for the page's data (no loading state left), runs axe, saves a screenshot. */
async function settle(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => document.querySelectorAll('.state.loading').length === 0, null, { timeout: 20_000 });
  await page.waitForTimeout(300);
  expect(await page.locator('.state.error').count(), `${name}: error box`).toBe(0);
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    type Axe = { run: (ctx: unknown, o: unknown) => Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> };
    const axe = (window as { axe: Axe }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes)`);
  });
  expect(violations, `${name}: axe`).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const text = async (page: Page, testId: string) => ((await page.getByTestId(testId).locator('.stat-value').textContent()) ?? '').trim();

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A watched page signed in as a demo client, on its overview: the page, its token and client id. */
async function clientPage(name: string): Promise<{ page: Page; token: string; cid: string }> {
  const token = tokens[name] as string;
  const page = await browser.newPage();
  watch(page);
  await signIn(page, token);
  await page.getByTestId('savings-total').waitFor();
  return { page, token, cid: /#\/c\/([^/?]+)/.exec(page.url())?.[1] as string };
}

describe('console in chromium', () => {
  it('serves the shell to browsers at / and keeps the JSON banner for API clients', async () => {
    const api = await fetch(`${base}/`);
    expect(await api.json()).toMatchObject({ name: 'spot-optimizer', api_base: '/api' });
    const html = await fetch(`${base}/`, { headers: { accept: 'text/html,*/*;q=0.8' }, redirect: 'manual' });
    expect(html.status).toBe(303);
    expect(html.headers.get('location')).toBe('/console');
    const shell = await fetch(`${base}/console`, { headers: { 'accept-encoding': 'gzip' } });
    expect(shell.headers.get('cache-control')).toBe('no-cache');
    expect(shell.headers.get('content-security-policy')).toContain("script-src 'self'");
    const asset = /src="(\/console\/assets\/[^"]+)"/.exec(await shell.text())?.[1] ?? '';
    const js = await fetch(`${base}${asset}`, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('a client signs in, sees figures equal to the API, visits every page', async () => {
    const { page, token, cid } = await clientPage('Acme Analytics');
    await settle(page, 'client-overview');
    const summary = await apiGet<{ total_savings: number }>(`/api/client/${cid}/savings?months=1`, token);
    const client = await apiGet<{ agents_online: number; agents_total: number; instances_active: number }>(`/api/client/${cid}`, token);
    expect(await text(page, 'savings-total')).toBe(money(summary.total_savings));
    expect(await text(page, 'agents-online')).toBe(`${num(client.agents_online)} / ${num(client.agents_total)}`);
    expect(await text(page, 'instances-active')).toBe(num(client.instances_active));
    expect(['Live', 'Paused', 'Offline']).toContain(await page.getByTestId('live-state').textContent());

    await page.goto(`${base}/console#/c/${cid}/savings`);
    await settle(page, 'client-savings');
    const daily = await apiGet<{ totals: { savings: number } }>(`/api/client/${cid}/savings/daily?days=30`, token);
    const cause = await apiGet<{ net_savings: number; spot: { savings: number }; replica_overhead: { cost: number } }>(`/api/client/${cid}/insights/savings-by-cause?days=30`, token);
    expect(await text(page, 'period-savings')).toBe(money(daily.totals.savings));
    expect((await page.getByTestId('cause-net').textContent())?.trim()).toBe(money(cause.net_savings));
    expect((await page.getByTestId('cause-replicas').textContent())?.trim()).toBe(money(cause.replica_overhead.cost));
    expect(cause.replica_overhead.cost).toBeLessThan(0);

    for (const name of ['agents', 'pools', 'downtime', 'notifications', 'alerts']) {
      await page.goto(`${base}/console#/c/${cid}/${name}`);
      await settle(page, `client-${name}`);
    }
    const failover = await apiGet<{ summary: { interruptions: number } }>(`/api/client/${cid}/insights/failover?days=30`, token);
    await page.goto(`${base}/console#/c/${cid}/pools`);
    await page.getByTestId('failover-count').waitFor();
    expect(await text(page, 'failover-count')).toBe(num(failover.summary.interruptions));
    await page.close();
  });

  it('an agent page shows its data and a settings conflict, with a reload', async () => {
    const { page, token, cid } = await clientPage('Acme Analytics');
    const { agents } = await apiGet<{ agents: Array<{ id: string; status: string; version: number }> }>(`/api/client/${cid}/agents?limit=200`, token);
    const agent = agents[0] as { id: string; status: string; version: number };
    await page.goto(`${base}/console#/c/${cid}/agents/${agent.id}`);
    await page.getByTestId('settings-form').waitFor();
    await settle(page, 'client-agent');
    // Someone else saves first: the page's version is now stale.
    await apiPost(`/api/client/agents/${agent.id}/settings`, token, { max_switches_per_day: 4 });
    expected.push((status, url) => status === 409 && url.includes(`/agents/${agent.id}/settings`));
    await page.getByLabel('Max switches per week').fill('12');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.getByTestId('settings-conflict').isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'client-agent-conflict.png') });
    await page.getByTestId('settings-conflict').getByRole('button', { name: 'Reload' }).click();
    await expect.poll(() => page.getByTestId('settings-conflict').count()).toBe(0);
    expect(await page.getByLabel('Max switches per day').inputValue()).toBe('4');
    // The simulation shows the expected saving before anything is queued.
    await page.getByRole('button', { name: 'Simulate switch…' }).click();
    await page.getByTestId('simulation').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'client-agent-simulate.png') });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.close();
  });

  it('works 390 px wide', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    watch(page);
    await signIn(page, tokens['Globex Media'] as string);
    await page.getByTestId('savings-total').waitFor();
    await settle(page, 'mobile-overview');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await page.close();
  });

  it('the admin runs the installation and opens a client', async () => {
    const page = await browser.newPage();
    watch(page);
    await signIn(page, ADMIN);
    await page.getByTestId('admin-clients').waitFor();
    await settle(page, 'admin-overview');
    const stats = await apiGet<{ total_clients: number; instances_active: number; total_savings: number }>('/api/admin/stats', ADMIN);
    expect(await text(page, 'admin-clients')).toBe(num(stats.total_clients));
    expect(await text(page, 'admin-savings')).toBe(money(stats.total_savings));
    for (const name of ['clients', 'agents', 'instances', 'pools', 'emergencies', 'activity', 'engine', 'search']) {
      await page.goto(`${base}/console#/admin/${name}`);
      await settle(page, `admin-${name}`);
    }
    await page.getByLabel('Search').fill('Acm');
    await page.getByTestId('search-results').getByRole('link', { name: 'Acme Analytics' }).click();
    await page.getByTestId('savings-total').waitFor();
    await settle(page, 'admin-client-view');
    await page.close();
  });

  it('a revoked token returns to sign-in with a clear message', async () => {
    const created = await apiPost<{ client: { id: string; token: string } }>('/api/admin/clients/create', ADMIN, { name: 'Revoked Co' });
    const page = await browser.newPage();
    watch(page);
    expected.push((status) => status === 401);
    await signIn(page, created.client.token);
    await page.getByTestId('savings-total').waitFor();
    await apiPost(`/api/admin/clients/${created.client.id}/regenerate-token`, ADMIN, { grace_period_seconds: 0 });
    await page.goto(`${base}/console#/c/${created.client.id}/agents`);
    await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
    expect(await page.getByLabel('Token').isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'signin-revoked.png') });
    await page.close();
  });

  it('logged no console error and no failed request', () => {
    expect(problems).toEqual([]);
  });
});
