/**
 * `npm start -- --demo`: a realistic fleet seeded through the real handlers, so a newcomer sees a
 * living console at once. Nothing is written to the table directly: every change is an HTTP
 * request to a group handler (built as API Gateway builds it), a scheduled job's handler, or an
 * EventBridge event posted to the running server's `/local/eventbridge`.
 *
 * The past is replayed through the two clock seams of the code (no global clock is touched): a
 * request's time is its event's `requestContext.timeEpoch`, a job's time its scheduled event's
 * `time`. The market is the local runtime's market source (market-replay.ts: the real April 2021
 * us-east-1 history of bin/data/ on today's clock): the market-prices job prices the pools from it,
 * as EC2 does in AWS; the agents' pricing reports are only their own observations of the same market.
 * After the replay the fleet keeps living: agents heartbeat, report prices and execute commands.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { JOBS } from '../../functions/jobs/job-table.js';
import {
  buildHttpEvent,
  createLambdaContext,
  createRouteMatcher,
  type EventHandler,
  groupHandlerPath,
  type HttpHandler,
  jobHandlerPath,
  loadHandler,
  normalizeResult,
  type RoutesByGroup,
  scheduledEvent,
} from './local-gateway.js';
import { REPLAY_DAYS_BEFORE, type ReplayMarket } from './market-replay.js';

const REGION = 'us-east-1';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Hours between two passes (heartbeats, market prices, consolidation, risk + engine, the agents' command polls). */
const PASS_HOURS = 4;
const TYPES = ['m5.large', 'c5.large', 'r5.large', 't3.large', 'm5.xlarge'];
const CLIENTS = [
  { name: 'Acme Analytics', email: 'ops@acme.example', agents: 11 },
  { name: 'Globex Media', email: 'sre@globex.example', agents: 8 },
  { name: 'Initech Labs', email: 'it@initech.example', agents: 5 },
];

/** A small deterministic PRNG: the same demo every time. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const instanceId = () => `i-0${randomBytes(8).toString('hex').slice(0, 16)}`;

interface DemoAgent {
  id: string;
  clientIndex: number;
  token: string;
  type: string;
  az: string;
  mode: 'spot' | 'ondemand';
  instanceId: string;
  quiet: boolean;
}

export interface DemoOptions {
  baseUrl: string;
  adminToken: string;
  routesByGroup: RoutesByGroup;
  log: (line: string) => void;
  /** Registers a timer so the caller can stop the living fleet on shutdown. */
  keepAlive: (timer: NodeJS.Timeout) => void;
  /** The market source the server uses (the demo's agents observe the same prices). */
  market: ReplayMarket;
}

