import { agentsRepo } from '../db/agents-repo.js';
import { type AlertType, alertsRepo, type PricingAlert } from '../db/alerts-repo.js';
import { pricesRepo } from '../db/prices-repo.js';
import { notify } from '../notify.js';
import { logger } from '../observability.js';

/** API.md §3.12: an alert fires at most once per 6 h. */
export const ALERT_COOLDOWN_MS = 6 * 3600 * 1000;
/** Pools not priced for this long are not evaluated (API.md §3.3: active = priced within 24 h). */
export const POOL_FRESHNESS_MS = 24 * 3600 * 1000;

/** The POOL item fields an alert reads (the contract between the pricing pipeline and its readers). */
export interface PoolSnapshot {
  pool_id: string;
  price?: number | null;
  priced_at?: string | null;
  on_demand_price?: number | null;
  risk_score?: number | null;
  interruptions_30d?: number | null;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The value an alert type watches on a pool (undefined when the pool lacks the data). */
export function metricOf(type: AlertType, pool: PoolSnapshot): number | undefined {
  switch (type) {
    case 'spot_price_above':
    case 'spot_price_below':
      return num(pool.price);
    case 'savings_below_percent': {
      const price = num(pool.price);
      const od = num(pool.on_demand_price);
      return price !== undefined && od !== undefined && od > 0 ? (1 - price / od) * 100 : undefined;
    }
    case 'pool_risk_above':
      return num(pool.risk_score);
    case 'interruption_rate_above':
      return num(pool.interruptions_30d);
  }
}

/** Whether the alert's condition holds on a pool. */
export function crosses(type: AlertType, threshold: number, pool: PoolSnapshot): boolean {
  const value = metricOf(type, pool);
  if (value === undefined) return false;
  return type === 'spot_price_below' || type === 'savings_below_percent' ? value < threshold : value > threshold;
}

const DESCRIBE: Record<AlertType, (v: number, t: number) => string> = {
  spot_price_above: (v, t) => `spot price $${v.toFixed(4)}/h is above $${t}/h`,
  spot_price_below: (v, t) => `spot price $${v.toFixed(4)}/h is below $${t}/h`,
  savings_below_percent: (v, t) => `savings ${v.toFixed(1)}% are below ${t}%`,
  pool_risk_above: (v, t) => `risk ${v.toFixed(2)} is above ${t}`,
  interruption_rate_above: (v, t) => `${v} interruptions in 30 days is above ${t}`,
};

export interface EvaluationSummary {
  alerts: number;
  in_alarm: number;
  fired: number;
  suppressed: number;
  rearmed: number;
}

/**
 * Evaluates every enabled pricing alert against the POOL items (called by the pool-risk job every
 * 15 min). An alert without `pool_id` watches the pools its client's live agents run in.
 *
 * A crossing notifies once, not once per run: the alert remembers `in_alarm`; only the change from
 * "not holding" to "holding" fires, and only if the last trigger is more than 6 h old (otherwise the
 * alarm is entered silently). The notification's dedupe key is the alert + the trigger state the
 * evaluator read, and the state change is a conditional write on `last_triggered_at`, so neither a
 * concurrent run nor a retry after a crash can notify twice for the same crossing.
 */
export async function evaluatePricingAlerts(now: Date): Promise<EvaluationSummary> {
  const alerts = await alertsRepo.listEnabled();
  const summary: EvaluationSummary = { alerts: alerts.length, in_alarm: 0, fired: 0, suppressed: 0, rearmed: 0 };
  if (alerts.length === 0) return summary;

  // Pools each alert watches.
  const clientPools = new Map<string, string[]>();
  for (const clientId of new Set(alerts.filter((a) => !a.pool_id).map((a) => a.client_id))) {
    const agents = await agentsRepo.listAllByClient(clientId);
    clientPools.set(clientId, [
      ...new Set(agents.filter((a) => a.status !== 'deleted' && a.current_pool_id).map((a) => a.current_pool_id as string)),
    ]);
  }
  const watched = (a: PricingAlert): string[] => (a.pool_id ? [a.pool_id] : (clientPools.get(a.client_id) ?? []));
  const poolIds = [...new Set(alerts.flatMap(watched))];
  const pools = new Map<string, PoolSnapshot>();
  for (const pool of await pricesRepo.getPools(poolIds)) {
    const fresh = typeof pool.priced_at === 'string' && now.getTime() - Date.parse(pool.priced_at) <= POOL_FRESHNESS_MS;
    if (fresh) pools.set(pool.pool_id, pool);
  }

  for (const alert of alerts) {
    try {
      const matching = watched(alert)
        .map((id) => pools.get(id))
        .filter((p): p is PoolSnapshot => p !== undefined && crosses(alert.alert_type, alert.threshold, p));
      const holds = matching.length > 0;
      if (!holds) {
        if (alert.in_alarm) {
          await alertsRepo.leaveAlarm(alert);
          summary.rearmed++;
        }
        continue;
      }
      summary.in_alarm++;
      if (alert.in_alarm) continue; // still the same crossing: already handled
      const cooledDown = !alert.last_triggered_at || now.getTime() - Date.parse(alert.last_triggered_at) >= ALERT_COOLDOWN_MS;
      if (!cooledDown) {
        await alertsRepo.enterAlarm(alert, now.toISOString(), false);
        summary.suppressed++;
        continue;
      }
      const first = matching[0] as PoolSnapshot;
      const value = metricOf(alert.alert_type, first) as number;
      const more = matching.length > 1 ? ` (and ${matching.length - 1} more pool${matching.length > 2 ? 's' : ''})` : '';
      // Notify first, keyed on the state read: a crash before the state write retries with the same key.
      await notify({
        clientId: alert.client_id,
        type: 'price_alert',
        severity: 'warning',
        message: `Pricing alert ${alert.alert_type}: ${first.pool_id} ${DESCRIBE[alert.alert_type](value, alert.threshold)}${more}`,
        dedupeKey: `price_alert:${alert.alert_id}:${alert.last_triggered_at ?? 'never'}`,
        now,
      });
      if (await alertsRepo.enterAlarm(alert, now.toISOString(), true)) summary.fired++;
    } catch (err) {
      // One broken alert must not stop the others (the job runs again in 15 min).
      logger.warn('pricing alert evaluation failed', { alertId: alert.alert_id, error: err as Error });
    }
  }
  return summary;
}
