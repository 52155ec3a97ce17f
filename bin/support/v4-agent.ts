/**
 * A simulated v4.0.0 agent, pure (no I/O, no clock: callers pass `now` in ms): its call mix at its
 * fixed cadence (API.md §3.4–§3.10), the wire payloads it sends, and what it does with the answers
 * (executes a delivered `switch` — switch-report with a new instance id, then executed —, launches
 * and confirms replicas, terminates listed zombies). The capacity bench drives it through the route
 * handlers in virtual time; the load test drives it over HTTP in real time.
 */

/** The deployed agent's defaults (seconds); it cannot be reconfigured from the server. */
export const V4_CADENCE_SECONDS = {
  heartbeat: 30,
  pendingCommands: 15,
  config: 60,
  pricingReport: 300,
  replicasLaunching: 30,
  replicasTerminated: 30,
  instancesToTerminate: 60,
  cleanupReport: 3600,
} as const;

export type PeriodicTask = keyof typeof V4_CADENCE_SECONDS;
export const PERIODIC_TASKS = Object.keys(V4_CADENCE_SECONDS) as PeriodicTask[];

/** Requests the agent makes besides its periodic ones. */
export type FollowUpTask =
  | 'register'
  | 'switchReport'
  | 'executed'
  | 'terminationReport'
  | 'attachReplica'
  | 'replicaReady'
  | 'confirmReplicaTerminated';

export type AgentTask = PeriodicTask | FollowUpTask;

/** The route template of each task (route-table keys; GET replicas twice, with two filters). */
export const TASK_ROUTE: Record<AgentTask, string> = {
  register: 'POST /api/agents/register',
  heartbeat: 'POST /api/agents/{aid}/heartbeat',
  pendingCommands: 'GET /api/agents/{aid}/pending-commands',
  config: 'GET /api/agents/{aid}/config',
  pricingReport: 'POST /api/agents/{aid}/pricing-report',
  replicasLaunching: 'GET /api/agents/{aid}/replicas',
  replicasTerminated: 'GET /api/agents/{aid}/replicas',
  instancesToTerminate: 'GET /api/agents/{aid}/instances-to-terminate',
  cleanupReport: 'POST /api/agents/{aid}/cleanup-report',
  switchReport: 'POST /api/agents/{aid}/switch-report',
  executed: 'POST /api/agents/{aid}/commands/{cmd}/executed',
  terminationReport: 'POST /api/agents/{aid}/termination-report',
  attachReplica: 'PUT /api/agents/{aid}/replicas/{rid}',
  replicaReady: 'POST /api/agents/{aid}/replicas/{rid}/status',
  confirmReplicaTerminated: 'POST /api/agents/{aid}/replicas/{rid}/status',
};

/** A label per call for reports: the route, plus the filter for the two replica polls. */
export const taskLabel = (task: AgentTask): string =>
  task === 'replicasLaunching'
    ? `${TASK_ROUTE[task]}?status=launching`
    : task === 'replicasTerminated'
      ? `${TASK_ROUTE[task]}?status=terminated`
      : TASK_ROUTE[task];

export interface AgentRequest {
  readonly task: AgentTask;
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  /** For a command's follow-ups: the command's trigger (`manual`, `emergency`…). */
  readonly trigger?: string;
}

export interface V4AgentOptions {
  logicalAgentId: string;
  instanceId: string;
  instanceType: string;
  region: string;
  az: string;
  /** The other AZs whose pools the agent prices (its own AZ is always included). */
  otherAzs: readonly string[];
  /** Random numbers in [0, 1) (seeded for reproducible runs). */
  random: () => number;
  /** ± fraction of each interval drawn at random (0.1 = ±10 %). */
  jitter: number;
  /** When the agent starts (it registers first). */
  startAt: number;
  /** How long a switch takes on the agent before its switch-report (ms). */
  switchDurationMs?: number;
  /** How long launching a replica takes (ms). */
  replicaLaunchMs?: number;
  /** New EC2 instance ids for switches and replicas. */
  newInstanceId: () => string;
  /** Spot price of the agent's own pool; the other pools are priced higher, so no model switch is advised. */
  spotPrice?: number;
  onDemandPrice?: number;
}

interface Scheduled {
  at: number;
  request: AgentRequest;
}

interface CommandInFlight {
  id: string;
  trigger: string;
  targetMode: 'spot' | 'ondemand';
  targetPoolId: string | null;
  deliveredAt: number;
  newInstanceId: string;
}

