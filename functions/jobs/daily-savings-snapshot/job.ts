import { agentsRepo } from '../../shared/db/agents-repo.js';
import { clientsRepo } from '../../shared/db/clients-repo.js';
import { type GrowthDay, savingsRepo } from '../../shared/db/savings-repo.js';
import { roundAmounts, utcDay } from '../../shared/domain/savings.js';
import type { Client } from '../../shared/domain/types.js';
import type { JobSummary } from '../../shared/jobs/create-job-handler.js';
import { logger } from '../../shared/observability.js';
import { accrueAgent } from '../../shared/savings-ledger.js';

const DAY_MS = 86_400_000;
/** Days a missed run is caught up (each (client, day) is still written and added exactly once). */
const BACKFILL_DAYS = 7;

/**
 * API.md §6 daily-savings-snapshot (00:10 UTC). Per client:
 * 1. accrue every live agent up to now, so yesterday's ledger bucket is complete (a client whose
 *    accrual failed is left for the next run rather than frozen incomplete);
 * 2. for yesterday — and any of the previous 7 days a failed run missed — freeze the day bucket
 *    into a snapshot (savings, ondemand_cost, actual_cost, spot_hours, ondemand_hours) and add its
 *    savings to total_savings, in one transaction guarded by the snapshot's existence.
 * Then the growth counts of those days: total (clients existing at the end of the day), new
 * (created that day), active (clients whose PRIMARYs ran that day, i.e. ledger hours > 0).
 */
export async function dailySavingsSnapshot(now: Date, options: { clientIds?: readonly string[] } = {}): Promise<JobSummary> {
  const only = options.clientIds ? new Set(options.clientIds) : undefined;
  const at = now.toISOString();
  const days: string[] = [];
  for (let i = BACKFILL_DAYS; i >= 1; i--) days.push(utcDay(now.getTime() - i * DAY_MS));
  const first = days[0] as string;
  const last = days[days.length - 1] as string;

  const clients: Client[] = [];
  let token: string | undefined;
  do {
    const page = await clientsRepo.list(100, token);
    clients.push(...page.items);
    token = page.nextToken ?? undefined;
  } while (token);

  const activeByDay = new Map<string, number>(days.map((d) => [d, 0]));
  let written = 0;
  let skippedClients = 0;
  let accrualFailures = 0;
  for (const client of clients) {
    if (client.status === 'deleted' || (only && !only.has(client.id))) continue;
    const agents = (await agentsRepo.listAllByClient(client.id)).filter((a) => a.status !== 'deleted');
    let failed = false;
    for (const agent of agents) {
      try {
        await accrueAgent(agent, now);
      } catch (err) {
        failed = true;
        accrualFailures++;
        logger.warn('accrual failed; snapshot deferred', { clientId: client.id, agentId: agent.id, error: err as Error });
      }
    }
    if (failed) {
      skippedClients++;
      continue;
    }
    const existing = new Map((await savingsRepo.listSnapshots(client.id, first, last)).map((s) => [s.date, s]));
    const createdDay = utcDay(Date.parse(client.created_at));
    for (const day of days) {
      if (day < createdDay) continue;
      let snapshot = existing.get(day);
      if (!snapshot) {
        const amounts = roundAmounts(await savingsRepo.clientDay(client.id, day));
        if (await savingsRepo.writeSnapshot(client.id, day, amounts, at)) written++;
        snapshot = { client_id: client.id, date: day, created_at: at, ...amounts };
      }
      if (snapshot.spot_hours + snapshot.ondemand_hours > 0) activeByDay.set(day, (activeByDay.get(day) ?? 0) + 1);
    }
  }

  // Growth counts cover every client: a run limited to some clients (tests) leaves them alone.
  for (const day of only ? [] : days) {
    const end = `${day}T23:59:59.999Z`;
    const growth: GrowthDay = {
      date: day,
      total: clients.filter((c) => c.created_at <= end && (c.status !== 'deleted' || (c.deleted_at ?? '') > end)).length,
      new: clients.filter((c) => c.created_at.slice(0, 10) === day).length,
      active: activeByDay.get(day) ?? 0,
    };
    await savingsRepo.putGrowth(growth, at);
  }
  return {
    day: last,
    clients: clients.length,
    snapshots_written: written,
    clients_deferred: skippedClients,
    accrual_failures: accrualFailures,
  };
}
