/**
 * Runs the active decision engine for an agent: the active upload's parameters (or the defaults),
 * and the engine's input built from stored data (POOL items, the PRIMARY's prices, the agent's
 * config limits and recent switches), optionally overridden by what the caller sent. Used by
 * decide, switch-recommendation and the auto-switch runner; the engine itself
 * (shared/domain/decision-engine.ts) stays pure.
 */
import { commandsRepo } from '../db/commands-repo.js';
import { instancesRepo } from '../db/instances-repo.js';
import type { PoolItem } from '../db/prices-repo.js';
import { switchesRepo } from '../db/switches-repo.js';
import { uploadsRepo } from '../db/uploads-repo.js';
import { positiveOrNull } from '../domain/numbers.js';
import { FINAL_COMMAND_STATUSES } from '../domain/commands.js';
import {
  createDefaultEngine,
  type Decision,
  defaultEngineParameters,
  type DecisionEngine,
  type DecisionInput,
  type DecisionTrigger,
  type EngineParameters,
  engineParametersSchema,
  type PoolCandidate,
} from '../domain/decision-engine.js';
import { parsePoolId, poolIdOf } from '../domain/ids.js';
import type { Agent, Instance, Mode } from '../domain/types.js';
import { logger } from '../observability.js';
import { poolsOfType } from '../placement.js';

/** A POOL item (the pricing pipeline's contract; statistics may be absent before the pool-risk job ran). */
export type { PoolItem };

export interface Overrides {
  instance?: {
    instance_id: string;
    instance_type: string;
    region: string;
    az: string;
    mode: Mode;
    pool_id: string | null;
  };
  pricing?: {
    on_demand_price: number | null;
    current_spot_price: number | null;
    spot_pools: { pool_id: string; az: string; price: number }[];
  };
}

export interface Evaluation {
  input: DecisionInput;
  decision: Decision;
  active: ActiveEngine;
  pools: PoolItem[];
  primary: Instance | null;
  region: string | null;
  instanceType: string | null;
}

/** Per-invocation memo of POOL queries (the auto-switch runner visits many agents of one type). */
export type PoolCache = Map<string, Promise<PoolItem[]>>;

function poolsFor(region: string, instanceType: string, cache?: PoolCache): Promise<PoolItem[]> {
  const key = `${region}#${instanceType}`;
  const hit = cache?.get(key);
  if (hit) return hit;
  const value = poolsOfType(region, instanceType) as Promise<PoolItem[]>;
  cache?.set(key, value);
  return value;
}

/** Whether the agent has a switch open (an unfinished command in its slot, or a command in flight). */
export async function switchOpen(agent: Agent): Promise<boolean> {
  if (agent.inflight_command_id) return true;
  if (!agent.open_switch_id) return false;
  const cmd = await commandsRepo.get(agent.id, agent.open_switch_id);
  return cmd !== undefined && !FINAL_COMMAND_STATUSES.has(cmd.status);
}

function candidateOf(p: PoolItem): PoolCandidate | null {
  const price = positiveOrNull(p.price);
  if (price === null) return null;
  return {
    pool_id: p.pool_id,
    az: p.az,
    instance_type: p.instance_type,
    price,
    priced_at: p.priced_at ?? null,
    stats: {
      risk_score: p.risk_score ?? null,
      volatility: p.volatility ?? null,
      interruptions_30d: p.interruptions_30d ?? null,
      avg_price_24h: p.avg_price_24h ?? null,
      history_hours: p.history_hours ?? null,
    },
  };
}

