import { adminRepo } from '../../shared/db/admin-repo.js';
import { agentsRepo } from '../../shared/db/agents-repo.js';
import type { Agent } from '../../shared/domain/types.js';
import type { JobSummary } from '../../shared/jobs/create-job-handler.js';
import { acceptsTerminateCommand, retireZombie } from '../../shared/zombies.js';

/** API.md §6: ZOMBIEs older than the retention period (default 30 days) are retired. */
export const DEFAULT_ZOMBIE_RETENTION_DAYS = 30;

/** Retention from ZOMBIE_RETENTION_DAYS (a positive number of days), else the default. */
export function zombieRetentionDays(env: NodeJS.ProcessEnv = process.env): number {
  const days = Number(env.ZOMBIE_RETENTION_DAYS);
  return Number.isFinite(days) && days > 0 ? days : DEFAULT_ZOMBIE_RETENTION_DAYS;
}

/** At most this many zombies per run; the rest wait for the next run (the job is idempotent). */
const MAX_PER_RUN = 1000;

/**
 * zombie-cleanup (03:00 UTC): every ZOMBIE that has been one for longer than the retention period
 * becomes TERMINATED with `termination_confirmed: false`, with one warning notification each; an
 * agent ≥ 5.0.0 also gets a `terminate_instance` command (see shared/zombies.ts for v4.x agents).
 *
 * No Scan: it reads the `INSTANCES#ZOMBIE` partition of GSI3 (keys.allInstancesIndex), limited to
 * instances created before the cutoff — a zombie can never be older than its instance.
 */
export async function cleanUpZombies(now: Date, retentionDays = zombieRetentionDays()): Promise<JobSummary> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  const candidates = await adminRepo.instancesCreatedBefore('ZOMBIE', cutoff, MAX_PER_RUN);
  const due = candidates.filter((z) => z.role === 'ZOMBIE' && z.zombie_since !== null && z.zombie_since < cutoff);
  const agents = new Map<string, Agent | undefined>();
  let terminated = 0;
  let commandsQueued = 0;
  for (const zombie of due) {
    if (!agents.has(zombie.agent_id)) agents.set(zombie.agent_id, await agentsRepo.get(zombie.agent_id));
    const agent = agents.get(zombie.agent_id);
    const queues = acceptsTerminateCommand(agent);
    const outcome = await retireZombie(agent, zombie, now, {
      trigger: 'scheduled',
      createdBy: 'zombie-cleanup',
      reason: `zombie for more than ${retentionDays} days`,
      // One warning per retired zombie, committed with its retirement.
      notify: {
        clientId: zombie.client_id,
        agentId: zombie.agent_id,
        type: 'zombie_retired',
        severity: 'warning',
        message: queues
          ? `Zombie instance ${zombie.id} (since ${zombie.zombie_since}) passed the ${retentionDays}-day retention: marked terminated and a terminate command was queued for its agent`
          : `Zombie instance ${zombie.id} (since ${zombie.zombie_since}) passed the ${retentionDays}-day retention: marked terminated (unconfirmed) — terminate the EC2 instance if it is still running`,
        dedupeKey: `zombie_retired:${zombie.id}`,
        now,
      },
    });
    if (outcome.command_queued) commandsQueued++;
    if (outcome.status === 'terminated') terminated++;
  }
  return { candidates: candidates.length, due: due.length, terminated, commands_queued: commandsQueued, retention_days: retentionDays };
}
