/**
 * Instances & pricing (API.md §3.8): a client's instances and what the pricing pipeline knows about
 * their pools. Prices come from POOL items (latest price + the pool-risk job's statistics) and the
 * canonical hourly series (PRICEH); volatility from the consolidated 5-minute series (PRICE5M).
 * Every `{iid}` route answers only the instance's own client (another client's instance is 404).
 */
import { loadAgent } from '../shared/flows/agent-access.js';
import { agentsRepo } from '../shared/db/agents-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { type CanonicalPriceItem, type PoolItem, pricesRepo } from '../shared/db/prices-repo.js';
import { switchesRepo } from '../shared/db/switches-repo.js';
import { NotFoundError, UnprocessableError, ValidationError } from '../shared/domain/errors.js';
import { parsePoolId } from '../shared/domain/ids.js';
import { positiveOrNull, round } from '../shared/domain/numbers.js';
import { poolPrice } from '../shared/views/pool-price.js';
import { rankPools, scorePools } from '../shared/domain/pool-ranking.js';
import { clamp, p50, volatilityCategory } from '../shared/domain/risk.js';
import type { Agent, Caller, Instance } from '../shared/domain/types.js';
import { assertOwner } from '../shared/http/auth.js';
import { type InstanceEventSeverity, listInstanceEvents } from '../shared/instance-log.js';
import { poolWindowStats } from '../shared/pool-series.js';
import { instanceView, ROLES_BY_STATUS } from '../shared/views/instance.js';
import { MAX_PRICE_AGE_MS } from '../shared/domain/commands.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** API.md §4.6: a candidate's price is at most 2 h old. */
/** simulate-switch: downtime when neither the agent nor the client has switched recently (seconds). */
export const DEFAULT_SWITCH_DOWNTIME_SECONDS = 60;
/** simulate-switch: "recent switches" = the agent's last 30 days, else the client's last 50 (within 90 days). */
const RECENT_SWITCH_DAYS = 30;
const CLIENT_SWITCH_SAMPLE = 50;

/** The instance, if the caller may see it (another client's instance is reported as absent). */
export async function loadInstance(caller: Caller, instanceId: string): Promise<Instance> {
  const instance = await instancesRepo.get(instanceId);
  if (!instance) throw new NotFoundError('instance');
  assertOwner(caller, instance.client_id, 'instance');
  return instance;
}

/** Sorts pools cheapest first (unpriced last), then by pool id. */
const byPrice = (pools: PoolItem[]): PoolItem[] =>
  pools.sort(
    (a, b) =>
      (positiveOrNull(a.price) ?? Number.POSITIVE_INFINITY) - (positiveOrNull(b.price) ?? Number.POSITIVE_INFINITY) ||
      (a.pool_id < b.pool_id ? -1 : 1),
  );

/** Pools of the instance's type in its region, cheapest first (unpriced last). */
async function poolsOf(region: string, instanceType: string): Promise<PoolItem[]> {
  return byPrice(await pricesRepo.listPools({ region, instanceType }));
}

/** On-demand price: what the instance last reported, else what its type's pools carry. */
const onDemandOf = (instance: Instance, pools: readonly PoolItem[]): number | null =>
  positiveOrNull(instance.ondemand_price) ?? pools.map((p) => positiveOrNull(p.on_demand_price)).find((p) => p !== null) ?? null;

/** API.md §3.0 PoolPrice with when it was priced; pools without a known price are left out (price is a number). */
const pricedPools = (pools: readonly PoolItem[], onDemand: number | null) =>
  pools.filter((p) => positiveOrNull(p.price) !== null).map((p) => ({ ...poolPrice(p, onDemand), priced_at: p.priced_at ?? null }));

// ---- GET /api/client/{cid}/instances ----

export interface ListInstancesQuery {
  status: 'active' | 'primary' | 'replica' | 'zombie' | 'terminated' | 'all';
  mode?: 'spot' | 'ondemand';
  agent_id?: string;
  search?: string;
  limit: number;
  nextToken?: string;
}

/**
 * A client's instances, newest first; pages are refilled until `limit` matches or the list ends
 * (instances-repo listByClient). `search`: substring of the instance id, type, AZ, pool, hostname
 * or private IP (as typed, and lower-cased).
 */
