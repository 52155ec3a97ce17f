/**
 * `npm run bench -- --only capacity`: the cost and capacity model, measured (README "Capacity and cost").
 *
 * Replays one simulated agent-hour of the v4 call mix (bin/support/v4-agent.ts, the agent's fixed
 * cadence with ±10 % jitter, in virtual time) for several agents of two clients on two instance
 * types, plus for each agent one manual switch (issued by its client, delivered, executed,
 * switch-report, the zombie terminated) and one interruption (the EventBridge warning through the
 * real ec2-events handler, the agent's termination-imminent, the emergency switch executed, the
 * instance's terminated state change), while the scheduled jobs run at their own cadence. Every
 * request goes through the real group handler (route table → API Gateway v2 event → middy), on a
 * fresh DynamoDB Local table whose stream (NEW_AND_OLD_IMAGES) shows each written item before and
 * after; every DynamoDB call is captured with `ReturnConsumedCapacity: INDEXES` through the db
 * layer's hook. Reports per route, per event, per job and per agent-month: requests, round trips,
 * read and write units (table and each GSI), Lambda time, $ at list prices (bin/bench/aws-prices.ts),
 * and the hottest partition's write rate of the table and of each GSI at 1k/10k/100k agents.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { HOURS_PER_MONTH, PRICES, PRICES_KNOWN_ON, type Usage, addCosts, priceUsage } from './aws-prices.js';
import { type DbCallRecord, type ItemChange, createCapture, openStream } from './capacity-capture.js';
import {
  type Fleet,
  type ItemWrite,
  type PartitionClass,
  type PartitionLoad,
  type PartitionWrite,
  TABLE,
  type TableShape,
  classifyPartition,
  foldShard,
  hottestByTarget,
  itemSize,
  keyPattern,
  modelItemWrite,
  rateAt,
} from './capacity-model.js';
import { percentile, progress, rng, round } from './bench-env.js';
import { deployedFunctions } from './stack-functions.js';
import { type AgentRequest, V4Agent, taskLabel } from '../support/v4-agent.js';
import { installVirtualClock } from '../support/virtual-clock.js';

const AGENTS = Number(process.env.BENCH_CAPACITY_AGENTS ?? 8);
const CLIENTS = 2;
const INSTANCE_TYPES = ['m5.large', 'c5.large'];
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const REGION = 'us-east-1';
const SIM_SECONDS = 3600;
const JITTER = 0.1;

/** What the per-agent-month figures assume besides the measured hour (stated in the output). */
export const ASSUMPTIONS = {
  switchesPerAgentMonth: 4,
  interruptionsPerAgentMonth: 1,
  manyClientsAgentsPerClient: 100,
  fleets: [1_000, 10_000, 100_000],
  /** A partition key value takes about 1,000 WCU/s; the design keeps headroom: at most 500. */
  partitionWriteLimit: 1_000,
  partitionWriteTarget: 500,
} as const;

type Flow = 'setup' | 'periodic' | 'switch' | 'interruption' | 'job';

interface CallRecord {
  label: string;
  flow: Flow;
  /** POWERTOOLS_SERVICE_NAME of the function that ran it. */
  fn: string;
  http: boolean;
  agentId?: string;
  status: number | string;
  ms: number;
  dbCalls: DbCallRecord[];
  writes: PartitionWrite[];
  /** Per-item outcomes that cost without a stream record. */
  unchangedWrites: number;
  failedWrites: number;
  transactionalWriteUnits: number;
}

type Json = Record<string, unknown>;

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => (xs.length ? sum(xs) / xs.length : 0);

