import { agentsRepo } from '../../shared/db/agents-repo.js';
import type { JobSummary } from '../../shared/jobs/create-job-handler.js';
import { MetricUnit, metrics } from '../../shared/observability.js';
import { agentStatusEvent } from '../../shared/feed.js';
import { Outbox } from '../../shared/outbox.js';

/** API.md §4.3: no heartbeat for more than 120 s → offline. */
export const HEARTBEAT_TIMEOUT_SECONDS = 120;
/** The dashboard's agents-online gauge is emitted by the runs of every 5th minute. */
export const AGENTS_ONLINE_SAMPLE_MINUTES = 5;

/**
 * Online agents whose last heartbeat is older than 120 s go offline, each with one notification.
 * Reads the sparse, sharded online index (only online and switching agents are in it; a heartbeat
 * never writes it) and the members' live items for their last heartbeat — never the whole table.
 */
export async function timeOutStaleAgents(now: Date): Promise<JobSummary> {
  const cutoff = new Date(now.getTime() - HEARTBEAT_TIMEOUT_SECONDS * 1000).toISOString();
  const watched = await agentsRepo.listOnline();
  const stale = watched.filter((a) => (a.last_heartbeat_at ?? '') < cutoff);
  let markedOffline = 0;
  for (const agent of stale) {
    // Conditioned on no heartbeat since the cutoff: a heartbeat that lands meanwhile wins. The
    // status change, its feed event and the notification commit together.
    const records = new Outbox()
      .event(agentStatusEvent(agent, agent.status, 'offline', now, 'heartbeat_timeout'))
      .notify({
        clientId: agent.client_id,
        agentId: agent.id,
        type: 'agent_offline',
        severity: 'warning',
        message: `Agent ${agent.hostname ?? agent.id} has not sent a heartbeat since ${agent.last_heartbeat_at}`,
        dedupeKey: `agent_offline:${agent.id}:${agent.last_heartbeat_at}`,
        now,
      });
    if (!(await agentsRepo.markOfflineIfStale(agent.id, cutoff, records.parts()))) continue;
    markedOffline++;
    await records.committed();
  }
  if (now.getUTCMinutes() % AGENTS_ONLINE_SAMPLE_MINUTES === 0) {
    // The run has just read every online agent: the gauge costs no further read.
    const online = watched.length - markedOffline;
    metrics.addMetric('AgentsOnline', MetricUnit.Count, online);
    return { candidates: stale.length, marked_offline: markedOffline, agents_online: online };
  }
  return { candidates: stale.length, marked_offline: markedOffline };
}