export async function listClientInstances(clientId: string, query: ListInstancesQuery) {
  const page = await instancesRepo.listByClient(clientId, query.limit, query.nextToken, {
    ...(ROLES_BY_STATUS[query.status] ? { roles: ROLES_BY_STATUS[query.status] } : {}),
    ...(query.mode ? { mode: query.mode } : {}),
    ...(query.agent_id ? { agentId: query.agent_id } : {}),
    ...(query.search ? { search: query.search } : {}),
  });
  return { instances: page.items.map(instanceView), nextToken: page.nextToken };
}

// ---- GET /api/client/instances/{iid}/pricing ----

export async function getInstancePricing(caller: Caller, instanceId: string) {
  const instance = await loadInstance(caller, instanceId);
  const pools = await poolsOf(instance.region, instance.instance_type);
  const onDemand = onDemandOf(instance, pools);
  const current = instance.mode === 'spot' && instance.pool_id ? pools.find((p) => p.pool_id === instance.pool_id) : undefined;
  return {
    current_mode: instance.mode,
    current_pool:
      instance.mode === 'spot' && instance.pool_id
        ? {
            id: instance.pool_id,
            az: instance.az,
            price: positiveOrNull(current?.price) ?? positiveOrNull(instance.spot_price),
          }
        : null,
    on_demand: { price: onDemand },
    pools: pricedPools(pools, onDemand),
  };
}

// ---- GET /api/client/instances/{iid}/metrics ----

/**
 * Savings of an instance over its life: for each hour it ran, baseline on-demand minus what the hour
 * cost — the pool's canonical hourly average when known, else the instance's last reported price.
 */
async function lifetimeSavings(instance: Instance, baseline: number | null, paid: number | null, now: Date): Promise<number> {
  if (baseline === null) return 0;
  const start = Date.parse(instance.created_at);
  const end = instance.terminated_at ? Math.min(Date.parse(instance.terminated_at), now.getTime()) : now.getTime();
  if (!(end > start)) return 0;
  if (instance.mode !== 'spot' || !instance.pool_id) {
    return paid === null ? 0 : round(((baseline - paid) * (end - start)) / HOUR_MS, 4);
  }
  const hours = await pricesRepo.listCanonical(
    instance.pool_id,
    new Date(Math.floor(start / HOUR_MS) * HOUR_MS).toISOString(),
    new Date(end).toISOString(),
  );
  const byHour = new Map(hours.map((h) => [Date.parse(h.hour_start), h.avg_price]));
  let total = 0;
  for (let h = Math.floor(start / HOUR_MS) * HOUR_MS; h < end; h += HOUR_MS) {
    const covered = (Math.min(h + HOUR_MS, end) - Math.max(h, start)) / HOUR_MS;
    const price = byHour.get(h) ?? paid;
    if (price !== null && price !== undefined) total += (baseline - price) * covered;
  }
  return round(total, 4);
}

export async function getInstanceMetrics(caller: Caller, instanceId: string, now: Date) {
  const instance = await loadInstance(caller, instanceId);
  const pools = await poolsOf(instance.region, instance.instance_type);
  const onDemand = onDemandOf(instance, pools);
  const pool = instance.pool_id ? pools.find((p) => p.pool_id === instance.pool_id) : undefined;
  const spot = positiveOrNull(instance.spot_price) ?? (instance.mode === 'spot' ? positiveOrNull(pool?.price) : null);
  const baseline = positiveOrNull(instance.baseline_ondemand_price) ?? onDemand;
  const paid = instance.mode === 'spot' ? spot : onDemand;
  const switches = await switchesRepo.listByAgent(instance.agent_id, '');
  const lastSwitch = switches.reduce<string | null>((latest, s) => {
    const at = s.completed_at ?? s.initiated_at;
    return latest === null || at > latest ? at : latest;
  }, null);
  const end = instance.terminated_at ? Date.parse(instance.terminated_at) : now.getTime();
  return {
    role: instance.role,
    spot_price: spot,
    ondemand_price: onDemand,
    baseline_ondemand_price: baseline,
    uptime_hours: round(Math.max(0, end - Date.parse(instance.created_at)) / HOUR_MS, 2),
    hours_since_last_switch: lastSwitch ? round(Math.max(0, now.getTime() - Date.parse(lastSwitch)) / HOUR_MS, 2) : null,
    total_switches: switches.length,
    savings_rate_per_hour: baseline !== null && paid !== null ? round(baseline - paid) : null,
    total_savings: await lifetimeSavings(instance, baseline, paid, now),
  };
}