export async function run(adminToken: string): Promise<Record<string, unknown>> {
  progress('capacity: synthesising the stack for each function memory size');
  const functions = await deployedFunctions();
  const endpoint = process.env.DYNAMODB_ENDPOINT as string;
  const previousTable = process.env.TABLE_NAME;
  const tableName = `spot-optimizer-capacity-${randomBytes(4).toString('hex')}`;
  const admin = new DynamoDBClient({ endpoint });
  const { createTable } = await import('../../functions/shared/db/create-table.js');
  await createTable(admin, tableName);
  const stream = await openStream(admin, endpoint, tableName);
  process.env.TABLE_NAME = tableName;

  const gateway = await import('../support/local-gateway.js');
  const { JOBS } = await import('../../functions/jobs/job-table.js');
  const { TABLE_SCHEMA } = await import('../../functions/shared/db/table-schema.js');
  const { addDbHook } = await import('../../functions/shared/db/client.js');
  const { routesByGroup } = await gateway.loadRoutesByGroup();
  const match = gateway.createRouteMatcher(routesByGroup);
  type Handler = (event: unknown, context: Context) => Promise<unknown>;
  const handlers = new Map<string, Handler>();
  const handlerFor = async (path: string): Promise<Handler> => {
    let h = handlers.get(path);
    if (!h) handlers.set(path, (h = await gateway.loadHandler<Handler>(path)));
    return h;
  };
  const table: TableShape = {
    partitionKey: TABLE_SCHEMA.partitionKey,
    sortKey: TABLE_SCHEMA.sortKey,
    indexes: TABLE_SCHEMA.globalIndexes.map((i) => ({
      ...i,
      // The schema may declare a narrower projection; ALL is what create-table builds today.
      projection: ((i as { projection?: unknown }).projection as TableShape['indexes'][number]['projection']) ?? { type: 'ALL' },
    })),
  };
  const targets = [TABLE, ...table.indexes.map((i) => i.indexName)];

  // The market the jobs read: the local replay of bin/data/ (no EC2 here), as `npm start` uses.
  const { createReplayMarket } = await import('../support/market-replay.js');
  const { useMarketPriceSource } = await import('../../functions/shared/market/market-prices.js');
  useMarketPriceSource(await createReplayMarket());
  const capture = createCapture(addDbHook);
  const clock = installVirtualClock(Math.floor(Date.now() / 1000) * 1000);
  const t0 = clock.now();
  const records: CallRecord[] = [];
  const itemCache = new Map<string, number>();
  let unmatchedChanges = 0;
  const cacheKey = (k: { PK: string; SK: string }) => `${k.PK}\u0000${k.SK}`;

  /** Matches the stream changes of one request to its write ops and models their units. */
  const model = (dbCalls: DbCallRecord[], changes: ItemChange[]) => {
    const pending = [...changes];
    const writes: PartitionWrite[] = [];
    let unchangedWrites = 0;
    let failedWrites = 0;
    let transactionalWriteUnits = 0;
    for (const call of dbCalls) {
      for (const op of call.writes) {
        const k = cacheKey(op.key);
        const at = call.ok && op.kind !== 'condition-check' ? pending.findIndex((c) => cacheKey(c.key) === k) : -1;
        const change = at >= 0 ? pending.splice(at, 1)[0] : undefined;
        const outcome: ItemWrite['outcome'] = change ? 'written' : op.kind === 'condition-check' ? 'condition-check' : call.ok ? 'unchanged' : 'failed';
        if (outcome === 'unchanged') unchangedWrites++;
        if (outcome === 'failed') failedWrites++;
        const w: ItemWrite = {
          outcome,
          transactional: op.transactional,
          partition: op.key.PK,
          ...(change?.oldImage ? { oldImage: change.oldImage } : {}),
          ...(change?.newImage ? { newImage: change.newImage } : {}),
          existingSize: itemCache.get(k) ?? 0,
        };
        const modelled = modelItemWrite(w, table);
        if (op.transactional) transactionalWriteUnits += sum(modelled.map((m) => m.units));
        writes.push(...modelled);
      }
    }
    for (const c of changes) {
      const k = cacheKey(c.key);
      if (c.newImage) itemCache.set(k, itemSize(c.newImage));
      else itemCache.delete(k);
    }
    unmatchedChanges += pending.length;
    return { writes, unchangedWrites, failedWrites, transactionalWriteUnits };
  };

  /** Runs one invocation of a function under capture, drains the stream, records it. */
  const invoke = async (
    label: string,
    flow: Flow,
    fn: string,
    http: boolean,
    agentId: string | undefined,
    call: () => Promise<unknown>,
  ) => {
    const out = await capture.run(call);
    const changes = await stream.drain();
    const modelled = model(out.scope.calls, changes);
    const result = out.value as { statusCode?: number } | undefined;
    const status = out.error ? `error: ${out.error instanceof Error ? out.error.message : String(out.error)}` : (result?.statusCode ?? 200);
    records.push({ label, flow, fn, http, ...(agentId ? { agentId } : {}), status, ms: out.ms, dbCalls: out.scope.calls, ...modelled });
    return out.value;
  };

  const request = async (
    label: string,
    flow: Flow,
    agentId: string | undefined,
    method: string,
    path: string,
    token: string,
    body?: unknown,
    query?: Record<string, string>,
  ): Promise<{ status: number; json: unknown }> => {
    const found = match(method, path);
    if (!found) throw new Error(`no route for ${method} ${path}`);
    const rawQueryString = query ? new URLSearchParams(query).toString() : '';
    const event = gateway.buildHttpEvent({
      method,
      rawPath: path,
      rawQueryString,
      headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': 'spot-agent/4.0.0' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      routeKey: found.routeKey,
      pathParameters: found.pathParameters,
    });
    const handler = await handlerFor(gateway.groupHandlerPath(found.group));
    const result = await invoke(label, flow, found.group, true, agentId, () => handler(event, gateway.createLambdaContext(`spot-optimizer-${found.group}`)));
    const response = gateway.normalizeResult(result);
    const text = response.body.toString('utf8');
    return { status: response.statusCode, json: text ? JSON.parse(text) : undefined };
  };

  const ec2Event = async (label: string, agentId: string, detailType: string, instanceId: string, detail: Json) => {
    const handler = await handlerFor(gateway.EC2_EVENTS_HANDLER_PATH);
    const event = {
      'version': '0',
      'id': randomUUID(),
      'detail-type': detailType,
      'source': 'aws.ec2',
      'account': '123456789012',
      'time': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'region': REGION,
      'resources': [`arn:aws:ec2:${REGION}:123456789012:instance/${instanceId}`],
      'detail': { 'instance-id': instanceId, ...detail },
    };
    await invoke(label, 'interruption', 'ec2-events', false, agentId, () => handler(event, gateway.createLambdaContext('spot-optimizer-ec2-events')));
  };

  const newInstanceId = () => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
  const names = new Map<string, string>();
  try {
    // ---- setup: clients, agents (not part of the steady state) --------------------------------
    progress(`capacity: ${CLIENTS} clients, ${AGENTS} agents on ${INSTANCE_TYPES.join(' and ')}`);
    const tokens: string[] = [];
    const clientIds: string[] = [];
    for (let c = 0; c < CLIENTS; c++) {
      const res = await request('POST /api/admin/clients/create', 'setup', undefined, 'POST', '/api/admin/clients/create', adminToken, {
        name: `capacity-${c}-${randomUUID()}`,
        max_agents: 10_000,
      });
      const client = (res.json as { client: { id: string; token: string } }).client;
      tokens.push(client.token);
      clientIds.push(client.id);
      names.set(client.id, '<cid>');
    }
    // Steady state: the market already prices the fleet's types (the market-prices job ran before the hour).
    const { pricesRepo } = await import('../../functions/shared/db/prices-repo.js');
    for (const type of INSTANCE_TYPES) await pricesRepo.watchMarket(REGION, type);
    const marketJob = JOBS.find((j) => j.name === 'market-prices') as (typeof JOBS)[number];
    const marketHandler = await handlerFor(gateway.jobHandlerPath(marketJob));
    await invoke('market-prices (before the hour)', 'setup', marketJob.name, false, undefined, () =>
      marketHandler(gateway.scheduledEvent(marketJob, new Date(t0 - 60_000)), gateway.createLambdaContext(`spot-optimizer-job-${marketJob.name}`, 300_000)),
    );
    const random = rng(8);
    const agents = Array.from({ length: AGENTS }, (_, i) => {
      const instanceType = INSTANCE_TYPES[i % INSTANCE_TYPES.length] as string;
      const agent = new V4Agent({
        logicalAgentId: `capacity-${i}`,
        instanceId: newInstanceId(),
        instanceType,
        region: REGION,
        az: AZS[i % AZS.length] as string,
        otherAzs: AZS,
        random,
        jitter: JITTER,
        startAt: t0,
        newInstanceId,
        spotPrice: instanceType === 'm5.large' ? 0.035 : 0.031,
        onDemandPrice: instanceType === 'm5.large' ? 0.096 : 0.085,
      });
      const c = Math.floor((i * CLIENTS) / AGENTS);
      return { agent, token: tokens[c] as string, clientId: clientIds[c] as string, instances: new Set<string>() };
    });
    for (const t of INSTANCE_TYPES) names.set(t, '<type>');

    /** One agent request through its handler, fed back to the agent. */
    const agentCall = async (a: (typeof agents)[number], r: AgentRequest, flowOverride?: Flow) => {
      const flow: Flow =
        flowOverride ??
        (r.task === 'register'
          ? 'setup'
          : r.trigger === 'emergency'
            ? 'interruption'
            : r.trigger || r.task === 'terminationReport'
              ? 'switch'
              : 'periodic');
      a.instances.add(a.agent.instanceId);
      const res = await request(taskLabel(r.task), flow, a.agent.agentId, r.method, r.path, a.token, r.body, r.query);
      // A poll that delivers a command belongs to that command's flow: it happens once per switch
      // (its delivery, with its feed event), not every 15 s like the empty polls.
      const delivered = r.task === 'pendingCommands' && Array.isArray(res.json) ? (res.json[0] as { trigger_type?: string } | undefined) : undefined;
      const last = records.at(-1);
      if (delivered && last && !flowOverride) last.flow = delivered.trigger_type === 'emergency' ? 'interruption' : 'switch';
      a.agent.complete(r, res.status, res.json, clock.now());
      if (a.agent.agentId) names.set(a.agent.agentId, '<aid>');
      return res;
    };
    for (const a of agents) for (const r of a.agent.due(t0)) await agentCall(a, r);

    // ---- scripted events: a switch and an interruption per agent --------------------------------
    interface Scripted { at: number; run: () => Promise<void> }
    const scripted: Scripted[] = [];
    agents.forEach((a, i) => {
      scripted.push({
        at: t0 + 15 * 60_000 + i * 20_000,
        run: async () => {
          const target = AZS.find((az) => az !== a.agent.az) as string;
          const res = await request('POST /api/client/instances/{iid}/force-switch', 'switch', a.agent.agentId, 'POST', `/api/client/instances/${a.agent.instanceId}/force-switch`, a.token, {
            target: 'pool',
            pool_id: `${a.agent.instanceType}.${target}`,
            reason: 'capacity bench: manual switch',
          });
          if (res.status !== 202) throw new Error(`force-switch → ${res.status} ${JSON.stringify(res.json)}`);
        },
      });
      scripted.push({
        at: t0 + 35 * 60_000 + i * 20_000,
        run: async () => {
          const iid = a.agent.instanceId;
          a.instances.add(iid);
          await ec2Event('EventBridge: Spot Instance Interruption Warning', a.agent.agentId as string, 'EC2 Spot Instance Interruption Warning', iid, { 'instance-action': 'terminate' });
          clock.set(clock.now() + 2_000);
          await request('POST /api/agents/{aid}/termination-imminent', 'interruption', a.agent.agentId, 'POST', `/api/agents/${a.agent.agentId}/termination-imminent`, a.token, {
            instance_id: iid,
            action: 'terminate',
            time: new Date(clock.now() + 118_000).toISOString(),
            detected_at: new Date().toISOString(),
          });
          scripted.push({
            at: clock.now() + 118_000,
            run: () => ec2Event('EventBridge: Instance State-change (terminated)', a.agent.agentId as string, 'EC2 Instance State-change Notification', iid, { state: 'terminated' }),
          });
        },
      });
    });

    // ---- jobs at their cadence (daily and 12-hourly ones once, weighted) ----------------------
    const everySeconds = (schedule: string): number | undefined => {
      const m = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(schedule);
      if (!m) return undefined;
      return Number(m[1]) * (m[2]?.startsWith('hour') ? 3600 : 60);
    };
    const jobRunsPerMonth = new Map<string, number>();
    const jobNext = new Map<string, number>();
    for (const job of JOBS) {
      const every = everySeconds(job.schedule) ?? 86_400;
      jobRunsPerMonth.set(job.name, (HOURS_PER_MONTH * 3600) / every);
      // Jobs slower than hourly run once, at the end of the hour.
      jobNext.set(job.name, every <= SIM_SECONDS ? t0 + every * 1000 : t0 + SIM_SECONDS * 1000 - 1);
    }
    const runJob = async (job: (typeof JOBS)[number]) => {
      const handler = await handlerFor(gateway.jobHandlerPath(job));
      await invoke(job.name, 'job', job.name, false, undefined, () => handler(gateway.scheduledEvent(job), gateway.createLambdaContext(`spot-optimizer-job-${job.name}`, 300_000)));
    };

    // ---- the hour ---------------------------------------------------------------------------------
    const end = t0 + SIM_SECONDS * 1000;
    let lastProgress = 0;
    for (;;) {
      const nextAgent = Math.min(...agents.map((a) => a.agent.nextDueAt()));
      const nextScripted = Math.min(...scripted.map((s) => s.at));
      const nextJob = Math.min(...jobNext.values());
      const next = Math.min(nextAgent, nextScripted, nextJob);
      if (next >= end) break;
      clock.set(next);
      if (next === nextScripted) {
        const i = scripted.findIndex((s) => s.at === next);
        const [s] = scripted.splice(i, 1);
        await s?.run();
      } else if (next === nextJob) {
        const job = JOBS.find((j) => jobNext.get(j.name) === next) as (typeof JOBS)[number];
        const every = everySeconds(job.schedule);
        jobNext.set(job.name, every && every <= SIM_SECONDS ? next + every * 1000 : Number.POSITIVE_INFINITY);
        await runJob(job);
      } else {
        for (const a of agents) {
          if (a.agent.nextDueAt() > next) continue;
          for (const r of a.agent.due(next)) await agentCall(a, r);
        }
      }
      if (next - lastProgress >= 5 * 60_000) {
        lastProgress = next;
        progress(`capacity: simulated ${Math.round((next - t0) / 60_000)} of 60 min, ${records.length} invocations`);
      }
    }
    const switchesDone = sum(agents.map((a) => a.agent.executed.length));
    progress(`capacity: ${records.length} invocations; ${switchesDone} commands executed by the agents`);
    for (const a of agents) for (const iid of a.instances) names.set(iid, '<iid>');
    for (const a of agents) names.set(a.agent.instanceId, '<iid>');
    for (const t of INSTANCE_TYPES) for (const az of AZS) names.set(`${t}.${az}`, '<pool>');

    const simulated = agents.map((a) => ({ id: a.agent.agentId as string, clientId: a.clientId, instances: a.instances }));
    const { SHARDS, SHARD_SUFFIX } = await import('../../functions/shared/db/keys.js');
    const sharding = { suffix: SHARD_SUFFIX, shards: SHARDS };
    return report({ records, functions, targets, agents: simulated, jobRunsPerMonth, names, unmatchedChanges, sharding });
  } finally {
    clock.uninstall();
    capture.remove();
    stream.close();
    admin.destroy();
    if (previousTable === undefined) delete process.env.TABLE_NAME;
    else process.env.TABLE_NAME = previousTable;
  }
}

