import { getItem, putIfAbsent } from './conditions.js';
import { keys } from './keys.js';

/**
 * The natural keys of the agent's reports (API.md §3.10): a pricing report per (agent,
 * collected_at) and a cleanup report per (agent, timestamp), each written once.
 */
export const reportsRepo = {
  /**
   * Records a pricing report's natural key; when the report was already received, returns what
   * the first one recorded (a retry answers with the first report's id and writes nothing new).
   */
  async claimPricingReport(
    agentId: string,
    collectedAt: string,
    report: { report_id: string; pools_recorded: number; observed?: Record<string, unknown> },
    ttl: number,
  ): Promise<{ report_id: string; pools_recorded: number } | undefined> {
    const key = keys.pricingReport(agentId, collectedAt);
    if (await putIfAbsent({ ...key, entity: 'pricing-report', ...report, ttl })) return undefined;
    return (await getItem<{ report_id: string; pools_recorded: number }>(key)) ?? { report_id: report.report_id, pools_recorded: 0 };
  },

  /** Stores a cleanup report once (a repeated report changes nothing). */
  async recordCleanup(agentId: string, timestamp: string, report: Record<string, unknown>, ttl: number): Promise<void> {
    await putIfAbsent({ ...keys.cleanupReport(agentId, timestamp), entity: 'cleanup-report', ...report, ttl });
  },
};
