import { incidentsRepo } from '../shared/db/incidents-repo.js';
import { parseTimestamp } from '../shared/domain/ids.js';
import { emergencyEventView } from '../shared/domain/incidents.js';

export interface EmergencyEventsQuery {
  client_id?: string;
  signal_type?: string;
  outcome?: string;
  since?: string;
  limit: number;
  nextToken?: string;
}

/**
 * GET /api/admin/emergency-events: the emergency log, newest first, one Query on a documented
 * index (a client's incidents on GSI3, everyone's on GSI2; `since` is a key range, signal and
 * outcome are filters). The summary covers every matching incident, not only the page.
 */
export async function listEmergencyEvents(query: EmergencyEventsQuery) {
  const filter = {
    ...(query.client_id ? { clientId: query.client_id } : {}),
    ...(query.since ? { since: parseTimestamp(query.since).toISOString() } : {}),
    ...(query.signal_type ? { signal: query.signal_type } : {}),
    ...(query.outcome ? { outcome: query.outcome } : {}),
  };
  const [page, all] = await Promise.all([
    incidentsRepo.listForAdmin(filter, { limit: query.limit, ...(query.nextToken ? { nextToken: query.nextToken } : {}) }),
    incidentsRepo.listForAdmin(filter, 'all'),
  ]);
  const bySignal: Record<string, number> = {};
  const byOutcome: Record<string, number> = {};
  const failovers: number[] = [];
  for (const i of all.items) {
    bySignal[i.signal_type] = (bySignal[i.signal_type] ?? 0) + 1;
    byOutcome[i.outcome] = (byOutcome[i.outcome] ?? 0) + 1;
    if (typeof i.failover_time_ms === 'number') failovers.push(i.failover_time_ms);
  }
  return {
    summary: {
      total: all.items.length,
      by_signal: bySignal,
      by_outcome: byOutcome,
      avg_failover_ms: failovers.length ? Math.round(failovers.reduce((a, b) => a + b, 0) / failovers.length) : null,
    },
    events: page.items.map(emergencyEventView),
    nextToken: page.nextToken,
  };
}
