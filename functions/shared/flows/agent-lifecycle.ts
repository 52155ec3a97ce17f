/**
 * Agent changes shared by the agent routes, the client delete and the admin bulk operations:
 * enabling/disabling (pending commands cancelled with it) and the delete cascade, each one
 * transaction conditioned on the agent as read.
 */
import { agentsRepo } from '../db/agents-repo.js';
import { commandsRepo } from '../db/commands-repo.js';
import { replicasRepo } from '../db/replicas-repo.js';
import { TransactionConflict, transact, type TxPart } from '../db/transaction.js';
import { ConflictError, NotFoundError, retryOnVersionConflict, VersionConflictError } from '../domain/errors.js';
import { isActiveReplica } from '../domain/replicas.js';
import type { Agent, AgentConfig, AgentStatus, Caller, Command } from '../domain/types.js';
import { loadAgent } from './agent-access.js';

/** API.md §4.3: an agent is online while its last heartbeat is at most 120 s old. */
const ONLINE_WITHIN_MS = 120_000;

/** Pending commands that a disable, a delete or an auto-switch-off must cancel. */
export async function pendingCommandsToCancel(agentId: string, filter: (c: Command) => boolean = () => true): Promise<Command[]> {
  return (await commandsRepo.listPending(agentId, 100)).filter(filter);
}

/** The agent's active replicas. */
export const activeReplicasOf = async (agentId: string) => (await replicasRepo.listByAgent(agentId)).filter(isActiveReplica);

/**
 * Runs a transaction whose `agent` part is the version-checked agent update: a stale agent is
 * VERSION_CONFLICT with its current version (404 when it was deleted meanwhile), a side effect that
 * lost its condition is VERSION_CONFLICT too.
 */
export async function transactAgentChange(agent: Agent, parts: TxPart[]): Promise<void> {
  try {
    await transact(parts);
  } catch (err) {
    if (!(err instanceof TransactionConflict)) throw err;
    if (err.failedOn('agent')) {
      const current = await agentsRepo.get(agent.id);
      if (!current || current.status === 'deleted') throw new NotFoundError('agent', 'AGENT_DELETED');
      throw new VersionConflictError(current.version, { cause: err });
    }
    // A side-effect part lost its condition (a replica or command moved on concurrently).
    throw new ConflictError('VERSION_CONFLICT', 'a replica or command changed concurrently; retry', [], { cause: err });
  }
}

/**
 * Enables or disables an agent (version-checked with `expectedVersion`, else retried on a race).
 * Disabling cancels its pending commands in the same transaction.
 */
export async function setAgentEnabled(caller: Caller, agentId: string, enabled: boolean, expectedVersion: number | undefined, now: Date) {
  const at = now.toISOString();
  return retryOnVersionConflict(expectedVersion !== undefined, async () => {
    const agent = await loadAgent(caller, agentId);
    if (expectedVersion !== undefined && expectedVersion !== agent.version) throw new VersionConflictError(agent.version);
    const config: AgentConfig = { ...agent.config, enabled, config_version: agent.config.config_version + 1 };
    const recent = agent.last_heartbeat_at && now.getTime() - Date.parse(agent.last_heartbeat_at) <= ONLINE_WITHIN_MS;
    const status: AgentStatus = enabled ? (recent ? 'online' : 'offline') : 'disabled';
    const cancels = enabled ? [] : await pendingCommandsToCancel(agent.id);
    await transactAgentChange(agent, [
      agentsRepo.updateTx(agent.id, { set: { config, enabled, status }, guard: { version: agent.version } }),
      ...cancels.map((c) => commandsRepo.cancelTx(c, at, 'agent disabled')),
    ]);
    return { agent, config, commandsCancelled: cancels.length };
  });
}

/**
 * Deletes an agent: commands cancelled, replicas marked terminated (the agent terminates them),
 * guard released, status deleted — one transaction. EC2 instances are not touched.
 */
export async function deleteAgentCascade(agent: Agent, now: Date, options: { ttl?: number } = {}) {
  const at = now.toISOString();
  const [replicas, commands] = await Promise.all([activeReplicasOf(agent.id), pendingCommandsToCancel(agent.id)]);
  await agentsRepo.markDeleted(
    agent,
    at,
    [...replicas.map((r) => replicasRepo.terminateTx(r, at)), ...commands.map((c) => commandsRepo.cancelTx(c, at, 'agent deleted'))],
    options.ttl,
  );
  return { replicas_terminated: replicas.length, commands_cancelled: commands.length };
}