/** Runs the active engine for an agent. */
export async function evaluateAgent(
  agent: Agent,
  now: Date,
  options: { trigger?: DecisionTrigger; overrides?: Overrides; poolCache?: PoolCache } = {},
): Promise<Evaluation> {
  const o = options.overrides ?? {};
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000).toISOString();
  // Independent reads, issued together (decide and switch-recommendation are request paths).
  const [active, storedPrimary, recent, open] = await Promise.all([
    activeEngine(now.getTime()),
    agent.primary_instance_id ? instancesRepo.get(agent.primary_instance_id) : undefined,
    switchesRepo.listByAgent(agent.id, weekAgo),
    switchOpen(agent),
  ]);
  const primary = storedPrimary ?? null;
  const instanceType = o.instance?.instance_type ?? primary?.instance_type ?? agent.instance_type;
  const region = o.instance?.region ?? primary?.region ?? agent.region;
  const az = o.instance?.az ?? primary?.az ?? agent.az;
  const mode: Mode = o.instance?.mode ?? primary?.mode ?? agent.current_mode ?? 'ondemand';
  const poolId =
    mode === 'spot'
      ? (o.instance?.pool_id ?? primary?.pool_id ?? agent.current_pool_id ?? (instanceType && az ? poolIdOf(instanceType, az) : null))
      : null;

  const pools = region && instanceType ? await poolsFor(region, instanceType, options.poolCache) : [];
  const byId = new Map(pools.map((p) => [p.pool_id, p]));
  const candidates: PoolCandidate[] = [];
  for (const p of pools) {
    const c = candidateOf(p);
    if (c) candidates.push(c);
  }
  // Pools the caller reported are fresh now; they keep the stored statistics of the same pool.
  for (const sp of o.pricing?.spot_pools ?? []) {
    const parsed = parsePoolId(sp.pool_id);
    const stored = byId.get(sp.pool_id);
    candidates.push({
      pool_id: sp.pool_id,
      az: sp.az,
      instance_type: parsed.instanceType,
      price: sp.price,
      priced_at: now.toISOString(),
      stats: stored ? (candidateOf({ ...stored, price: sp.price })?.stats ?? null) : null,
    });
  }

  const onDemand =
    positiveOrNull(o.pricing?.on_demand_price) ??
    positiveOrNull(primary?.ondemand_price) ??
    positiveOrNull(primary?.baseline_ondemand_price) ??
    pools.map((p) => positiveOrNull(p.on_demand_price)).find((x) => x !== null) ??
    0;
  const currentPrice =
    mode === 'spot' ? (positiveOrNull(o.pricing?.current_spot_price) ?? positiveOrNull(primary?.spot_price) ?? null) : null;

  const input: DecisionInput = {
    agent: {
      enabled: agent.config.enabled && agent.status !== 'disabled',
      auto_switch_enabled: agent.config.auto_switch_enabled,
      switch_open: open,
    },
    current: {
      mode,
      pool_id: poolId,
      instance_type: instanceType ?? '',
      since: agent.pool_since ?? primary?.created_at ?? agent.created_at,
      price: currentPrice,
    },
    candidates,
    on_demand_price: onDemand,
    limits: {
      min_savings_percent: agent.config.min_savings_percent,
      risk_threshold: agent.config.risk_threshold,
      max_switches_per_day: agent.config.max_switches_per_day,
      max_switches_per_week: agent.config.max_switches_per_week,
      min_pool_duration_hours: agent.config.min_pool_duration_hours,
    },
    recent_switches: recent.map((s) => s.initiated_at),
    now: now.getTime(),
    trigger: options.trigger ?? 'model',
    confidence_threshold: active.confidence_threshold,
  };
  const decision = active.engine.decide(input);
  return { input, decision, active, pools, primary, region: region ?? null, instanceType: instanceType ?? null };
}

// ---- the active engine, loaded once per invocation with a short in-memory cache ----

export interface ActiveEngine {
  engine: DecisionEngine;
  parameters: EngineParameters;
  upload_id: string | null;
  confidence_threshold: number | null;
}

/** A warm Lambda re-reads the pointer at most this often; activation in this process clears it at once. */
const ENGINE_CACHE_MS = 30_000;
let cached: { expiresAt: number; value: Promise<ActiveEngine> } | undefined;

export function invalidateEngineCache(): void {
  cached = undefined;
}

let defaultActive: ActiveEngine | undefined;
/** The built-in engine, built on first use (not at cold start). */
const defaultEngine = (): ActiveEngine =>
  (defaultActive ??= { engine: createDefaultEngine(), parameters: defaultEngineParameters(), upload_id: null, confidence_threshold: null });

async function loadActive(): Promise<ActiveEngine> {
  const pointer = await uploadsRepo.pointer(false);
  if (!pointer?.active_upload_id) return defaultEngine();
  const upload = await uploadsRepo.get(pointer.active_upload_id);
  if (!upload) return defaultEngine();
  const parsed = engineParametersSchema.safeParse(upload.parameters);
  if (!parsed.success) {
    // Activation checked it; a schema change since then must not break decisions: use the defaults.
    logger.error('active upload no longer parses; using default parameters', { uploadId: upload.upload_id });
    return defaultEngine();
  }
  return {
    engine: createDefaultEngine(parsed.data),
    parameters: parsed.data,
    upload_id: upload.upload_id,
    confidence_threshold: upload.confidence_threshold,
  };
}

/** The engine to decide with: the active upload's parameters, or the defaults. */
export function activeEngine(nowMs = Date.now()): Promise<ActiveEngine> {
  if (!cached || cached.expiresAt <= nowMs) {
    const value = loadActive().catch((err: unknown) => {
      cached = undefined;
      throw err;
    });
    cached = { expiresAt: nowMs + ENGINE_CACHE_MS, value };
  }
  return cached.value;
}
