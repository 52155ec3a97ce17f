/**
 * `npm run loadtest -- --agents N --minutes M [--url U] [--token T | --admin-token A] …`
 *
 * Drives N simulated v4.0.0 agents (bin/support/v4-agent.ts: the wire contract, the agent's fixed
 * cadence with jitter, registration, command execution — a delivered `switch` is executed and
 * reported with a new instance id —, replica polls, zombie termination) against a running control
 * plane: the local one (`npm start`) or a deployed URL. Manual switches are requested through the
 * client route `force-switch` every `--switch-every` seconds, so commands flow. Shows a live
 * progress line; prints throughput, latency percentiles per route, status codes and errors.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { argsOrUsage } from './support/cli.js';
import { LatencyHistogram } from './support/latency.js';
import { rng } from './support/random.js';
import { type AgentRequest, V4Agent, taskLabel } from './support/v4-agent.js';

const USAGE = `usage: npm run loadtest -- --agents N --minutes M [options]

  --agents N          simulated v4 agents (required)
  --minutes M         how long to run, after which requests stop (required; decimals allowed)
  --url U             base URL of the API (default http://127.0.0.1:3000, i.e. npm start)
  --token T           a client token the agents register with
  --admin-token A     or: the admin token, to create a client for the run (max_agents = N)
  --ramp S            seconds over which the agents register (default: min(60, a quarter of the run))
  --switch-every S    request one manual switch (force-switch) every S seconds; 0 = none (default 15)
  --max-in-flight K   cap on concurrent requests (default 512)
  --seed K            random seed (jitter, phases; default 1)
  --json              print the summary as JSON
  --help              this text

Example: npm start, then in another shell
  npm run loadtest -- --agents 1000 --minutes 5 --admin-token "$ADMIN_TOKEN"`;

export interface LoadtestOptions {
  agents: number;
  minutes: number;
  url: string;
  token?: string;
  adminToken?: string;
  rampSeconds: number;
  switchEverySeconds: number;
  maxInFlight: number;
  seed: number;
  json: boolean;
  help: boolean;
}

const positive = (name: string, raw: string | undefined, integer: boolean, allowZero = false): number => {
  const n = Number(raw);
  const ok = raw !== undefined && raw.trim() !== '' && Number.isFinite(n) && (allowZero ? n >= 0 : n > 0) && (!integer || Number.isInteger(n));
  if (!ok) throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}, got ${raw ?? 'nothing'}`);
  return n;
};

/** Parses the command line (strict: an unknown flag is an error). */
export function parseLoadtestArgs(argv: string[]): LoadtestOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'agents': { type: 'string' },
      'minutes': { type: 'string' },
      'url': { type: 'string', default: 'http://127.0.0.1:3000' },
      'token': { type: 'string' },
      'admin-token': { type: 'string' },
      'ramp': { type: 'string' },
      'switch-every': { type: 'string', default: '15' },
      'max-in-flight': { type: 'string', default: '512' },
      'seed': { type: 'string', default: '1' },
      'json': { type: 'boolean', default: false },
      'help': { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    const none = { agents: 0, minutes: 0, rampSeconds: 0, switchEverySeconds: 0, maxInFlight: 0, seed: 0 };
    return { ...none, url: values.url, json: false, help: true };
  }
  const agents = positive('agents', values.agents, true);
  const minutes = positive('minutes', values.minutes, false);
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new Error(`--url must be an http(s) URL, got ${values.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--url must be an http(s) URL, got ${values.url}`);
  if (!values.token && !values['admin-token']) throw new Error('give --token (a client token) or --admin-token (to create a client)');
  return {
    agents,
    minutes,
    url: url.href.replace(/\/$/, ''),
    ...(values.token ? { token: values.token } : {}),
    ...(values['admin-token'] ? { adminToken: values['admin-token'] } : {}),
    rampSeconds: values.ramp === undefined ? Math.min(60, (minutes * 60) / 4) : positive('ramp', values.ramp, false, true),
    switchEverySeconds: positive('switch-every', values['switch-every'], false, true),
    maxInFlight: positive('max-in-flight', values['max-in-flight'], true),
    seed: positive('seed', values.seed, true, true),
    json: values.json,
    help: false,
  };
}

/** Per-route statistics of a run. */
export class RouteStats {
  readonly latency = new LatencyHistogram();
  readonly statuses = new Map<string, number>();
  errors = 0;

  record(ms: number, status: number): void {
    this.latency.record(ms);
    const key = status === 0 ? 'network error' : String(status);
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
    if (status === 0 || status >= 500) this.errors++;
  }
}