// ---------------------------------------------------------------------------------------------
// The report

interface ReportInput {
  records: CallRecord[];
  functions: Map<string, { memoryMb: number; architecture: string }>;
  targets: string[];
  agents: { id: string; clientId: string; instances: Set<string> }[];
  jobRunsPerMonth: Map<string, number>;
  names: Map<string, string>;
  unmatchedChanges: number;
  /** How write-sharded partition keys look (keys.ts). */
  sharding: { suffix: RegExp; shards: number };
}

/** Occurrences per agent-month of one simulated occurrence of each flow (jobs: per installation). */
function monthlyWeight(flow: Flow, agents: number): number {
  switch (flow) {
    case 'periodic':
      return HOURS_PER_MONTH / (SIM_SECONDS / 3600) / agents;
    case 'switch':
      return ASSUMPTIONS.switchesPerAgentMonth / agents;
    case 'interruption':
      return ASSUMPTIONS.interruptionsPerAgentMonth / agents;
    default:
      return 0;
  }
}

function report(input: ReportInput): Record<string, unknown> {
  const { records, functions, targets, agents } = input;
  const A = agents.length;
  const memoryOf = (fn: string) => {
    const f = functions.get(fn);
    if (!f) throw new Error(`the stack has no function with POWERTOOLS_SERVICE_NAME=${fn}`);
    if (f.architecture !== 'arm64') throw new Error(`${fn} is ${f.architecture}: the price constants are arm64`);
    return f.memoryMb;
  };

  interface Agg {
    label: string;
    flow: Flow;
    fn: string;
    http: boolean;
    n: number;
    roundTrips: number;
    reads: Record<string, number>;
    writesModel: Record<string, number>;
    writesLocal: Record<string, number>;
    ms: number[];
    statuses: Map<string, number>;
  }
  const groups = new Map<string, Agg>();
  for (const r of records) {
    const key = `${r.flow}|${r.label}`;
    let g = groups.get(key);
    if (!g) {
      const empty = { n: 0, roundTrips: 0, reads: {}, writesModel: {}, writesLocal: {}, ms: [], statuses: new Map() };
      g = { label: r.label, flow: r.flow, fn: r.fn, http: r.http, ...empty };
      groups.set(key, g);
    }
    g.n++;
    g.roundTrips += r.dbCalls.length;
    g.ms.push(r.ms);
    g.statuses.set(String(r.status), (g.statuses.get(String(r.status)) ?? 0) + 1);
    for (const c of r.dbCalls) {
      const into = c.kind === 'read' ? g.reads : g.writesLocal;
      for (const [t, u] of Object.entries(c.consumed)) into[t] = (into[t] ?? 0) + u;
    }
    for (const w of r.writes) g.writesModel[w.target] = (g.writesModel[w.target] ?? 0) + w.units;
  }

  const usageOf = (g: Agg, per: number): Usage => ({
    httpRequests: g.http ? g.n * per : 0,
    lambdaInvocations: g.n * per,
    lambdaBilledMs: sum(g.ms.map((m) => Math.ceil(m))) * per,
    lambdaMemoryMb: memoryOf(g.fn),
    readUnits: sum(Object.values(g.reads)) * per,
    writeUnits: sum(Object.values(g.writesModel)) * per,
  });
  const units = (rec: Record<string, number>, n: number) => Object.fromEntries(targets.map((t) => [t, round((rec[t] ?? 0) / n, 2)]));
  const row = (g: Agg, per: number) => {
    const cost = priceUsage(usageOf(g, per));
    return {
      'route': g.label,
      'function': `${g.fn} (${memoryOf(g.fn)} MB)`,
      'calls': g.n,
      'round_trips/call': round(g.roundTrips / g.n, 2),
      'RRU/call (table GSI1 GSI2 GSI3)': targets.map((t) => round((g.reads[t] ?? 0) / g.n, 2)).join(' '),
      'WRU/call (table GSI1 GSI2 GSI3)': targets.map((t) => round((g.writesModel[t] ?? 0) / g.n, 2)).join(' '),
      'lambda_ms p50/mean': `${round(percentile(g.ms, 50), 1)}/${round(mean(g.ms), 1)}`,
      ...(per > 0 ? { 'calls/agent-month': round(g.n * per, 0), '$/agent-month': round(cost.total, 4) } : {}),
      'status': [...g.statuses].map(([s, n]) => `${s}×${n}`).join(' '),
    };
  };
  const byFlow = (flow: Flow) => [...groups.values()].filter((g) => g.flow === flow).sort((a, b) => b.n - a.n);

  // ---- per agent-month ------------------------------------------------------------------------
  const monthly = (['periodic', 'switch', 'interruption'] as const).map((flow) => {
    const gs = byFlow(flow);
    const w = monthlyWeight(flow, A);
    const usage = gs.map((g) => usageOf(g, w));
    return { flow, gs, w, usage, cost: addCosts(usage.map(priceUsage)) };
  });
  const jobs = byFlow('job').map((g) => {
    const perMonth = (input.jobRunsPerMonth.get(g.label) ?? 0) / g.n;
    return { g, perMonth, cost: priceUsage(usageOf(g, perMonth)) };
  });
  const jobsMonthly = addCosts(jobs.map((j) => j.cost));
  const agentMonth = addCosts(monthly.map((m) => m.cost));
  const totals = (pick: (u: Usage) => number) => sum(monthly.flatMap((m) => m.usage.map(pick)));
  const perAgentMonth = {
    'requests': round(totals((u) => u.httpRequests), 0),
    'lambda_invocations': round(totals((u) => u.lambdaInvocations), 0),
    'dynamodb_round_trips': round(sum(monthly.flatMap((m) => m.gs.map((g) => g.roundTrips * m.w))), 0),
    'read_units': round(totals((u) => u.readUnits), 0),
    'write_units': round(totals((u) => u.writeUnits), 0),
    'write_units by target (table GSI1 GSI2 GSI3)': targets.map((t) => round(sum(monthly.flatMap((m) => m.gs.map((g) => (g.writesModel[t] ?? 0) * m.w))), 0)).join(' '),
    'read_units by target (table GSI1 GSI2 GSI3)': targets.map((t) => round(sum(monthly.flatMap((m) => m.gs.map((g) => (g.reads[t] ?? 0) * m.w))), 0)).join(' '),
    'lambda_gb_seconds': round(sum(monthly.flatMap((m) => m.usage.map((u) => (u.lambdaBilledMs / 1000) * (u.lambdaMemoryMb / 1024)))), 1),
    '$ HTTP API': round(agentMonth.httpApi, 4),
    '$ Lambda requests': round(agentMonth.lambdaRequests, 4),
    '$ Lambda GB-s': round(agentMonth.lambdaDuration, 4),
    '$ DynamoDB reads': round(agentMonth.dynamoReads, 4),
    '$ DynamoDB writes': round(agentMonth.dynamoWrites, 4),
    '$ total (agent traffic)': round(agentMonth.total, 4),
    '$ jobs per installation-month (measured fleet)': round(jobsMonthly.total, 2),
    '$ jobs per agent-month (÷ measured fleet: upper bound)': round(jobsMonthly.total / A, 4),
  };
  const byFlowCost = monthly.map((m) => ({ 'flow': m.flow, '$/agent-month': round(m.cost.total, 4), 'share': `${round((100 * m.cost.total) / agentMonth.total, 1)} %` }));

  // ---- heartbeat ------------------------------------------------------------------------------
  const hb = groups.get('periodic|POST /api/agents/{aid}/heartbeat');
  const heartbeat = hb && {
    'write_units_per_heartbeat (model)': round(sum(Object.values(hb.writesModel)) / hb.n, 2),
    'by target (model)': units(hb.writesModel, hb.n),
    'by target (DynamoDB Local ConsumedCapacity)': units(hb.writesLocal, hb.n),
    'read_units_per_heartbeat': round(sum(Object.values(hb.reads)) / hb.n, 2),
    'round_trips_per_heartbeat': round(hb.roundTrips / hb.n, 2),
    '$ per agent-month (heartbeat route)': round(priceUsage(usageOf(hb, monthlyWeight('periodic', A))).total, 4),
  };

  // ---- partitions -----------------------------------------------------------------------------
  const clientOfAgent = new Map(agents.map((a) => [a.id, a.clientId]));
  const idOwners: { id: string; agent?: string; client?: string }[] = [
    ...agents.flatMap((a) => [{ id: a.id, agent: a.id }, ...[...a.instances].map((i) => ({ id: i, agent: a.id }))]),
    ...[...new Set(agents.map((a) => a.clientId))].map((c) => ({ id: c, client: c })),
  ];
  const steadyWeight = (r: CallRecord): number => {
    if (r.flow === 'periodic') return 1 / (SIM_SECONDS / 3600);
    if (r.flow === 'switch') return ASSUMPTIONS.switchesPerAgentMonth / HOURS_PER_MONTH;
    if (r.flow === 'interruption') return ASSUMPTIONS.interruptionsPerAgentMonth / HOURS_PER_MONTH;
    if (r.flow === 'job') {
      const runs = records.filter((x) => x.label === r.label).length;
      return (input.jobRunsPerMonth.get(r.label) ?? 0) / HOURS_PER_MONTH / runs;
    }
    return 0;
  };
  interface Part {
    target: string;
    partition: string;
    shards: number;
    unitsPerHour: number;
    agents: Set<string>;
    clients: Set<string>;
    flows: Set<Flow>;
  }
  const parts = new Map<string, Part>();
  for (const r of records) {
    const w = steadyWeight(r);
    if (w === 0) continue;
    for (const pw of r.writes) {
      // A write-sharded key (keys.ts SHARDS) is measured as its logical partition, spread over the shards.
      const logical = foldShard(pw.partition, input.sharding.suffix, input.sharding.shards);
      const key = `${pw.target}|${logical.partition}`;
      let p = parts.get(key);
      if (!p) {
        p = { target: pw.target, ...logical, unitsPerHour: 0, agents: new Set(), clients: new Set(), flows: new Set() };
        for (const owner of idOwners) {
          if (!pw.partition.includes(owner.id)) continue;
          if (owner.agent) p.agents.add(owner.agent);
          if (owner.client) p.clients.add(owner.client);
        }
        parts.set(key, p);
      }
      p.unitsPerHour += pw.units * w;
      p.flows.add(r.flow);
      if (r.agentId) p.agents.add(r.agentId);
    }
  }
  const loads: (PartitionLoad & { flows: string })[] = [...parts.values()].map((p) => ({
    target: p.target,
    partition: p.partition,
    cls: classifyPartition(p.agents, p.clients, clientOfAgent, A),
    unitsPerSecond: p.unitsPerHour / 3600,
    writers: Math.max(1, p.agents.size),
    shards: p.shards,
    flows: [...p.flows].join('+'),
  }));
  const fleets = (agentsPerClient: (n: number) => number): Fleet[] =>
    ASSUMPTIONS.fleets.map((n) => ({ agents: n, agentsPerClient: agentsPerClient(n) }));
  const worst = fleets((n) => n);
  const many = fleets((n) => Math.min(n, ASSUMPTIONS.manyClientsAgentsPerClient));
  const pattern = (p: string) => keyPattern(p, input.names);
  /** The fleet size at which some partition reaches the per-partition limit (rates grow linearly). */
  const wallAt = (ls: PartitionLoad[], shape: Fleet): string => {
    const perAgent = Math.max(0, ...ls.map((l) => rateAt(l, shape) / shape.agents));
    const fixed = Math.max(0, ...ls.map((l) => rateAt(l, { agents: 1, agentsPerClient: 1 })));
    if (fixed >= ASSUMPTIONS.partitionWriteLimit) return 'now';
    return perAgent > 0 ? `${round(ASSUMPTIONS.partitionWriteLimit / perAgent, -2).toLocaleString('en-US')}` : 'never';
  };
  const hottest = targets.flatMap((t) =>
    (
      [
        ['one client (worst case)', worst],
        [`clients of ${ASSUMPTIONS.manyClientsAgentsPerClient} agents`, many],
      ] as const
    ).map(([scenario, fs]) => {
      const cells = fs.map((f) => hottestByTarget(loads.filter((l) => l.target === t), f).get(t));
      const top = cells.at(-1);
      return {
        'target': t,
        'fleet': scenario,
        ...Object.fromEntries(fs.map((f, i) => [`${f.agents / 1000}k agents WCU/s`, round(cells[i]?.rate ?? 0, 1)])),
        'hottest key at 100k': top ? `${pattern(top.load.partition)} (${top.load.cls})` : '-',
        [`agents at ${ASSUMPTIONS.partitionWriteLimit} WCU/s`]: wallAt(loads.filter((l) => l.target === t), fs.at(-1) as Fleet),
      };
    }),
  );
  const fleet100k = worst.at(-1) as Fleet;
  const topPartitions = targets.flatMap((t) => {
    // One row per key shape (the hottest key of that shape), hottest first.
    const byPattern = new Map<string, { l: (typeof loads)[number]; rate: number; keys: number }>();
    for (const l of loads.filter((x) => x.target === t)) {
      const rate = rateAt(l, fleet100k);
      const p = byPattern.get(pattern(l.partition));
      if (!p || rate > p.rate) byPattern.set(pattern(l.partition), { l, rate, keys: (p?.keys ?? 0) + 1 });
      else p.keys++;
    }
    return [...byPattern.values()]
      .sort((a, b) => b.rate - a.rate)
      .slice(0, 5)
      .map(({ l, rate, keys }) => ({
        'target': t,
        'partition key': pattern(l.partition),
        'keys': keys,
        'class': l.cls,
        'written by': l.flows,
        'WCU/s per writer': round(l.unitsPerSecond / l.writers, 4),
        'WCU/s at 100k (one client)': round(rate, 1),
        [`over ${ASSUMPTIONS.partitionWriteTarget}`]: rate > ASSUMPTIONS.partitionWriteTarget ? 'YES' : '',
      }));
  });
  const classCounts = Object.fromEntries(
    (['per-agent', 'per-client', 'shared-subset', 'installation-wide', 'jobs-only'] as PartitionClass[]).map((c) => [
      c,
      [...new Set(loads.filter((l) => l.cls === c).map((l) => `${l.target}:${pattern(l.partition)}`))].length,
    ]),
  );

  // ---- cross-check: modelled write units against DynamoDB Local's ConsumedCapacity ------------
  let modelPlain = 0;
  let localPlain = 0;
  let modelTx = 0;
  let localTx = 0;
  const mismatches: Json[] = [];
  for (const r of records) {
    const plainModel = sum(r.writes.map((w) => w.units)) - r.transactionalWriteUnits;
    const localOf = (tx: boolean) => sum(r.dbCalls.filter((c) => c.kind === 'write' && c.ok && (c.command === 'TransactWriteItems') === tx).flatMap((c) => Object.values(c.consumed)));
    const failedModel = r.failedWrites > 0;
    if (!failedModel) {
      modelPlain += plainModel;
      localPlain += localOf(false);
      if (plainModel !== localOf(false) && mismatches.length < 5) {
        mismatches.push({ route: r.label, model: plainModel, local: localOf(false) });
      }
    }
    modelTx += r.transactionalWriteUnits;
    localTx += localOf(true);
  }
  const crossCheck = {
    'standard writes: model vs Local (units)': `${round(modelPlain, 0)} vs ${round(localPlain, 0)}${modelPlain === localPlain ? ' (equal)' : ''}`,
    'transactional writes: model vs Local (units)': `${round(modelTx, 0)} vs ${round(localTx, 0)} (Local/model = ${round(localTx / Math.max(1, modelTx), 2)}: DynamoDB Local's transactional figures do not follow the documented rules — it charges indexes for items the stream shows outside them — so the model's 2× is used)`,
    'requests with a failed conditional write (excluded above: Local reports no capacity for them)': records.filter((r) => r.failedWrites > 0).length,
    'no-op writes (no stream record; table units only)': sum(records.map((r) => r.unchangedWrites)),
    'stream changes matched to no write (should be 0)': input.unmatchedChanges,
    ...(mismatches.length ? { 'first standard-write mismatches': mismatches } : {}),
  };

  const flowRows = (flow: Flow, per: number) => byFlow(flow).map((g) => row(g, per));
  return {
    assumptions: {
      'simulated': `${A} agents of ${new Set(agents.map((a) => a.clientId)).size} clients on ${INSTANCE_TYPES.join(', ')} (${AZS.length} AZs), one agent-hour each in virtual time, v4 cadence ±${JITTER * 100} % jitter`,
      'events': `per agent: 1 manual switch and 1 interruption in the hour; per agent-month assumed ${ASSUMPTIONS.switchesPerAgentMonth} switches and ${ASSUMPTIONS.interruptionsPerAgentMonth} interruption`,
      'write units': 'modelled from each item\'s stream images with the documented rules (transactional ×2, GSI key change = delete + put); reads as DynamoDB Local reports them',
      'lambda time': 'measured in-process on this machine against DynamoDB Local (real Lambda + DynamoDB latencies differ); billed per invocation rounded up to 1 ms; cold starts (init) not included',
      'partitions': 'a partition key written by one agent is per-agent, by several agents of one client per-client, by agents of several clients shared; shared keys scale with every agent (worst case: the whole fleet on one pool), per-client keys with the largest client',
      'prices': `AWS list prices, us-east-1, first tier, no free tier (see prices); recalled, not fetched (no web access here), as published and known on ${PRICES_KNOWN_ON}`,
    },
    prices: Object.entries(PRICES).map(([name, p]) => ({ 'constant': name, 'price': p.note ?? `${p.usd}/${p.unit}`, 'source': p.source, 'effective since': p.publishedOn })),
    per_agent_month: perAgentMonth,
    cost_by_flow: byFlowCost,
    heartbeat: heartbeat,
    periodic_routes_per_agent_month: flowRows('periodic', monthlyWeight('periodic', A)),
    switch_per_occurrence: flowRows('switch', 0).map((r) => ({ ...r, calls: round(Number(r.calls) / A, 2) })),
    interruption_per_occurrence: flowRows('interruption', 0).map((r) => ({ ...r, calls: round(Number(r.calls) / A, 2) })),
    jobs_per_installation_month: jobs.map(({ g, perMonth, cost }) => ({ ...row(g, 0), 'runs/month': round(perMonth * g.n, 0), '$/month': round(cost.total, 2) })),
    setup_one_off: flowRows('setup', 0),
    hottest_partition_write_rate: hottest,
    top_partitions_at_100k: topPartitions,
    partition_classes: classCounts,
    cross_check: crossCheck,
  };
}