// ---- price history (canonical hourly series) ----

type Interval = 'hour' | 'day';

interface HistoryPoint {
  time: string;
  on_demand: number | null;
  prices: Record<string, number | null>;
}

/**
 * The canonical series of `pools` over the last `days`, one point per hour (or per UTC day: the
 * mean of the day's hourly averages), oldest first. Times where no pool has a price are skipped.
 */
async function priceHistory(
  pools: readonly PoolItem[],
  days: number,
  interval: Interval,
  now: Date,
  fallbackOnDemand: number | null,
): Promise<HistoryPoint[]> {
  const from = new Date(Math.floor((now.getTime() - days * DAY_MS) / HOUR_MS) * HOUR_MS).toISOString();
  const series = await Promise.all(pools.map((p) => pricesRepo.listCanonical(p.pool_id, from, now.toISOString())));
  const step = interval === 'day' ? DAY_MS : HOUR_MS;
  const slots = new Map<number, { sums: Map<string, [number, number]>; onDemand: number | null }>();
  series.forEach((hours: CanonicalPriceItem[], i) => {
    const poolId = (pools[i] as PoolItem).pool_id;
    for (const h of hours) {
      const t = Math.floor(Date.parse(h.hour_start) / step) * step;
      let slot = slots.get(t);
      if (!slot) {
        slot = { sums: new Map(), onDemand: null };
        slots.set(t, slot);
      }
      const [sum, n] = slot.sums.get(poolId) ?? [0, 0];
      slot.sums.set(poolId, [sum + h.avg_price, n + 1]);
      if (h.on_demand_price !== null && h.on_demand_price !== undefined) slot.onDemand = h.on_demand_price;
    }
  });
  return [...slots.keys()]
    .sort((a, b) => a - b)
    .map((t) => {
      const slot = slots.get(t) as { sums: Map<string, [number, number]>; onDemand: number | null };
      const prices: Record<string, number | null> = {};
      for (const p of pools) {
        const entry = slot.sums.get(p.pool_id);
        prices[p.pool_id] = entry ? round(entry[0] / entry[1], 8) : null;
      }
      return { time: new Date(t).toISOString(), on_demand: slot.onDemand ?? fallbackOnDemand, prices };
    });
}

/** Default interval: hourly up to 14 days, daily beyond (90 days of hours is 2,160 points per pool). */
const defaultInterval = (days: number): Interval => (days <= 14 ? 'hour' : 'day');

export async function getInstancePriceHistory(
  caller: Caller,
  instanceId: string,
  query: { days: number; interval?: Interval },
  now: Date,
) {
  const instance = await loadInstance(caller, instanceId);
  const pools = (await poolsOf(instance.region, instance.instance_type)).sort((a, b) => (a.pool_id < b.pool_id ? -1 : 1));
  const points = await priceHistory(pools, query.days, query.interval ?? defaultInterval(query.days), now, onDemandOf(instance, pools));
  return { pools: pools.map((p) => ({ pool_id: p.pool_id, az: p.az })), points, interval: query.interval ?? defaultInterval(query.days) };
}

// ---- GET /api/client/pricing-history ----

/** The agent a pricing-history request is about: the given one, else the client's most recently seen. */
async function agentForHistory(caller: Caller, agentId: string | undefined): Promise<Agent> {
  if (agentId) return loadAgent(caller, agentId);
  if (caller.kind !== 'client') {
    throw new ValidationError('agent_id is required with the admin token', [{ field: 'query.agent_id', issue: 'required' }]);
  }
  const agents = (await agentsRepo.listAllByClient(caller.clientId)).filter((a) => a.status !== 'deleted');
  const latest = agents.sort((a, b) => (b.last_heartbeat_at ?? '').localeCompare(a.last_heartbeat_at ?? ''))[0];
  if (!latest) throw new NotFoundError('agent');
  return latest;
}