type Json = Record<string, unknown>;

const iso = (ms: number): string => new Date(ms).toISOString();
const azOfPool = (poolId: string): string => poolId.slice(poolId.lastIndexOf('.') + 1);

/**
 * One agent. `due(now)` hands out the requests that are due (at most one per task in flight);
 * `complete(request, status, body, now)` feeds the answer back. Periodic tasks are rescheduled
 * when they are handed out, so a slow server does not slow the agent's cadence down.
 */
export class V4Agent {
  agentId: string | undefined;
  instanceId: string;
  az: string;
  mode: 'spot' | 'ondemand' = 'spot';
  readonly instanceType: string;
  private readonly next = new Map<PeriodicTask, number>();
  private readonly followUps: Scheduled[] = [];
  private readonly inFlight = new Set<AgentTask>();
  private command: CommandInFlight | undefined;
  private readonly handledReplicas = new Set<string>();
  private readonly handledZombies = new Set<string>();
  /** Commands executed by this agent (ids), for reports. */
  readonly executed: string[] = [];

  constructor(private readonly o: V4AgentOptions) {
    this.instanceId = o.instanceId;
    this.az = o.az;
    this.instanceType = o.instanceType;
    this.followUps.push({ at: o.startAt, request: this.registerRequest() });
  }

  get poolId(): string {
    return `${this.instanceType}.${this.az}`;
  }

  get registered(): boolean {
    return this.agentId !== undefined;
  }

  /** When the next request is due (ms), ignoring tasks in flight; Infinity when nothing is. */
  nextDueAt(): number {
    let at = Number.POSITIVE_INFINITY;
    for (const f of this.followUps) if (!this.inFlight.has(f.request.task)) at = Math.min(at, f.at);
    if (this.registered) {
      for (const [task, t] of this.next) if (!this.inFlight.has(task)) at = Math.min(at, t);
    }
    return at;
  }

  /** The requests due at `now`, oldest first; each is in flight until `complete` is called. */
  due(now: number): AgentRequest[] {
    const out: { at: number; request: AgentRequest }[] = [];
    for (let i = 0; i < this.followUps.length; i++) {
      const f = this.followUps[i] as Scheduled;
      if (f.at <= now && !this.inFlight.has(f.request.task)) {
        out.push(f);
        this.inFlight.add(f.request.task);
        this.followUps.splice(i--, 1);
      }
    }
    if (this.registered) {
      for (const task of PERIODIC_TASKS) {
        const at = this.next.get(task) as number;
        if (at > now || this.inFlight.has(task)) continue;
        out.push({ at, request: this.periodicRequest(task, now) });
        this.inFlight.add(task);
        // Missed periods are skipped, as the agent's sleep loops do.
        let nextAt = at + this.interval(task);
        while (nextAt <= now) nextAt += this.interval(task);
        this.next.set(task, nextAt);
      }
    }
    return out.sort((a, b) => a.at - b.at).map((e) => e.request);
  }

  /** Feeds an answer back (status 0 = transport error). */
  complete(request: AgentRequest, status: number, body: unknown, now: number): void {
    this.inFlight.delete(request.task);
    const ok = status >= 200 && status < 300;
    const json = (typeof body === 'object' && body !== null ? body : {}) as Json;
    switch (request.task) {
      case 'register':
        if (ok && typeof json.agent_id === 'string') {
          this.agentId = json.agent_id;
          this.startCadence(now);
        } else {
          // The agent retries registration after a pause.
          this.followUps.push({ at: now + 30_000, request: this.registerRequest() });
        }
        return;
      case 'pendingCommands':
        if (ok && Array.isArray(body)) this.onCommands(body as Json[], now);
        return;
      case 'switchReport':
        // Executed is reported whatever the server said about the report (the switch happened).
        if (this.command) this.schedule(now, this.executedRequest(this.command, ok));
        return;
      case 'executed':
        if (this.command) this.finishSwitch(this.command);
        return;
      case 'replicasLaunching':
        if (ok) this.onLaunching((json.replicas ?? []) as Json[], now);
        return;
      case 'replicasTerminated':
        if (ok) this.onTerminated((json.replicas ?? []) as Json[], now);
        return;
      case 'attachReplica':
        if (ok) {
          const rid = request.path.split('/').at(-1) as string;
          this.schedule(now + (this.o.replicaLaunchMs ?? 60_000), this.replicaStatus('replicaReady', rid, { status: 'ready', sync_completed_at: iso(now) }));
        }
        return;
      case 'instancesToTerminate':
        if (ok) this.onZombies((json.instances ?? []) as Json[], now);
        return;
      default:
        return;
    }
  }

