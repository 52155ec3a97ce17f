import { commandsRepo } from '../../shared/db/commands-repo.js';
import { ConflictError } from '../../shared/domain/errors.js';
import type { JobSummary } from '../../shared/jobs/create-job-handler.js';

/**
 * API.md §4.1 Expired: pending too long (10 min emergency, 1 h model/scheduled, 6 h manual) or
 * delivered without a result within terminate_wait_seconds + 30 min. Each command carries its own
 * `expires_at` (set at creation, reset at delivery) in the sparse open-commands index.
 */
export async function expireCommands(now: Date): Promise<JobSummary> {
  const due = await commandsRepo.listExpired(now.toISOString());
  let expired = 0;
  for (const command of due) {
    try {
      await commandsRepo.finish(command, 'expired', now.toISOString(), 'expired without a result');
      expired++;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err; // finished meanwhile: nothing to expire
    }
  }
  return { due: due.length, expired };
}