export async function getPricingHistory(
  caller: Caller,
  query: { agent_id?: string; days: number; interval?: Interval },
  now: Date,
) {
  const agent = await agentForHistory(caller, query.agent_id);
  if (!agent.region || !agent.instance_type) {
    return { agent_id: agent.id, instance_type: agent.instance_type, region: agent.region, history: [] };
  }
  const pools = (await poolsOf(agent.region, agent.instance_type)).sort((a, b) => (a.pool_id < b.pool_id ? -1 : 1));
  const azOf = new Map(pools.map((p) => [p.pool_id, p.az]));
  const fallbackOnDemand = pools.map((p) => positiveOrNull(p.on_demand_price)).find((p) => p !== null) ?? null;
  const points = await priceHistory(pools, query.days, query.interval ?? defaultInterval(query.days), now, fallbackOnDemand);
  return {
    agent_id: agent.id,
    instance_type: agent.instance_type,
    region: agent.region,
    history: points.map((pt) => ({
      timestamp: pt.time,
      ondemand_price: pt.on_demand,
      spot_pools: Object.entries(pt.prices)
        .filter((e): e is [string, number] => e[1] !== null)
        .map(([pool_id, price]) => ({ pool_id, az: azOf.get(pool_id) ?? parsePoolId(pool_id).az, price })),
    })),
  };
}

// ---- GET /api/client/instances/{iid}/available-options ----

export async function getAvailableOptions(caller: Caller, instanceId: string) {
  const instance = await loadInstance(caller, instanceId);
  // One Query serves both lists: the region's pools include those of the instance's type.
  const regionPools = await pricesRepo.listPools({ region: instance.region });
  const pools = byPrice(regionPools.filter((p) => p.instance_type === instance.instance_type));
  const onDemand = onDemandOf(instance, pools);
  const current = instance.mode === 'spot' ? instance.pool_id : null;
  const otherTypes = [...new Set(regionPools.map((p) => p.instance_type))]
    .filter((t) => t !== instance.instance_type)
    .sort();
  return {
    current_type: instance.instance_type,
    current_az: instance.az,
    available_pools: pricedPools(
      pools.filter((p) => p.pool_id !== current),
      onDemand,
    ),
    available_types: otherTypes.map((t) => ({ instance_type: t, switchable: false as const })),
  };
}

// ---- GET /api/client/instances/{iid}/logs ----

export async function getInstanceLogs(
  caller: Caller,
  instanceId: string,
  query: { severity?: InstanceEventSeverity; limit: number; nextToken?: string },
) {
  const instance = await loadInstance(caller, instanceId);
  const page = await listInstanceEvents(instance.id, query);
  return {
    events: page.events.map((e) => ({
      id: e.id,
      timestamp: e.timestamp,
      event_type: e.event_type,
      severity: e.severity,
      message: e.message,
      metadata: e.metadata ?? null,
    })),
    nextToken: page.nextToken,
  };
}

// ---- GET /api/client/instances/{iid}/pool-volatility ----

interface VolatilityEntry {
  pool_id: string;
  avg_price: number | null;
  price_stddev: number | null;
  volatility_score: number | null;
  volatility_category: 'low' | 'medium' | 'high' | null;
  risk_score: number | null;
  history_hours: number;
  recommendation?: 'best';
}

async function volatilityOf(pool: PoolItem, windowHours: number, now: Date): Promise<VolatilityEntry> {
  const stats = await poolWindowStats(pool, windowHours, now.getTime());
  return {
    pool_id: pool.pool_id,
    avg_price: stats ? round(stats.mean, 8) : null,
    price_stddev: stats ? round(stats.stddev, 8) : null,
    volatility_score: stats ? round(stats.cv, 6) : null,
    volatility_category: stats ? volatilityCategory(stats.cv) : null,
    risk_score: pool.risk_score ?? null,
    history_hours: stats ? round(stats.covered_hours, 2) : 0,
  };
}

/**
 * Stability of the instance's pool and its alternatives over `window_hours`: time-weighted mean,
 * stddev and stddev/mean of the consolidated series. The best alternative (lowest volatility, then
 * lowest risk, then cheapest) carries `recommendation: "best"`.
 */