  // ---- requests ---------------------------------------------------------------------------------

  private interval(task: PeriodicTask): number {
    const base = V4_CADENCE_SECONDS[task] * 1000;
    return base * (1 + this.o.jitter * (2 * this.o.random() - 1));
  }

  private startCadence(now: number): void {
    // Threads start together, each at a random phase of its period (agents do not beat in lockstep).
    for (const task of PERIODIC_TASKS) this.next.set(task, now + this.o.random() * V4_CADENCE_SECONDS[task] * 1000);
  }

  private schedule(at: number, request: AgentRequest): void {
    this.followUps.push({ at, request });
  }

  private base(rest = ''): string {
    return `/api/agents/${this.agentId}${rest}`;
  }

  private registerRequest(): AgentRequest {
    return {
      task: 'register',
      method: 'POST',
      path: '/api/agents/register',
      body: {
        logical_agent_id: this.o.logicalAgentId,
        instance_id: this.instanceId,
        instance_type: this.instanceType,
        region: this.o.region,
        az: this.az,
        hostname: `ip-${this.o.logicalAgentId}`,
        ami_id: null,
        agent_version: '4.0.0',
        mode: this.mode,
        private_ip: '10.0.0.10',
        public_ip: null,
      },
    };
  }

  private periodicRequest(task: PeriodicTask, now: number): AgentRequest {
    switch (task) {
      case 'heartbeat':
        return {
          task,
          method: 'POST',
          path: this.base('/heartbeat'),
          body: {
            status: 'online',
            monitored_instances: [this.instanceId],
            instance_id: this.instanceId,
            instance_type: this.instanceType,
            mode: this.mode,
            az: this.az,
          },
        };
      case 'pendingCommands':
        return { task, method: 'GET', path: this.base('/pending-commands') };
      case 'config':
        return { task, method: 'GET', path: this.base('/config') };
      case 'replicasLaunching':
        return { task, method: 'GET', path: this.base('/replicas'), query: { status: 'launching' } };
      case 'replicasTerminated':
        return { task, method: 'GET', path: this.base('/replicas'), query: { status: 'terminated' } };
      case 'instancesToTerminate':
        return { task, method: 'GET', path: this.base('/instances-to-terminate') };
      case 'pricingReport':
        return { task, method: 'POST', path: this.base('/pricing-report'), body: this.pricingReport(now) };
      case 'cleanupReport':
        return {
          task,
          method: 'POST',
          path: this.base('/cleanup-report'),
          body: {
            timestamp: iso(now),
            snapshots: { type: 'snapshots', deleted: [], failed: [], cutoff_date: iso(now - 7 * 86_400_000) },
            amis: { type: 'amis', deleted_amis: [], deleted_snapshots: [], failed: [], cutoff_date: iso(now - 30 * 86_400_000) },
          },
        };
    }
  }

  private pricingReport(now: number): Json {
    const spot = this.o.spotPrice ?? 0.035;
    const onDemand = this.o.onDemandPrice ?? 0.096;
    const azs = [this.az, ...this.o.otherAzs.filter((az) => az !== this.az)];
    // The agent's own pool is the cheapest, so the engine has no reason to move it.
    const pools = azs.map((az, i) => ({
      pool_id: `${this.instanceType}.${az}`,
      instance_type: this.instanceType,
      az,
      price: Number((spot * (1 + 0.1 * i)).toFixed(4)),
    }));
    return {
      instance: {
        instance_id: this.instanceId,
        instance_type: this.instanceType,
        region: this.o.region,
        az: this.az,
        mode: this.mode,
        pool_id: this.mode === 'spot' ? this.poolId : null,
      },
      pricing: {
        on_demand_price: onDemand,
        current_spot_price: this.mode === 'spot' ? spot : null,
        cheapest_pool: { pool_id: pools[0]?.pool_id ?? null, price: pools[0]?.price ?? null },
        spot_pools: pools,
        collected_at: iso(now),
      },
    };
  }

  // ---- reactions --------------------------------------------------------------------------------

