import { runEngineForAutoSwitchAgents } from '../../shared/flows/auto-switch.js';
import { evaluatePricingAlerts } from '../../shared/flows/pricing-alerts.js';
import { type PoolItem, pricesRepo } from '../../shared/db/prices-repo.js';
import { round } from '../../shared/domain/numbers.js';
import { poolRiskScore } from '../../shared/domain/risk.js';
import type { JobSummary } from '../../shared/jobs/create-job-handler.js';
import { logger } from '../../shared/observability.js';
import { interruptionsByPool } from '../../shared/pool-interruptions.js';
import { poolWindowStats } from '../../shared/pool-series.js';
import { mapLimit } from '../../shared/concurrency.js';

const HOUR_MS = 3_600_000;
/** §4.6: `cv_24h`. */
export const VOLATILITY_WINDOW_HOURS = 24;
/** §4.6: `interruptions_30d`. */
export const INTERRUPTION_WINDOW_DAYS = 30;

/** One pool's statistics as written onto its POOL item. */
export interface PoolStatistics {
  pool_id: string;
  risk_score: number;
  volatility: number;
  avg_price_24h: number | null;
  price_stddev_24h: number | null;
  interruptions_30d: number;
  history_hours: number;
}

/**
 * Statistics of one pool as of `now`: time-weighted 24 h mean / stddev / cv of its consolidated
 * series (plus its latest observed price), its interruptions in 30 days, and the §4.6 risk score
 * (risk.ts `poolRiskScore`, on the latest price against the on-demand price). Null when the pool
 * has no price at all.
 */
export async function computePoolStatistics(
  pool: PoolItem,
  interruptions30d: number,
  now: Date,
): Promise<PoolStatistics | null> {
  const stats = await poolWindowStats(pool, VOLATILITY_WINDOW_HOURS, now.getTime());
  const spot = typeof pool.price === 'number' ? pool.price : stats?.last;
  if (spot === undefined) return null;
  const cv = stats?.cv ?? 0;
  const risk = poolRiskScore({
    interruptions_30d: interruptions30d,
    cv_24h: cv,
    spot,
    on_demand: pool.on_demand_price ?? 0,
  });
  return {
    pool_id: pool.pool_id,
    risk_score: round(risk, 4),
    volatility: round(cv, 6),
    avg_price_24h: stats ? round(stats.mean, 8) : null,
    price_stddev_24h: stats ? round(stats.stddev, 8) : null,
    interruptions_30d: interruptions30d,
    history_hours: stats ? round(stats.covered_hours, 3) : 0,
  };
}

/** A step run after the pool statistics are fresh (API.md §6 pool-risk-analysis). */
export type PoolRiskStep = (now: Date) => Promise<JobSummary | undefined>;

/**
 * HOOK POINTS (API.md §6: the pool-risk job also "runs the engine for auto-switch agents" and
 * "evaluates pricing alerts"). Those belong to the decisions and notifications owners; each step
 * runs after every POOL item carries fresh statistics, in this order, so the engine and the alerts
 * read this run's risk scores.
 */
export const afterPoolStats: [name: string, step: PoolRiskStep][] = [
  ['auto_switch', (now) => runEngineForAutoSwitchAgents(now)],
  ['pricing_alerts', async (now) => ({ ...(await evaluatePricingAlerts(now)) })],
];

/**
 * The pool-risk-analysis job (every 15 min): recomputes every known pool's statistics (GSI2
 * `POOLS`, no Scan), writes them onto the POOL items, then runs the `afterPoolStats` steps. A
 * failing step does not stop the others; the run then fails (and is recorded as failed) after all
 * of them ran.
 */
export async function analysePoolRisk(
  now: Date,
  options: { pools?: readonly string[]; steps?: readonly [string, PoolRiskStep][] } = {},
): Promise<JobSummary> {
  const only = options.pools ? new Set(options.pools) : undefined;
  const pools = (await pricesRepo.listPools()).filter((p) => !only || only.has(p.pool_id));
  const interruptions = await interruptionsByPool(
    new Date(now.getTime() - INTERRUPTION_WINDOW_DAYS * 24 * HOUR_MS).toISOString(),
    now.toISOString(),
  );
  let updated = 0;
  let skipped = 0;
  let highRisk = 0;
  await mapLimit(pools, 16, async (pool) => {
    const stats = await computePoolStatistics(pool, interruptions.get(pool.pool_id)?.length ?? 0, now);
    if (!stats) {
      skipped++;
      return;
    }
    const { pool_id: _id, ...fields } = stats;
    if (await pricesRepo.updatePoolStats(pool.pool_id, { ...fields, stats_at: now.toISOString() })) updated++;
    if (stats.risk_score > 0.7) highRisk++;
  });
  const summary: JobSummary = { pools: pools.length, updated, skipped, high_risk: highRisk };
  const failures: string[] = [];
  for (const [name, step] of options.steps ?? afterPoolStats) {
    try {
      summary[name] = (await step(now)) ?? 'ok';
    } catch (err) {
      logger.error('pool-risk step failed', { step: name, error: err as Error });
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failures.length > 0) throw new Error(`pool-risk steps failed: ${failures.join('; ')}`);
  return summary;
}