export async function getPoolVolatility(caller: Caller, instanceId: string, query: { window_hours: number }, now: Date) {
  const instance = await loadInstance(caller, instanceId);
  const pools = (await poolsOf(instance.region, instance.instance_type)).sort((a, b) => (a.pool_id < b.pool_id ? -1 : 1));
  const entries = await Promise.all(pools.map((p) => volatilityOf(p, query.window_hours, now)));
  const currentId = instance.mode === 'spot' ? instance.pool_id : null;
  const current = entries.find((e) => e.pool_id === currentId) ?? null;
  const alternatives = entries.filter((e) => e.pool_id !== currentId);
  const best = alternatives
    .filter((e) => e.volatility_score !== null)
    .sort(
      (a, b) =>
        (a.volatility_score as number) - (b.volatility_score as number) ||
        (a.risk_score ?? 1) - (b.risk_score ?? 1) ||
        (a.avg_price as number) - (b.avg_price as number),
    )[0];
  if (best) best.recommendation = 'best';
  return { current_pool: current, alternative_pools: alternatives, window_hours: query.window_hours };
}

// ---- POST /api/client/instances/{iid}/simulate-switch ----

/** Median downtime of recent switches: the agent's last 30 days, else the client's last 50 (90 days). */
async function recentDowntime(instance: Instance, now: Date): Promise<{ seconds: number; sample: number; scope: string }> {
  const since = new Date(now.getTime() - RECENT_SWITCH_DAYS * DAY_MS).toISOString();
  const downtimes = (list: { downtime_seconds: number | null }[]) =>
    list.map((s) => s.downtime_seconds).filter((d): d is number => typeof d === 'number' && Number.isFinite(d));
  const own = downtimes(await switchesRepo.listByAgent(instance.agent_id, since));
  if (own.length > 0) return { seconds: round(p50(own), 1), sample: own.length, scope: 'agent' };
  // A lower bound is required: the history index's range key cannot be compared with an empty string.
  const clientSince = new Date(now.getTime() - 3 * RECENT_SWITCH_DAYS * DAY_MS).toISOString();
  const page = await switchesRepo.pageByClient(instance.client_id, { from: clientSince }, CLIENT_SWITCH_SAMPLE);
  const client = downtimes(page.items);
  if (client.length > 0) return { seconds: round(p50(client), 1), sample: client.length, scope: 'client' };
  return { seconds: DEFAULT_SWITCH_DOWNTIME_SECONDS, sample: 0, scope: 'default' };
}