  private onCommands(commands: Json[], now: number): void {
    const first = commands[0];
    // The agent executes only the first item; while one runs it ignores the list.
    if (!first || this.command || first.command_type !== 'switch') return;
    this.command = {
      id: String(first.id),
      trigger: String(first.trigger_type ?? 'unknown'),
      targetMode: first.target_mode === 'ondemand' ? 'ondemand' : 'spot',
      targetPoolId: typeof first.target_pool_id === 'string' ? first.target_pool_id : null,
      deliveredAt: now,
      newInstanceId: this.o.newInstanceId(),
    };
    this.schedule(now + (this.o.switchDurationMs ?? 120_000), this.switchReportRequest(this.command, now));
  }

  private side(instanceId: string, az: string, mode: string, poolId: string | null): Json {
    return { instance_id: instanceId, instance_type: this.instanceType, region: this.o.region, az, ami_id: null, mode, pool_id: poolId };
  }

  private switchReportRequest(c: CommandInFlight, now: number): AgentRequest {
    const switchMs = this.o.switchDurationMs ?? 120_000;
    const newAz = c.targetPoolId ? azOfPool(c.targetPoolId) : this.az;
    const readyAt = now + switchMs - 10_000;
    return {
      task: 'switchReport',
      method: 'POST',
      path: this.base('/switch-report'),
      trigger: c.trigger,
      body: {
        old_instance: this.side(this.instanceId, this.az, this.mode, this.mode === 'spot' ? this.poolId : null),
        new_instance: this.side(c.newInstanceId, newAz, c.targetMode, c.targetMode === 'spot' ? c.targetPoolId : null),
        snapshot: { used: false },
        prices: { on_demand: this.o.onDemandPrice ?? 0.096, old_spot: this.o.spotPrice ?? 0.035, new_spot: c.targetMode === 'spot' ? (this.o.spotPrice ?? 0.035) : null },
        timing: {
          switch_initiated_at: iso(now),
          new_instance_launched_at: iso(now + switchMs / 2),
          new_instance_ready_at: iso(readyAt),
          traffic_switched_at: iso(readyAt + 5_000),
          old_instance_terminated_at: null,
        },
        trigger: c.trigger,
        command_id: c.id,
      },
    };
  }

  private executedRequest(c: CommandInFlight, reported: boolean): AgentRequest {
    return {
      task: 'executed',
      method: 'POST',
      path: this.base(`/commands/${c.id}/executed`),
      trigger: c.trigger,
      body: {
        success: true,
        message: reported ? `switched to ${c.targetMode}` : 'switched; switch-report failed',
        execution_result: { new_instance_id: c.newInstanceId },
      },
    };
  }

  /** After executed: the agent now runs on the new instance. */
  private finishSwitch(c: CommandInFlight): void {
    this.instanceId = c.newInstanceId;
    this.mode = c.targetMode;
    if (c.targetPoolId) this.az = azOfPool(c.targetPoolId);
    this.executed.push(c.id);
    this.command = undefined;
  }

  private replicaStatus(task: 'replicaReady' | 'confirmReplicaTerminated', rid: string, body: Json): AgentRequest {
    return { task, method: 'POST', path: this.base(`/replicas/${rid}/status`), body };
  }

  private onLaunching(replicas: Json[], now: number): void {
    for (const r of replicas) {
      const rid = String(r.id);
      if (this.handledReplicas.has(`launch:${rid}`)) continue;
      this.handledReplicas.add(`launch:${rid}`);
      this.schedule(now + (this.o.replicaLaunchMs ?? 60_000), {
        task: 'attachReplica',
        method: 'PUT',
        path: this.base(`/replicas/${rid}`),
        body: { instance_id: this.o.newInstanceId(), status: null, version: null },
      });
    }
  }

  private onTerminated(replicas: Json[], now: number): void {
    for (const r of replicas) {
      const rid = String(r.id);
      if (this.handledReplicas.has(`terminate:${rid}`)) continue;
      this.handledReplicas.add(`terminate:${rid}`);
      this.schedule(now + 5_000, this.replicaStatus('confirmReplicaTerminated', rid, { status: 'terminated', is_active: false, terminated_at: iso(now) }));
    }
  }

  private onZombies(instances: Json[], now: number): void {
    for (const i of instances) {
      const iid = String(i.instance_id);
      if (this.handledZombies.has(iid)) continue;
      this.handledZombies.add(iid);
      this.schedule(now + 5_000, {
        task: 'terminationReport',
        method: 'POST',
        path: this.base('/termination-report'),
        body: { instance_id: iid, success: true, error: null, terminated_at: iso(now + 5_000) },
      });
    }
  }
}
