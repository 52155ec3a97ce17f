/**
 * The failure matrix (README "Failure at any step"): a flow that makes several DynamoDB calls is run once cleanly
 * to record its calls, then once per (call i, fault mode) on a fresh table of its own: the fault is
 * injected (faults.ts), the real caller retries as it would — the v4 agent with the same body, a
 * redelivered EventBridge event, the job's next scheduled run, the admin with the same
 * Idempotency-Key — on a clock advanced past every lease, and the invariants are asserted:
 *
 * - exactly one effect: the world (read back through the repositories, ids left out) equals the
 *   clean run's, feed events and notifications included — nothing lost, nothing twice;
 * - one PRIMARY per live agent (none only in `error`);
 * - no orphan item: guards and work items name a live entity, counters agree with what they count;
 * - no lost command: the in-flight slot and the acknowledged command name each other;
 * - no feed event lost: every notification has its feed event, each client feed event its admin twin;
 * - no lease stuck beyond its expiry: idempotency records completed, event claims done, job leases free,
 *   incidents handled.
 *
 * A timeout or a crash after a read leaves the table exactly as the same fault after the previous
 * write (or a throttle of that read) does, so those modes run on writes only; throttles run on every call.
 */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { agentsRepo } from '../../functions/shared/db/agents-repo.js';
import { ddb, tableName } from '../../functions/shared/db/client.js';
import { clientsRepo } from '../../functions/shared/db/clients-repo.js';
import { commandsRepo } from '../../functions/shared/db/commands-repo.js';
import { createTable } from '../../functions/shared/db/create-table.js';
import { feedRepo } from '../../functions/shared/db/feed-repo.js';
import { incidentsRepo } from '../../functions/shared/db/incidents-repo.js';
import { instanceLogRepo } from '../../functions/shared/db/instance-log-repo.js';
import { instancesRepo } from '../../functions/shared/db/instances-repo.js';
import { notificationsRepo } from '../../functions/shared/db/notifications-repo.js';
import { replicasRepo } from '../../functions/shared/db/replicas-repo.js';
import { switchesRepo } from '../../functions/shared/db/switches-repo.js';
import { type Fault, FAULT_MODES, FaultInjector, type RecordedCall } from './faults.js';

type Item = Record<string, unknown>;

/** What the caller of one attempt saw. */
export interface Attempt {
  /** The caller considers the work done (a 2xx, an event handled, a job run that was not skipped). */
  done: boolean;
  /** HTTP status, when the unit is a request. */
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** An event or job whose invocation threw (the platform retries it). */
  error?: unknown;
}

export interface Flow<W> {
  name: string;
  /** Builds the world the flow acts on (not counted, never faulted). */
  setup(): Promise<W>;
  /** One attempt exactly as the real caller makes it: the unit of work that is faulted. */
  attempt(world: W, n: number): Promise<Attempt>;
  /** How long the real caller waits before trying again (the clock advances by this much). */
  retryAfterMs: number;
  /** Attempts after the faulted one before the case fails as "never done" (default 6). */
  maxRetries?: number;
  /**
   * The attempt comes again whatever the last one answered (a job's next schedule): the clean run
   * gets one more attempt too, and a faulted one at least one, until an attempt is done.
   */
  recurring?: boolean;
  /** The clients whose world is compared and checked. */
  clients(world: W): string[];
  /** More of the effect to compare with the clean run's (what lies outside the clients' world: pools, series…). */
  observe?(world: W): Promise<unknown>;
  /** The flow's own "exactly one effect" checks, given every answer the caller received (and the case's fault). */
  check?(world: W, answers: Attempt[], fault?: Fault): Promise<void>;
}

export interface MatrixCase {
  label: string;
  fault: Fault;
  command: string;
}

export interface PreparedFlow<W> {
  flow: Flow<W>;
  calls: RecordedCall[];
  summary: unknown;
  cases: MatrixCase[];
}

export const faults = new FaultInjector();

// ---- clock -----------------------------------------------------------------------------------

/**
 * The clock of a case: Date is faked (it still advances with real time, so waits and timeouts keep
 * working) and jumps forward for each retry. Request time (API Gateway's `timeEpoch`), a job's
 * scheduled time and the EC2 events consumer's `now` all follow it.
 */