const TYPES = ['m5.large', 'c5.large', 'r5.large', 't3.medium'];
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const clock = (ms: number) => `${String(Math.floor(ms / 60_000)).padStart(2, '0')}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;

async function main(): Promise<void> {
  const o = argsOrUsage(parseLoadtestArgs, USAGE);
  if (!o) return;
  const random = rng(o.seed);
  const run = randomBytes(4).toString('hex');
  const stats = new Map<string, RouteStats>();
  const all = new LatencyHistogram();
  const window: { at: number; n: number }[] = [];
  const errorSamples = new Map<string, number>();
  let requests = 0;
  let errors = 0;
  let inFlight = 0;

  const send = async (label: string, method: string, path: string, token: string, body?: unknown, query?: Record<string, string>) => {
    const qs = query ? `?${new URLSearchParams(query).toString()}` : '';
    const started = performance.now();
    inFlight++;
    let status = 0;
    let json: unknown;
    try {
      const res = await fetch(`${o.url}${path}${qs}`, {
        method,
        headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': 'spot-optimizer-loadtest (v4 agent simulation)' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        // The v4 agent gives up after 30 s (API.md §1.1).
        signal: AbortSignal.timeout(30_000),
      });
      status = res.status;
      const text = await res.text();
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (status >= 400) {
        const parsed = json as { error?: { code?: string }; message?: string } | undefined;
        const code = parsed?.error?.code ?? parsed?.message ?? text.slice(0, 80);
        const key = `${label} → ${status} ${code}`;
        errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
      }
    } catch (err) {
      const key = `${label} → ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
      errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
    } finally {
      inFlight--;
    }
    const ms = performance.now() - started;
    let s = stats.get(label);
    if (!s) stats.set(label, (s = new RouteStats()));
    s.record(ms, status);
    all.record(ms);
    requests++;
    window.push({ at: Date.now(), n: 1 });
    if (status === 0 || status >= 500) errors++;
    return { status, json };
  };

  // ---- the client ----------------------------------------------------------------------------------
  let token = o.token;
  if (!token) {
    const created = await send('POST /api/admin/clients/create', 'POST', '/api/admin/clients/create', o.adminToken as string, {
      name: `loadtest-${run}`,
      max_agents: o.agents,
    });
    token = (created.json as { client?: { token?: string } } | undefined)?.client?.token;
    if (!token) throw new Error(`could not create a client (status ${created.status}): is ${o.url} up and the admin token right?`);
  }
  const clientToken = token;

  // ---- the fleet -----------------------------------------------------------------------------------
  const t0 = Date.now();
  const deadline = t0 + o.minutes * 60_000;
  const newInstanceId = () => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
  const agents = Array.from({ length: o.agents }, (_, i) => {
    const type = TYPES[i % TYPES.length] as string;
    return new V4Agent({
      logicalAgentId: `loadtest-${run}-${i}`,
      instanceId: newInstanceId(),
      instanceType: type,
      region: 'us-east-1',
      az: AZS[i % AZS.length] as string,
      otherAzs: AZS,
      random,
      jitter: 0.1,
      startAt: t0 + (o.rampSeconds * 1000 * i) / o.agents,
      newInstanceId,
    });
  });

  const fire = (agent: V4Agent, r: AgentRequest) => {
    void send(taskLabel(r.task), r.method, r.path, clientToken, r.body, r.query).then((res) =>
      agent.complete(r, res.status, res.json, Date.now()),
    );
  };
  let nextSwitch = t0 + o.rampSeconds * 1000 + o.switchEverySeconds * 1000;
  let switchesRequested = 0;
  const requestSwitch = () => {
    const candidates = agents.filter((a) => a.registered);
    const agent = candidates[Math.floor(random() * candidates.length)];
    if (!agent) return;
    const az = AZS.find((z) => z !== agent.az) as string;
    switchesRequested++;
    void send('POST /api/client/instances/{iid}/force-switch', 'POST', `/api/client/instances/${agent.instanceId}/force-switch`, clientToken, {
      target: 'pool',
      pool_id: `${agent.instanceType}.${az}`,
      reason: 'loadtest',
    });
  };

  // ---- progress ------------------------------------------------------------------------------------
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const progress = (final = false) => {
    const now = Date.now();
    while (window.length && (window[0] as { at: number }).at < now - 5_000) window.shift();
    const registered = agents.filter((a) => a.registered).length;
    const line = `[loadtest] ${clock(now - t0)}/${clock(deadline - t0)}  agents ${registered}/${o.agents}  ${fmt(window.length / 5)} req/s  ${requests} requests  ${errors} errors  p50 ${fmt(all.percentile(50))} ms  p99 ${fmt(all.percentile(99))} ms  in flight ${inFlight}`;
    if (tty) process.stderr.write(`\r${line.padEnd(140)}${final ? '\n' : ''}`);
    else if (final || now - lastLine >= 10_000) {
      process.stderr.write(`${line}\n`);
      lastLine = now;
    }
  };

  let stopping = false;
  process.once('SIGINT', () => {
    stopping = true;
  });
  const ticker = setInterval(() => progress(), 1000);
  try {
    while (!stopping && Date.now() < deadline) {
      const now = Date.now();
      for (const agent of agents) {
        if (inFlight >= o.maxInFlight) break;
        if (agent.nextDueAt() > now) continue;
        for (const r of agent.due(now)) fire(agent, r);
      }
      if (o.switchEverySeconds > 0 && now >= nextSwitch) {
        nextSwitch += o.switchEverySeconds * 1000;
        requestSwitch();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    // Let the requests in flight finish (at most the agent's 30 s).
    const drainUntil = Date.now() + 30_000;
    while (inFlight > 0 && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
  } finally {
    clearInterval(ticker);
    progress(true);
  }

  // ---- summary ---------------------------------------------------------------------------------------
  const seconds = (Date.now() - t0) / 1000;
  const routes = [...stats.entries()]
    .sort((a, b) => b[1].latency.count - a[1].latency.count)
    .map(([route, s]) => ({
      route,
      requests: s.latency.count,
      rps: Number(fmt(s.latency.count / seconds, 2)),
      p50_ms: Number(fmt(s.latency.percentile(50))),
      p90_ms: Number(fmt(s.latency.percentile(90))),
      p99_ms: Number(fmt(s.latency.percentile(99))),
      max_ms: Number(fmt(s.latency.max)),
      errors: s.errors,
      statuses: Object.fromEntries([...s.statuses].sort()),
    }));
  const statusCounts: Record<string, number> = {};
  for (const s of stats.values()) for (const [k, n] of s.statuses) statusCounts[k] = (statusCounts[k] ?? 0) + n;
  const summary = {
    url: o.url,
    agents: o.agents,
    registered: agents.filter((a) => a.registered).length,
    duration_s: Number(fmt(seconds)),
    requests,
    throughput_rps: Number(fmt(requests / seconds, 1)),
    errors_5xx_or_network: errors,
    latency_ms: Object.fromEntries([50, 90, 99].map((p) => [`p${p}`, Number(fmt(all.percentile(p)))]).concat([['max', Number(fmt(all.max))]])),
    switches_requested: switchesRequested,
    commands_executed: agents.reduce((n, a) => n + a.executed.length, 0),
    status_codes: statusCounts,
    routes,
    error_samples: [...errorSamples].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([e, n]) => `${n}× ${e}`),
  };
  if (o.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  out.push(`\n${summary.registered}/${o.agents} agents against ${o.url} for ${summary.duration_s} s`);
  out.push(`throughput ${summary.throughput_rps} req/s, ${requests} requests, ${errors} errors (5xx or network)`);
  const l = summary.latency_ms as Record<string, number>;
  out.push(`latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms`);
  out.push(`switches requested ${switchesRequested}, commands executed by agents ${summary.commands_executed}`);
  out.push(`status codes: ${Object.entries(statusCounts).map(([k, n]) => `${k}×${n}`).join('  ')}`);
  const cols = ['route', 'requests', 'rps', 'p50_ms', 'p90_ms', 'p99_ms', 'max_ms', 'errors', 'statuses'] as const;
  const cell = (r: (typeof routes)[number], c: (typeof cols)[number]) =>
    c === 'statuses' ? Object.entries(r.statuses).map(([k, n]) => `${k}×${n}`).join(' ') : String(r[c]);
  const widths = cols.map((c) => Math.max(c.length, ...routes.map((r) => cell(r, c).length)));
  out.push(`\n${cols.map((c, i) => c.padEnd(widths[i] as number)).join('  ')}`);
  for (const r of routes) out.push(cols.map((c, i) => cell(r, c).padEnd(widths[i] as number)).join('  '));
  if (summary.error_samples.length) out.push('\nerrors (first of each kind):', ...summary.error_samples.map((e) => `  ${e}`));
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`loadtest failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
