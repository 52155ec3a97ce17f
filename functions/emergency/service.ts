import { loadAgent } from '../agents/access.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import type { Caller } from '../shared/domain/types.js';

/** A listed zombie is not listed again for 5 minutes (API.md §3.7). */
const RELIST_SECONDS = 300;

/**
 * GET /api/agents/{aid}/instances-to-terminate (AGENT WIRE CONTRACT, polled every 60 s): the
 * agent's ZOMBIEs older than terminate_wait_seconds that were not listed in the last 5 minutes.
 * Listing is recorded with a conditional write, so two concurrent polls do not both list one zombie.
 */
export async function instancesToTerminate(caller: Caller, agentId: string, now: Date) {
  const agent = await loadAgent(caller, agentId);
  const { auto_terminate_enabled: autoTerminate } = agent.config;
  const wait = autoTerminate ? Math.max(1, agent.config.terminate_wait_seconds) : 0;
  const reply = (instances: { instance_id: string; instance_type: string; az: string; reason: 'zombie_timeout'; seconds_waiting: number }[]) => ({
    instances,
    auto_terminate_enabled: autoTerminate,
    terminate_wait_seconds: wait,
  });
  if (!autoTerminate) return reply([]);
  const nowIso = now.toISOString();
  const zombies = await instancesRepo.listByAgent(agent.id, 'ZOMBIE');
  const due = zombies.filter(
    (z) =>
      z.zombie_since !== null &&
      now.getTime() - Date.parse(z.zombie_since) >= wait * 1000 &&
      (z.next_listing_at === null || z.next_listing_at <= nowIso),
  );
  const listed = [];
  const nextListing = new Date(now.getTime() + RELIST_SECONDS * 1000).toISOString();
  for (const zombie of due) {
    try {
      await instancesRepo.update(zombie.id, { set: { next_listing_at: nextListing }, expectedVersion: zombie.version });
    } catch {
      continue; // changed meanwhile (listed by a concurrent poll, or terminated): skip it this time
    }
    listed.push({
      instance_id: zombie.id,
      instance_type: zombie.instance_type,
      az: zombie.az,
      reason: 'zombie_timeout' as const,
      seconds_waiting: Math.floor((now.getTime() - Date.parse(zombie.zombie_since as string)) / 1000),
    });
  }
  return reply(listed);
}
