/**
 * POST /api/agents/{aid}/termination of the PRIMARY (API.md §3.4): the agent announces that its
 * PRIMARY is going away, which is handled like an EC2 termination of the instance.
 */
import { agentsRepo } from '../../db/agents-repo.js';
import { instancesRepo } from '../../db/instances-repo.js';
import type { Agent } from '../../domain/types.js';
import { reportSignal } from './intake.js';

/** Returns the agent's status afterwards (`error` when no replica could take over). */
export async function announcePrimaryTermination(
  agent: Agent,
  instanceId: string,
  terminatedAt: string | null,
  now: Date,
): Promise<Agent['status']> {
  const instance = await instancesRepo.get(instanceId);
  if (!instance || instance.agent_id !== agent.id) return agent.status;
  await reportSignal(
    {
      instance,
      signal: 'instance_terminated',
      source: 'agent',
      origin: 'agent-termination',
      detectedAt: terminatedAt ? new Date(Date.parse(terminatedAt)).toISOString() : now.toISOString(),
      deadline: null,
    },
    now,
    { waitForHandling: true },
  );
  return (await agentsRepo.get(agent.id))?.status ?? agent.status;
}
