import { type AgentLive, agentsRepo } from '../db/agents-repo.js';
import { NotFoundError } from '../domain/errors.js';
import type { Agent, Caller } from '../domain/types.js';
import { assertOwner } from '../http/auth.js';

/**
 * Loads an agent the caller may see. Another client's agent is 404 (never 403); a deleted agent is
 * 404 `AGENT_DELETED` on the routes where the agent must uninstall, unless `allowDeleted`
 * (replica and termination routes keep working for 24 h after a delete, API.md §3.4).
 */
export async function loadAgent(
  caller: Caller,
  agentId: string,
  options: { allowDeletedForSeconds?: number; now?: Date } = {},
): Promise<Agent> {
  return (await loadAgentWithLive(caller, agentId, options)).agent;
}

/**
 * {@link loadAgent}, with the agent's live item as read by the same strongly consistent Query
 * (one read unit for both): the agent polls answer "nothing changed" from it without another read.
 */
export async function loadAgentWithLive(
  caller: Caller,
  agentId: string,
  options: { allowDeletedForSeconds?: number; now?: Date } = {},
): Promise<{ agent: Agent; live: AgentLive | undefined }> {
  const found = await agentsRepo.getWithLive(agentId);
  if (!found) throw new NotFoundError('agent');
  const { agent } = found;
  assertOwner(caller, agent.client_id, 'agent');
  if (agent.status === 'deleted') {
    const grace = options.allowDeletedForSeconds ?? 0;
    const deletedAt = agent.deleted_at ? Date.parse(agent.deleted_at) : 0;
    const now = (options.now ?? new Date()).getTime();
    if (grace <= 0 || now - deletedAt > grace * 1000) throw new NotFoundError('agent', 'AGENT_DELETED');
  }
  return found;
}

/** Replica and termination routes answer for 24 h after a delete so the agent can clean up. */
export const CLEANUP_GRACE_SECONDS = 24 * 3600;