export async function simulateSwitch(
  caller: Caller,
  instanceId: string,
  body: { target_type: 'spot' | 'ondemand'; target_pool?: string },
  now: Date,
) {
  const instance = await loadInstance(caller, instanceId);
  if (body.target_pool && parsePoolId(body.target_pool).instanceType !== instance.instance_type) {
    throw new UnprocessableError('POOL_MISMATCH', `pool ${body.target_pool} is not of type ${instance.instance_type}`, [
      { field: 'body.target_pool', issue: 'instance_type_mismatch' },
    ]);
  }
  const agent = await agentsRepo.get(instance.agent_id);
  const minSavings = agent?.config.min_savings_percent ?? 15;
  const riskThreshold = agent?.config.risk_threshold ?? 0.3;
  const pools = await poolsOf(instance.region, instance.instance_type);
  const onDemand = onDemandOf(instance, pools);
  const currentPool = instance.mode === 'spot' && instance.pool_id ? pools.find((p) => p.pool_id === instance.pool_id) : undefined;
  const currentPrice =
    instance.mode === 'spot' ? (positiveOrNull(currentPool?.price) ?? positiveOrNull(instance.spot_price)) : onDemand;
  const reasons: string[] = [];
  const fresh = (p: PoolItem) => !!p.priced_at && now.getTime() - Date.parse(p.priced_at) <= MAX_PRICE_AGE_MS;

  let target: PoolItem | undefined;
  let targetPrice: number | null;
  let targetRisk = 0;
  if (body.target_type === 'ondemand') {
    targetPrice = onDemand;
    if (instance.mode === 'ondemand') reasons.push('the instance already runs on-demand');
  } else {
    if (body.target_pool) {
      target = pools.find((p) => p.pool_id === body.target_pool);
      if (!target) reasons.push(`no price is known for pool ${body.target_pool}`);
    } else {
      const others = pools.filter((p) => p.pool_id !== instance.pool_id && positiveOrNull(p.price) !== null);
      // The cheapest fresh pool within the risk threshold (shared ranking), else the cheapest other pool.
      const safe = rankPools(scorePools(others, { now: now.getTime(), undatedIsStale: true }), {
        order: 'best-value',
        maxRisk: riskThreshold,
        maxPriceAgeSeconds: MAX_PRICE_AGE_MS / 1000,
      })[0];
      target = safe?.pool ?? others[0];
      if (!target) reasons.push('no other priced pool of this instance type');
    }
    if (target && instance.mode === 'spot' && target.pool_id === instance.pool_id) {
      reasons.push('the instance already runs in this pool');
    }
    targetPrice = target ? positiveOrNull(target.price) : null;
    targetRisk = target?.risk_score ?? 0;
    if (target && !fresh(target)) reasons.push(`the price of ${target.pool_id} is more than 2 h old`);
    if (target && targetRisk > riskThreshold) {
      reasons.push(`pool risk ${round(targetRisk, 2)} is above the agent's risk threshold ${riskThreshold}`);
    }
  }
  const hourly = currentPrice !== null && targetPrice !== null ? round(currentPrice - targetPrice) : null;
  const savingsPercent = hourly !== null && currentPrice ? (hourly / currentPrice) * 100 : null;
  const downtime = await recentDowntime(instance, now);
  if (downtime.scope === 'default') {
    reasons.push(`no recent switches: downtime estimate is the default ${DEFAULT_SWITCH_DOWNTIME_SECONDS} s`);
  }
  if (instance.role !== 'PRIMARY') reasons.push(`the instance is a ${instance.role}, only the PRIMARY switches`);

  // §4.6 safety: leaving a risky or expensive spot pool for on-demand is worth it even at a cost.
  const currentRisk = currentPool?.risk_score ?? 0;
  const spotTooExpensive = instance.mode === 'spot' && currentPrice !== null && onDemand !== null && currentPrice > 0.8 * onDemand;
  const safetyMove = body.target_type === 'ondemand' && instance.mode === 'spot' && (currentRisk > riskThreshold || spotTooExpensive);
  const requiredPercent = instance.mode === 'ondemand' && body.target_type === 'spot' ? Math.max(minSavings, 30) : minSavings;

  let recommendation: 'proceed' | 'caution' | 'not_recommended';
  const blocked =
    instance.role !== 'PRIMARY' ||
    targetPrice === null ||
    currentPrice === null ||
    (body.target_type === 'ondemand' && instance.mode === 'ondemand') ||
    (target !== undefined && instance.mode === 'spot' && target.pool_id === instance.pool_id);
  if (blocked) {
    recommendation = 'not_recommended';
  } else if (safetyMove) {
    recommendation = 'proceed';
    reasons.push(
      spotTooExpensive ? 'the spot price exceeds 80% of on-demand' : `the current pool's risk ${round(currentRisk, 2)} is above the threshold`,
    );
  } else if (hourly === null || hourly <= 0) {
    recommendation = 'not_recommended';
    reasons.push('the target costs as much or more per hour');
  } else if (targetRisk > riskThreshold) {
    recommendation = 'not_recommended';
  } else if ((savingsPercent ?? 0) >= requiredPercent && (!target || fresh(target))) {
    recommendation = 'proceed';
    reasons.push(`saves ${round(savingsPercent ?? 0, 1)}% (at least ${requiredPercent}% required)`);
  } else {
    recommendation = 'caution';
    if ((savingsPercent ?? 0) < requiredPercent) {
      reasons.push(`saves ${round(savingsPercent ?? 0, 1)}%, below the ${requiredPercent}% required`);
    }
  }
  // Confidence: lowered by stale prices, pool risk, thin price history and an assumed downtime.
  let confidence = 1;
  if (target && !fresh(target)) confidence *= 0.6;
  confidence *= 1 - 0.5 * clamp(targetRisk, 0, 1);
  if (target) confidence *= 0.5 + 0.5 * clamp((target.history_hours ?? 0) / 24, 0, 1);
  if (downtime.scope === 'default') confidence *= 0.9;
  if (targetPrice === null || currentPrice === null) confidence = 0;

  return {
    current_price: currentPrice,
    target_pool_id: body.target_type === 'spot' ? (target?.pool_id ?? body.target_pool ?? null) : null,
    target_price: targetPrice,
    hourly_savings: hourly,
    daily_savings: hourly !== null ? round(hourly * 24) : null,
    monthly_savings: hourly !== null ? round(hourly * 730) : null,
    estimated_downtime_seconds: downtime.seconds,
    confidence: round(clamp(confidence, 0, 1), 2),
    recommendation,
    reasons,
    downtime_sample: downtime.sample,
  };
}
