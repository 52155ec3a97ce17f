/** POST /api/admin/bulk/execute: enable, disable or delete agents, or retire their zombies, one agent at a time. */
import { agentsRepo } from '../shared/db/agents-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { typedError } from '../shared/http/responses.js';
import { deleteAgentCascade, setAgentEnabled } from '../shared/flows/agent-lifecycle.js';
import { mapLimit } from '../shared/concurrency.js';
import { logger } from '../shared/observability.js';
import { retireZombie } from '../shared/zombies.js';

const ADMIN = { kind: 'admin' } as const;

export type BulkOperation = 'enable_agents' | 'disable_agents' | 'delete_agents' | 'terminate_zombies';

interface BulkResult {
  agent_id: string;
  status: string;
  error?: string;
  zombies_terminated?: number;
  commands_queued?: number;
}

const failure = (agentId: string, err: unknown): BulkResult => ({
  agent_id: agentId,
  status: 'failed',
  // A database outage is reported as such (SERVICE_UNAVAILABLE): that item can be retried.
  error: typedError(err)?.code ?? 'INTERNAL_ERROR',
});

/**
 * One agent's part of a bulk operation. Each is safe to repeat: an agent already in the target
 * state answers `unchanged` without writing, and terminate_zombies only touches current ZOMBIEs
 * (shared/zombies.ts). A replayed request with the same Idempotency-Key gets the stored answer.
 */
async function bulkOne(operation: BulkOperation, agentId: string, now: Date): Promise<BulkResult> {
  const agent = await agentsRepo.get(agentId);
  if (!agent) return { agent_id: agentId, status: 'failed', error: 'NOT_FOUND' };
  if (operation === 'delete_agents') {
    if (agent.status === 'deleted') return { agent_id: agentId, status: 'unchanged' };
    await deleteAgentCascade(agent, now);
    return { agent_id: agentId, status: 'deleted' };
  }
  if (agent.status === 'deleted') return { agent_id: agentId, status: 'failed', error: 'AGENT_DELETED' };
  if (operation === 'enable_agents' || operation === 'disable_agents') {
    const enabled = operation === 'enable_agents';
    if (agent.config.enabled === enabled) return { agent_id: agentId, status: 'unchanged' };
    await setAgentEnabled(ADMIN, agentId, enabled, undefined, now);
    return { agent_id: agentId, status: enabled ? 'enabled' : 'disabled' };
  }
  const zombies = await instancesRepo.listByAgent(agentId, 'ZOMBIE');
  let terminated = 0;
  let queued = 0;
  for (const zombie of zombies) {
    const outcome = await retireZombie(agent, zombie, now, {
      trigger: 'manual',
      createdBy: 'admin',
      reason: 'admin bulk terminate_zombies',
    });
    if (outcome.status === 'terminated') terminated++;
    if (outcome.command_queued) queued++;
  }
  return {
    agent_id: agentId,
    status: terminated + queued > 0 ? 'zombies_terminated' : 'unchanged',
    zombies_terminated: terminated,
    commands_queued: queued,
  };
}

export async function bulkExecute(body: { operation: BulkOperation; agent_ids: string[] }, now: Date) {
  const ids = [...new Set(body.agent_ids.map((id) => id.toLowerCase()))];
  const results = await mapLimit(ids, 8, async (id) => {
    try {
      return await bulkOne(body.operation, id, now);
    } catch (err) {
      // A concurrent change (e.g. deleted meanwhile) is reported for that item; the others go on.
      if (!typedError(err)) logger.error('bulk item failed', { agentId: id, error: err as Error });
      return failure(id, err);
    }
  });
  const failed = results.filter((r) => r.status === 'failed').length;
  return { operation: body.operation, succeeded: results.length - failed, failed, results };
}