export async function seedDemo(options: DemoOptions): Promise<{ clients: Array<{ name: string; token: string }> }> {
  const { log } = options;
  const started = Date.now();
  const match = createRouteMatcher(options.routesByGroup);
  const ctx = (name: string): Context => createLambdaContext(name);
  const { market } = options;
  const random = rng(42);
  // The replay starts where the market's clock does: 4 days before today.
  const demoStart = market.anchor;
  const DAYS = REPLAY_DAYS_BEFORE;
  const poolsOf = (type: string) => market.poolsOf(REGION, type);
  const poolPrice = (pool: string, t: number) => market.priceAt(pool, t);
  const onDemandOf = (type: string) => market.onDemand(REGION, type) ?? null;
  let calls = 0;

  /** One request through the real group handler, stamped with time `at`. */
  async function call<T = Record<string, unknown>>(method: string, path: string, token: string, at: number, body?: unknown): Promise<T> {
    const [rawPath = path, rawQueryString = ''] = path.split('?');
    const found = match(method, rawPath);
    if (!found) throw new Error(`demo: no route for ${method} ${rawPath}`);
    const event = buildHttpEvent({
      method,
      rawPath,
      rawQueryString,
      headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': 'spot-optimizer-demo' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      routeKey: found.routeKey,
      pathParameters: found.pathParameters,
      now: new Date(at),
    });
    const handler = await loadHandler<HttpHandler>(groupHandlerPath(found.group));
    const res = normalizeResult(await handler(event, ctx(`spot-optimizer-${found.group}`)));
    calls++;
    const text = res.body.toString('utf8');
    if (res.statusCode >= 400) throw new Error(`demo: ${method} ${rawPath} → ${res.statusCode} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A scheduled job's real handler, as scheduled at `at`. */
  async function job(name: string, at: number, event?: unknown): Promise<void> {
    const def = JOBS.find((j) => j.name === name);
    if (!def) throw new Error(`demo: no job ${name}`);
    const handler = await loadHandler<EventHandler>(jobHandlerPath(def));
    await handler((event ?? scheduledEvent(def, new Date(at))) as Parameters<EventHandler>[0], ctx(`spot-optimizer-job-${name}`));
  }

  async function eventBridge(event: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${options.baseUrl}/local/eventbridge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'authorization': `Bearer ${options.adminToken}` },
      body: JSON.stringify(event),
    });
    if (!res.ok) throw new Error(`demo: /local/eventbridge → ${res.status} ${await res.text()}`);
  }

  const inBatches = async <T>(items: readonly T[], fn: (item: T) => Promise<unknown>, size = 6) => {
    for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
  };

  // ---- clients and their agents ----
  log('[demo] creating clients and registering agents');
  const clients: Array<{ name: string; token: string; id: string }> = [];
  for (const [n, c] of CLIENTS.entries()) {
    const out = await call<{ client: { id: string; token: string } }>('POST', '/api/admin/clients/create', options.adminToken, demoStart - DAY + n * HOUR, { name: c.name, email: c.email, plan: n === 0 ? 'enterprise' : 'team', max_agents: 50 });
    clients.push({ name: c.name, token: out.client.token, id: out.client.id });
  }
  const agents: DemoAgent[] = [];
  for (const [ci, c] of CLIENTS.entries()) {
    for (let k = 0; k < c.agents; k++) {
      const type = TYPES[(k + ci) % TYPES.length] as string;
      const pools = poolsOf(type);
      const pool = pools[Math.floor(random() * pools.length)] as string;
      const az = pool.slice(type.length + 1);
      const onDemand = ci === 2 && k === 4;
      const a: DemoAgent = { id: '', clientIndex: ci, token: clients[ci]?.token ?? '', type, az, mode: onDemand ? 'ondemand' : 'spot', instanceId: instanceId(), quiet: (ci === 0 && k === 9) || (ci === 1 && k === 7) };
      const prefix = ['web', 'api', 'worker', 'batch', 'etl'][k % 5];
      const at = demoStart + k * 7 * 60_000 + ci * 60_000;
      const reg = await call<{ agent_id: string }>('POST', '/api/agents/register', a.token, at, {
        logical_agent_id: `${prefix}-${k + 1}`,
        instance_id: a.instanceId,
        instance_type: type,
        region: REGION,
        az,
        mode: a.mode,
        hostname: `${prefix}-${k + 1}.${c.name.split(' ')[0]?.toLowerCase()}.internal`,
        agent_version: '4.0.0',
        private_ip: `10.${ci}.${k}.${10 + k}`,
      });
      a.id = reg.agent_id;
      agents.push(a);
    }
  }
  // Acme keeps a warm standby for two workloads and watches a price; Globex is more cautious.
  const acme = clients[0] as { token: string; id: string };
  const replicaAgents = agents.filter((a) => a.clientIndex === 0).slice(0, 2);
  await call('POST', `/api/client/${acme.id}/pricing-alerts`, acme.token, demoStart, { alert_type: 'spot_price_above', threshold: 0.035, pool_id: `m5.large.${replicaAgents[0]?.az ?? 'us-east-1a'}`, notification_channels: ['dashboard'] });
  for (const a of agents.filter((x) => x.clientIndex === 1).slice(0, 3)) {
    const agent = await call<{ version: number }>('GET', `/api/agents/${a.id}`, a.token, demoStart + HOUR);
    await call('POST', `/api/client/agents/${a.id}/settings`, a.token, demoStart + HOUR, { version: agent.version, risk_threshold: 0.2, min_savings_percent: 25 });
  }

  // ---- the agent side of the protocol ----
  const primaryOf = async (a: DemoAgent, at: number) => {
    const agent = await call<{ instance_id: string | null; instance_type: string | null; az: string | null; current_mode: 'spot' | 'ondemand' | null; current_pool_id: string | null }>('GET', `/api/agents/${a.id}`, a.token, at);
    return agent;
  };
  /** Polls pending commands and executes a switch the way the v4 agent does (launch, ready, traffic, report, executed). */
  async function executeCommands(a: DemoAgent, at: number): Promise<boolean> {
    const pending = await call<Array<{ id: string; command_type: string; target_mode: 'spot' | 'ondemand' | null; target_pool_id: string | null; terminate_wait_seconds: number }>>('GET', `/api/agents/${a.id}/pending-commands`, a.token, at);
    const cmd = pending[0];
    if (!cmd) return false;
    if (cmd.command_type !== 'switch') {
      await call('POST', `/api/agents/${a.id}/commands/${cmd.id}/executed`, a.token, at + 20_000, { success: false, message: 'not supported by this agent version' });
      return false;
    }
    const current = await primaryOf(a, at + 1000);
    const oldId = current.instance_id ?? a.instanceId;
    const newMode = cmd.target_mode ?? 'spot';
    const newAz = newMode === 'spot' && cmd.target_pool_id ? cmd.target_pool_id.slice(a.type.length + 1) : (current.az ?? a.az);
    const newId = instanceId();
    const launched = at + 40_000 + Math.floor(random() * 40_000);
    const ready = launched + 60_000 + Math.floor(random() * 60_000);
    const switched = ready + 2_000 + Math.floor(random() * 9_000);
    const od = onDemandOf(a.type);
    const oldPool = current.current_pool_id;
    await call('POST', `/api/agents/${a.id}/switch-report`, a.token, switched + 1000, {
      old_instance: { instance_id: oldId, instance_type: a.type, region: REGION, az: current.az ?? a.az, ami_id: 'ami-0demo', mode: current.current_mode ?? a.mode, pool_id: current.current_mode === 'spot' ? oldPool : null },
      new_instance: { instance_id: newId, instance_type: a.type, region: REGION, az: newAz, ami_id: 'ami-0demo', mode: newMode, pool_id: newMode === 'spot' ? `${a.type}.${newAz}` : null },
      prices: { on_demand: od, old_spot: oldPool ? (poolPrice(oldPool, at) ?? null) : null, new_spot: newMode === 'spot' ? (poolPrice(`${a.type}.${newAz}`, at) ?? null) : null },
      timing: {
        switch_initiated_at: new Date(at + 5_000).toISOString(),
        new_instance_launched_at: new Date(launched).toISOString(),
        new_instance_ready_at: new Date(ready).toISOString(),
        traffic_switched_at: new Date(switched).toISOString(),
        old_instance_terminated_at:
          cmd.terminate_wait_seconds > 0 ? new Date(switched + cmd.terminate_wait_seconds * 1000).toISOString() : null,
      },
      trigger: 'model',
      command_id: cmd.id,
    });
    await call('POST', `/api/agents/${a.id}/commands/${cmd.id}/executed`, a.token, switched + 2000, { success: true, message: `switched to ${newMode === 'spot' ? `${a.type}.${newAz}` : 'on-demand'}` });
    a.instanceId = newId;
    a.az = newAz;
    a.mode = newMode;
    return true;
  }

  async function reportPrices(at: number): Promise<void> {
    // The agents' own observations of the market (the market itself comes from the market-prices job).
    // One reporter per instance type is enough for the demo: every agent of the type sees the same pools.
    const reporters = TYPES.map((t) => agents.find((a) => a.type === t && !a.quiet && a.mode === 'spot')).filter(
      (a): a is DemoAgent => a !== undefined,
    );
    await inBatches(reporters, async (a) => {
      const spot = poolsOf(a.type)
        .map((pool) => ({ pool_id: pool, instance_type: a.type, az: pool.slice(a.type.length + 1), price: poolPrice(pool, at) }))
        .filter((p): p is { pool_id: string; instance_type: string; az: string; price: number } => typeof p.price === 'number');
      const cheapest = [...spot].sort((x, y) => x.price - y.price)[0];
      await call('POST', `/api/agents/${a.id}/pricing-report`, a.token, at, {
        instance: { instance_id: a.instanceId, instance_type: a.type, region: REGION, az: a.az, mode: a.mode, pool_id: `${a.type}.${a.az}` },
        pricing: { on_demand_price: onDemandOf(a.type), current_spot_price: poolPrice(`${a.type}.${a.az}`, at) ?? null, cheapest_pool: cheapest ? { pool_id: cheapest.pool_id, price: cheapest.price } : null, spot_pools: spot, collected_at: new Date(at).toISOString() },
      });
    });
  }

  const heartbeat = (a: DemoAgent, at: number) => call('POST', `/api/agents/${a.id}/heartbeat`, a.token, at, { status: 'online', instance_id: a.instanceId, instance_type: a.type, mode: a.mode, az: a.az });

  async function attachReplicas(a: DemoAgent, at: number): Promise<void> {
    const { replicas } = await call<{ replicas: Array<{ id: string; status: string; pool_id: string | null }> }>('GET', `/api/agents/${a.id}/replicas?status=launching`, a.token, at);
    for (const r of replicas) {
      await call('PUT', `/api/agents/${a.id}/replicas/${r.id}`, a.token, at + 90_000, { instance_id: instanceId(), status: 'syncing' });
      await call('POST', `/api/agents/${a.id}/replicas/${r.id}/status`, a.token, at + 240_000, { status: 'ready' });
    }
  }

  // ---- the replay: reports every 2 h, a pass every 4 h (heartbeats, market, consolidation, risk + engine, commands), a snapshot each night ----
  const now = Date.now();
  const lastHour = Math.floor((now - 10 * 60_000) / HOUR) * HOUR;
  const forced = new Map<number, number>([[29, 3], [51, 14], [75, 20], [89, 6]]);
  let switches = 0;
  let lastLog = Date.now();
  for (let t = demoStart; t <= lastHour; t += HOUR) {
    const hour = Math.round((t - demoStart) / HOUR);
    if (hour % 2 === 0) await reportPrices(t);
    if (hour === 6) {
      for (const a of replicaAgents) {
        const agent = await call<{ version: number }>('GET', `/api/agents/${a.id}`, a.token, t);
        await call('POST', `/api/client/agents/${a.id}/settings`, a.token, t + 60_000, { version: agent.version, manual_replica_enabled: true });
      }
    }
    const forcedAgent = forced.get(hour);
    if (forcedAgent !== undefined) {
      const a = agents[forcedAgent];
      if (a && a.mode === 'spot') {
        const target = poolsOf(a.type).filter((p) => p !== `${a.type}.${a.az}`).sort((x, y) => (poolPrice(x, t) ?? 9) - (poolPrice(y, t) ?? 9))[0];
        if (target) await call('POST', `/api/client/instances/${a.instanceId}/force-switch`, a.token, t + 5 * 60_000, { target: 'pool', pool_id: target, reason: 'cheaper pool seen on the console' }).catch(() => undefined);
      }
    }
    if (hour % PASS_HOURS === 0) {
      const pass = t + 10 * 60_000;
      await inBatches(agents.filter((a) => !a.quiet || t < now - 3 * HOUR), (a) => heartbeat(a, pass));
      await job('market-prices', pass - 60_000);
      await job('pricing-consolidation', pass, { trigger: 'manual', window_start: new Date(t - (PASS_HOURS + 1) * HOUR).toISOString(), window_end: new Date(pass).toISOString() });
      await job('pool-risk-analysis', pass + 60_000);
      await inBatches(agents.filter((a) => !a.quiet || t < now - 3 * HOUR), async (a) => {
        if (await executeCommands(a, pass + 2 * 60_000)) switches++;
      });
      if (hour >= 6 && hour <= 18) await inBatches(replicaAgents, (a) => attachReplicas(a, pass + 3 * 60_000));
    }
    if ((t + HOUR) % DAY === 0 && t + HOUR <= now) {
      await job('daily-savings-snapshot', t + HOUR + 10 * 60_000);
    }
    if (Date.now() - lastLog > 4000) {
      log(`[demo] replayed ${new Date(t).toISOString().slice(0, 13)}h of ${new Date(lastHour).toISOString().slice(0, 13)}h (${calls} requests)`);
      lastLog = Date.now();
    }
  }

  // ---- now: live heartbeats, two interruptions through EventBridge, a rebalance notice ----
  log('[demo] live: heartbeats, interruptions through /local/eventbridge');
  const live = () => agents.filter((a) => !a.quiet);
  await inBatches(live(), (a) => heartbeat(a, Date.now()));
  const ec2Event = (type: string, a: DemoAgent, detail: Record<string, unknown>) => ({
    'version': '0',
    'id': crypto.randomUUID(),
    'detail-type': type,
    'source': 'aws.ec2',
    'account': process.env.STACK_ACCOUNT ?? '123456789012',
    'time': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'region': REGION,
    'resources': [`arn:aws:ec2:${REGION}:123456789012:instance/${a.instanceId}`],
    'detail': { 'instance-id': a.instanceId, ...detail },
  });
  const withReplica = replicaAgents[0];
  if (withReplica) {
    const replaced = withReplica.instanceId;
    await eventBridge(ec2Event('EC2 Spot Instance Interruption Warning', withReplica, { 'instance-action': 'terminate' }));
    const after = await primaryOf(withReplica, Date.now());
    if (after.instance_id && after.instance_id !== replaced) {
      withReplica.instanceId = after.instance_id;
      withReplica.az = after.az ?? withReplica.az;
    }
  }
  const noReplica = agents.find((a) => a.clientIndex === 1 && a.mode === 'spot' && !a.quiet);
  if (noReplica) {
    await eventBridge(ec2Event('EC2 Spot Instance Interruption Warning', noReplica, { 'instance-action': 'terminate' }));
    if (await executeCommands(noReplica, Date.now())) switches++;
  }
  const rebalanced = agents.find((a) => a.clientIndex === 2 && a.mode === 'spot');
  if (rebalanced) await eventBridge(ec2Event('EC2 Instance Rebalance Recommendation', rebalanced, {}));
  await job('agent-heartbeat-timeout', Date.now());

  // ---- the fleet keeps living while the server runs ----
  let beating = false;
  options.keepAlive(
    setInterval(async () => {
      if (beating) return;
      beating = true;
      try {
        const at = Date.now();
        await inBatches(live(), (a) => heartbeat(a, at));
        if (Math.floor(at / 30_000) % 10 === 0) await reportPrices(at);
        if (Math.floor(at / 30_000) % 4 === 0) await inBatches(live(), (a) => executeCommands(a, at));
      } catch (err) {
        log(`[demo] living fleet: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        beating = false;
      }
    }, 30_000),
  );
  log(`[demo] ${clients.length} clients, ${agents.length} agents, ${DAYS} days replayed, ${switches} switches executed by agents, ${calls} requests in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { clients: clients.map(({ name, token }) => ({ name, token })) };
}
