/**
 * Savings ledger: where accrual happens and with which prices (API.md §6; README "Pricing, decisions and savings").
 *
 * Every live agent accrues, for the time its PRIMARY runs, (baseline on-demand − price paid) × hours,
 * split by UTC day into the client's and the agent's day buckets. Accrual is driven by
 * - the 15-minute pass of the pool-risk job (`runEngineForAutoSwitchAgents` accrues every live agent
 *   it visits), which gives the ledger a 15-minute price resolution;
 * - switch-report, which closes the old PRIMARY's period at `traffic_switched_at` with the prices
 *   the agent reported, before the new PRIMARY takes over;
 * - the daily snapshot job, which accrues every agent up to the run time before freezing yesterday.
 *
 * The watermark is per AGENT (`accrued_until`), not per instance: an agent runs exactly one PRIMARY
 * at a time, so one watermark covers every role change (switch, promotion by the emergency path,
 * re-registration) with no gap and no overlap between the old and the new PRIMARY. The accrued
 * amount is also ADDed to the PRIMARY's `accrued_savings` (instance metrics).
 */
import { agentsRepo } from './db/agents-repo.js';
import { clientsRepo } from './db/clients-repo.js';
import { instancesRepo } from './db/instances-repo.js';
import { pricesRepo } from './db/prices-repo.js';
import { type DayAmounts, savingsRepo } from './db/savings-repo.js';
import { accrualAmounts, splitByUtcDay } from './domain/savings.js';
import type { Agent, Instance, Mode } from './domain/types.js';
import { logger, MetricUnit, metrics } from './observability.js';

const HOUR_MS = 3_600_000;
/** A first accrual (no watermark yet) looks back at most this far. */
const FIRST_ACCRUAL_LOOKBACK_MS = 24 * HOUR_MS;
/** One accrual covers at most 30 days of money (transaction size); older backlog is dropped. */
const MAX_ACCRUAL_MS = 30 * 24 * HOUR_MS;
/** Money stops this long after the last heartbeat: an agent that went silent may have no instance. */
const HEARTBEAT_GRACE_MS = 5 * 60_000;

export interface PriceOverride {
  mode: Mode;
  paid: number | null;
  baseline: number | null;
}

export type AccrualResult = 'accrued' | 'noop' | 'raced';

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** Prices of the PRIMARY: its own reported prices, then the pool's latest prices. */
async function primaryPrices(primary: Instance): Promise<PriceOverride> {
  let paid = primary.mode === 'spot' ? num(primary.spot_price) : num(primary.ondemand_price);
  let baseline = num(primary.baseline_ondemand_price) ?? num(primary.ondemand_price);
  if ((paid === null || baseline === null) && primary.pool_id) {
    const pool = await pricesRepo.getPool(primary.pool_id);
    if (paid === null && primary.mode === 'spot') paid = num(pool?.price);
    if (baseline === null) baseline = num(pool?.on_demand_price);
  }
  if (primary.mode === 'ondemand' && paid === null) paid = baseline;
  return { mode: primary.mode, paid, baseline };
}

function firstStart(agent: Agent, untilMs: number): number {
  const since = Date.parse(agent.pool_since ?? agent.created_at);
  const floor = untilMs - FIRST_ACCRUAL_LOOKBACK_MS;
  return Number.isFinite(since) ? Math.max(since, floor) : floor;
}

/**
 * Accrues one agent up to `until`. Re-reads and retries when another accrual moved the watermark
 * first (it then only accrues what is left, usually nothing). `override` fixes the prices (and
 * `primary` the instance) for a closing accrual at switch time.
 */
export async function accrueAgent(
  agentIn: Agent,
  until: Date,
  options: { primary?: Instance | null; prices?: PriceOverride; heartbeatGrace?: boolean } = {},
): Promise<AccrualResult> {
  let agent: Agent | undefined = agentIn;
  const untilMs = until.getTime();
  for (let attempt = 0; attempt < 3 && agent; attempt++) {
    if (agent.status === 'deleted') return 'noop';
    const previous = agent.accrued_until ?? null;
    const startMs = previous ? Date.parse(previous) : firstStart(agent, untilMs);
    if (!(untilMs > startMs)) return 'noop';

    const primary =
      options.primary !== undefined
        ? options.primary
        : agent.primary_instance_id
          ? ((await instancesRepo.get(agent.primary_instance_id)) ?? null)
          : null;
    let parts: DayAmounts[] = [];
    // No PRIMARY (agent in `error`): the watermark moves on, nothing is earned or spent.
    if (primary && agent.status !== 'error') {
      const prices = options.prices ?? (await primaryPrices(primary));
      let moneyEnd = untilMs;
      const hb = agent.last_heartbeat_at ? Date.parse(agent.last_heartbeat_at) : Number.NaN;
      if (options.heartbeatGrace !== false && Number.isFinite(hb)) moneyEnd = Math.min(moneyEnd, hb + HEARTBEAT_GRACE_MS);
      const moneyStart = Math.max(startMs, untilMs - MAX_ACCRUAL_MS);
      parts = splitByUtcDay(moneyStart, moneyEnd).map((p) => ({
        day: p.day,
        ...accrualAmounts(p.hours, prices.mode, prices.paid, prices.baseline),
      }));
    }
    const ok = await savingsRepo.accrue({
      agentId: agent.id,
      clientId: agent.client_id,
      previous,
      until: until.toISOString(),
      instanceId: primary?.id ?? null,
      parts,
      ttlEpochSeconds: savingsRepo.ledgerTtl(untilMs),
    });
    if (ok) {
      // The dashboard's savings accrued (USD; negative when the price paid was above the baseline).
      const usd = parts.reduce((sum, p) => sum + p.savings, 0);
      if (usd !== 0) metrics.addMetric('SavingsAccruedUsd', MetricUnit.NoUnit, usd);
      return 'accrued';
    }
    agent = await agentsRepo.get(agent.id);
  }
  return 'raced';
}

/**
 * Runs `fn` for every live agent of every client, found through indexes (clients: GSI1 `CLIENTS`;
 * a client's agents: GSI1 `CLIENT#<cid>#AGENTS`) — never a Scan. `concurrency` agents at a time.
 */
export async function forEachLiveAgent(
  fn: (agent: Agent) => Promise<void>,
  options: { concurrency?: number; clientIds?: readonly string[] } = {},
): Promise<{ clients: number; agents: number; failed: number }> {
  const concurrency = options.concurrency ?? 8;
  const only = options.clientIds ? new Set(options.clientIds) : undefined;
  let clients = 0;
  let agents = 0;
  let failed = 0;
  let token: string | undefined;
  do {
    const page = await clientsRepo.list(100, token);
    token = page.nextToken ?? undefined;
    for (const client of page.items) {
      if (client.status === 'deleted' || (only && !only.has(client.id))) continue;
      clients++;
      const live = (await agentsRepo.listAllByClient(client.id)).filter((a) => a.status !== 'deleted');
      for (let i = 0; i < live.length; i += concurrency) {
        await Promise.all(
          live.slice(i, i + concurrency).map(async (agent) => {
            agents++;
            try {
              await fn(agent);
            } catch (err) {
              failed++;
              logger.warn('agent step failed', { agentId: agent.id, error: err as Error });
            }
          }),
        );
      }
    }
  } while (token);
  return { clients, agents, failed };
}