export const clock = {
  start(): void {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(new Date(Date.now()));
  },
  advance(ms: number): void {
    vi.setSystemTime(new Date(Date.now() + ms));
  },
  reset(): void {
    vi.setSystemTime(new Date(performance.timeOrigin + performance.now()));
  },
  /** A case that needs a known time of day (a job's schedule) starts there. */
  set(at: string | Date): void {
    vi.setSystemTime(new Date(at));
  },
  stop(): void {
    vi.useRealTimers();
  },
};

// ---- one table per case ----------------------------------------------------------------------

const admin = new DynamoDBClient({ endpoint: process.env.DYNAMODB_ENDPOINT });

/** Runs `fn` on a fresh table (repositories read TABLE_NAME on every call), dropped afterwards. */
export async function onFreshTable<T>(fn: () => Promise<T>): Promise<T> {
  const previous = process.env.TABLE_NAME;
  const name = `fault-${randomUUID()}`;
  await createTable(admin, name);
  process.env.TABLE_NAME = name;
  try {
    return await fn();
  } finally {
    process.env.TABLE_NAME = previous;
    await admin.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
  }
}

/** Every item of the case's table (a test may Scan; request paths never do). */
export async function scanAll(): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await ddb.send(new ScanCommand({ TableName: tableName(), ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...((out.Items ?? []) as Item[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

// ---- the world, read back without ids --------------------------------------------------------

const sorted = (values: unknown[]): string[] => values.map((v) => JSON.stringify(v)).sort();

/** A feed event without its ids and times: what a dashboard learns from it. */
function feedSignature(type: string, data: Item): unknown {
  switch (type) {
    case 'agent_status_changed':
      return [type, data.from, data.to];
    case 'command_status_changed':
      return [type, data.command_type, data.status];
    case 'instance_role_changed':
      return [type, data.role ?? data.to ?? sorted(((data.changes as Item[] | undefined) ?? []).map((c) => [c.from, c.to]))];
    case 'switch_completed':
      return [type, data.trigger_type];
    case 'emergency_event':
      return [type, data.signal_type, data.outcome, data.action_taken];
    case 'notification_created':
      return [type, data.type, data.severity];
    default:
      return [type];
  }
}

/** Everything a client's flows produce, read through the repositories, without ids or times. */
export async function worldOf(clientIds: string[]): Promise<unknown> {
  const clients = [];
  for (const clientId of clientIds) {
    const client = (await clientsRepo.get(clientId)) as (Item & { status: string }) | undefined;
    const agents = [];
    for (const agent of (await agentsRepo.listAllByClient(clientId)).sort((a, b) => a.created_at.localeCompare(b.created_at))) {
      const instances = await instancesRepo.listByAgent(agent.id);
      const logs = [];
      for (const instance of instances) {
        logs.push(...(await instanceLogRepo.list(instance.id, { limit: 200 })).events.map((e) => [instance.role, e.event_type]));
      }
      agents.push({
        status: agent.status,
        enabled: agent.enabled,
        notice: agent.notice_status,
        has_primary: agent.primary_instance_id !== null,
        inflight: Boolean(agent.inflight_command_id),
        config: {
          auto_switch: agent.config.auto_switch_enabled,
          manual_replica: agent.config.manual_replica_enabled,
          replicas: agent.config.replica_count,
        },
        instances: sorted(instances.map((i) => [i.role, i.mode, i.termination_confirmed])),
        logs: sorted(logs),
        commands: sorted((await commandsRepo.listByAgent(agent.id)).map((c) => [c.command_type, c.status, c.trigger_type, c.priority])),
        replicas: sorted((await replicasRepo.listByAgent(agent.id)).map((r) => [r.type, r.status, r.is_active, r.termination_confirmed])),
        incidents: sorted(
          (await incidentsRepo.listByAgent(agent.id)).map((i) => [i.signal_type, i.outcome, i.action_taken, [...i.sources].sort()]),
        ),
        switches: sorted((await switchesRepo.listByAgent(agent.id, '0000')).map((s) => [s.trigger_type, s.old_instance_outcome])),
      });
    }
    const notifications = (await notificationsRepo.list(clientId, 200)).items;
    const feed = (await feedRepo.read({ clientId, after: '0', before: '~', limit: 500, maxCalls: 10 })).items;
    clients.push({
      status: client?.status ?? null,
      agents_live: client?.agents_live ?? 0,
      // Money accrues by the millisecond: a case's setup takes a few more or less than the clean run's.
      total_savings: Number(Number(client?.total_savings ?? 0).toFixed(4)),
      agents,
      notifications: sorted(notifications.map((n) => [n.type, n.severity])),
      feed: sorted(feed.map((e) => feedSignature(e.type, (e.data ?? {}) as Item))),
    });
  }
  return clients;
}

// ---- invariants ------------------------------------------------------------------------------

const byEntity = (items: Item[], entity: string) => items.filter((i) => i.entity === entity);

/** Every lease of the system (idempotency lock 30 s, event claim 30 s, handling 30 s, job 300 s) ends within this. */
export const LONGEST_LEASE_MS = 300_000;

/**
 * The invariants every flow must leave behind, checked over the whole case table. Returns the
 * violations (empty when the world is sound), each naming what is wrong. Leases are judged at
 * `leasesAt`: by then every lease must have been released or have expired.
 */
export async function violations(leasesAt: Date = new Date(Date.now() + LONGEST_LEASE_MS + 1000)): Promise<string[]> {
  const now = leasesAt;
  const items = await scanAll();
  const out: string[] = [];
  const agents = byEntity(items, 'agent');
  const instances = byEntity(items, 'instance');
  const commands = byEntity(items, 'command');
  const incidents = byEntity(items, 'incident');
  const live = agents.filter((a) => a.status !== 'deleted');

  // One PRIMARY per live agent; none only in `error`.
  for (const agent of live) {
    const primaries = instances.filter((i) => i.agent_id === agent.id && i.role === 'PRIMARY').map((i) => i.id);
    if (agent.status === 'error') {
      if (primaries.length > 0 || agent.primary_instance_id) out.push(`agent ${agent.id} in error still has a PRIMARY (${primaries.join(',')})`);
    } else if (primaries.length !== 1 || primaries[0] !== agent.primary_instance_id) {
      out.push(`agent ${agent.id} (${String(agent.status)}) points at ${String(agent.primary_instance_id)} but its PRIMARYs are [${primaries.join(',')}]`);
    }
  }

  // Guards name a live entity; counters agree with what they count.
  for (const guard of byEntity(items, 'logical-agent')) {
    const agent = live.find((a) => a.id === guard.agent_id);
    if (!agent) out.push(`logical-id guard ${String(guard.PK)} names no live agent (${String(guard.agent_id)})`);
  }
  for (const agent of live) {
    if (!byEntity(items, 'logical-agent').some((g) => g.agent_id === agent.id)) out.push(`live agent ${agent.id} has no logical-id guard`);
  }
  for (const client of byEntity(items, 'client')) {
    const counted = live.filter((a) => a.client_id === client.id).length;
    if ((client.agents_live ?? 0) !== counted) out.push(`client ${String(client.id)} counts ${String(client.agents_live ?? 0)} live agents, has ${counted}`);
  }
  const clientsById = new Map(byEntity(items, 'client').map((c) => [c.id, c]));
  for (const token of byEntity(items, 'token')) {
    const client = clientsById.get(token.client_id);
    if (!client || client.status === 'deleted') out.push(`token ${String(token.PK)} of a missing or deleted client`);
  }
  for (const name of byEntity(items, 'client-name')) {
    if (!clientsById.has(name.client_id)) out.push(`client-name guard ${String(name.PK)} names no client`);
  }
  for (const guard of byEntity(items, 'signal-guard')) {
    if (!incidents.some((i) => i.id === guard.incident_id)) out.push(`signal guard ${String(guard.PK)} names no incident`);
  }
  for (const marker of byEntity(items, 'open-incident')) {
    if (!incidents.some((i) => i.id === marker.incident_id)) out.push(`open-incident marker of a missing incident ${String(marker.incident_id)}`);
  }
  const switches = byEntity(items, 'switch');
  for (const key of byEntity(items, 'switch-key')) {
    if (!switches.some((s) => s.id === key.switch_id)) out.push(`switch natural key ${String(key.SK)} names no switch`);
  }
  const counters = byEntity(items, 'switch-counters')[0];
  if ((counters?.total ?? 0) !== switches.length) out.push(`switch counter says ${String(counters?.total ?? 0)}, ${switches.length} switches exist`);

  // No lost command: the in-flight slot and the delivered command name each other.
  for (const agent of live) {
    const mine = commands.filter((c) => c.agent_id === agent.id);
    const delivered = mine.filter((c) => c.status === 'acknowledged' || c.status === 'executing');
    if (delivered.length > 1) out.push(`agent ${agent.id} has ${delivered.length} commands in flight`);
    if (agent.inflight_command_id && !delivered.some((c) => c.id === agent.inflight_command_id)) {
      out.push(`agent ${agent.id}'s in-flight slot names ${String(agent.inflight_command_id)}, which is not in flight`);
    }
    for (const c of delivered) {
      if (agent.inflight_command_id !== c.id) out.push(`command ${String(c.id)} is ${String(c.status)} but agent ${agent.id}'s slot does not hold it`);
    }
    const pending = new Set((await commandsRepo.listPending(String(agent.id), 100)).map((c) => c.id));
    for (const c of mine.filter((x) => x.status === 'pending')) if (!pending.has(c.id as string)) out.push(`pending command ${String(c.id)} is not deliverable`);
    if (agent.status === 'switching' && !agent.inflight_command_id) out.push(`agent ${agent.id} is switching with no command in flight`);
  }

  // No lease stuck: incidents handled, idempotency records completed, event claims done, job leases free.
  for (const incident of incidents) {
    if (!incident.handled_at) out.push(`incident ${String(incident.id)} (${String(incident.signal_type)}) was never handled`);
  }
  for (const record of byEntity(items, 'idempotency')) {
    // A record whose answer could not be stored stays IN_PROGRESS; its lock must have expired.
    if (record.status !== 'COMPLETED' && Number(record.lock_expires_at) > now.getTime()) {
      out.push(`idempotency record ${String(record.PK)} locked (${String(record.status)}) beyond its expiry`);
    }
  }
  for (const claim of byEntity(items, 'event-dedupe')) {
    if (claim.status !== 'done') out.push(`event claim ${String(claim.PK)} left ${String(claim.status)}`);
  }
  for (const lease of items.filter((i) => String(i.PK).startsWith('JOB#') && i.SK === 'LEASE')) {
    if (lease.holder && Number(lease.lease_until) > now.getTime()) out.push(`job lease ${String(lease.PK)} still held by ${String(lease.holder)}`);
  }

  for (const run of byEntity(items, 'consolidation-run')) {
    if (run.status === 'running') out.push(`consolidation run ${String(run.id)} left running`);
  }

  // No feed event lost: every client event has its admin-feed twin; every notification its event.
  const feed = byEntity(items, 'feed-event');
  const adminFeed = new Set(feed.filter((e) => e.PK === 'FEED#ALL').map((e) => e.SK));
  for (const e of feed.filter((x) => x.PK !== 'FEED#ALL')) if (!adminFeed.has(e.SK)) out.push(`feed event ${String(e.SK)} (${String(e.type)}) is missing from FEED#ALL`);
  for (const n of byEntity(items, 'notification')) {
    const announced = feed.some((e) => e.type === 'notification_created' && (e.data as Item | undefined)?.notification_id === n.id);
    if (!announced) out.push(`notification ${String(n.id)} (${String(n.type)}) has no notification_created event`);
  }
  return out;
}

// ---- the matrix ------------------------------------------------------------------------------

const effectOf = async <W>(flow: Flow<W>, world: W) => ({
  clients: await worldOf(flow.clients(world)),
  observed: (await flow.observe?.(world)) ?? null,
});

/** Runs the flow cleanly on a fresh table: its calls and its world are the reference of every case. */
export async function prepare<W>(flow: Flow<W>): Promise<PreparedFlow<W>> {
  clock.reset();
  return onFreshTable(async () => {
    const world = await flow.setup();
    const outcome = await faults.run(() => flow.attempt(world, 0));
    if (outcome.kind !== 'ok' || !outcome.value.done) {
      throw new Error(`${flow.name}: the clean run did not succeed: ${JSON.stringify(outcome.kind === 'ok' ? outcome.value : outcome.kind)}`);
    }
    if (flow.recurring) {
      clock.advance(flow.retryAfterMs);
      const next = await faults.run(() => flow.attempt(world, 1));
      if (next.kind !== 'ok' || !next.value.done) throw new Error(`${flow.name}: the clean run's next attempt did not succeed`);
    }
    const problems = await violations();
    if (problems.length > 0) throw new Error(`${flow.name}: the clean run breaks invariants:\n${problems.join('\n')}`);
    await flow.check?.(world, [outcome.value]);
    const summary = await effectOf(flow, world);
    const cases: MatrixCase[] = [];
    for (const call of outcome.calls) {
      for (const mode of FAULT_MODES) {
        if (mode !== 'throttle' && !call.write) continue;
        cases.push({ label: `${mode} at call ${call.index} (${call.command.replace(/Command$/, '')})`, fault: { at: call.index, mode }, command: call.command });
      }
    }
    return { flow, calls: outcome.calls, summary, cases };
  });
}

/** One case: inject, let the caller retry until done, then assert the invariants and the effect. */
export async function runCase<W>(prepared: PreparedFlow<W>, c: MatrixCase): Promise<void> {
  const { flow } = prepared;
  clock.reset();
  await onFreshTable(async () => {
    const world = await flow.setup();
    const first = await faults.run(() => flow.attempt(world, 0), c.fault);
    const answers: Attempt[] = [];
    let done = false;
    if (first.kind === 'ok') {
      answers.push(first.value);
      done = first.value.done;
      // A caller never sees a 500; an outage is a 503 that says when to retry.
      if (first.value.status !== undefined) {
        expect(first.value.status, `faulted attempt answered ${first.value.status}: ${JSON.stringify(first.value.body)}`).not.toBe(500);
        if (first.value.status === 503) expect(Number(first.value.headers?.['retry-after'])).toBeGreaterThan(0);
      }
    } else if (first.kind === 'error') {
      // Events and jobs throw so that the platform retries; requests never throw out of the handler.
      expect(first.error).not.toBeInstanceOf(TypeError);
    }
    if (flow.recurring) done = false;
    for (let n = 1; !done && n <= (flow.maxRetries ?? 6); n++) {
      clock.advance(flow.retryAfterMs);
      const retry = await faults.run(() => flow.attempt(world, n));
      if (retry.kind !== 'ok') throw new Error(`retry ${n} failed without a fault: ${String(retry.kind === 'error' ? retry.error : retry.kind)}`);
      answers.push(retry.value);
      if (retry.value.status !== undefined) expect(retry.value.status, JSON.stringify(retry.value.body)).toBeLessThan(500);
      done = retry.value.done;
    }
    expect(done, `the caller never got its answer: ${JSON.stringify(answers.map((a) => a.status ?? a.error ?? a.body))}`).toBe(true);
    expect(await violations()).toEqual([]);
    expect(await effectOf(flow, world)).toEqual(prepared.summary);
    // Last: a flow's own check may move the world on (e.g. run a job past an expiry).
    await flow.check?.(world, answers, c.fault);
  });
}

/**
 * Declares a file's matrix (call it with top-level await: the clean runs decide the cases): one
 * `describe` per flow, one test per (call, mode).
 */
export async function faultMatrix(flows: Flow<never>[]): Promise<void> {
  faults.install();
  clock.start();
  const prepared: PreparedFlow<never>[] = [];
  for (const flow of flows) prepared.push(await prepare(flow));
  afterAll(() => {
    clock.stop();
    faults.uninstall();
  });
  for (const p of prepared) {
    describe(p.flow.name, () => {
      it.for(p.cases)('$label', async (c) => runCase(p, c));
    });
  }
}
