import { loadAgent, loadAgentWithLive } from '../shared/flows/agent-access.js';
import { agentsRepo } from '../shared/db/agents-repo.js';
import { commandsRepo } from '../shared/db/commands-repo.js';
import { ConflictError, NotFoundError } from '../shared/domain/errors.js';
import type { Caller, Command } from '../shared/domain/types.js';
import { commandStatusEvent } from '../shared/feed.js';
import { MetricUnit, metrics } from '../shared/observability.js';
import { Outbox } from '../shared/outbox.js';

/** issue-switch-command and force-switch (API.md §3.5) live in ./switching.ts. */
export { forceSwitch, issueSwitchCommand } from './switching.js';

/** v4.x agents only understand `switch` and `create_replica` (API.md §4.1). */
const V4_COMMAND_TYPES = new Set(['switch', 'create_replica']);

export const agentMajorVersion = (version: string | null): number => {
  const major = Number.parseInt((version ?? '').replace(/^v/i, '').split('.')[0] ?? '', 10);
  return Number.isFinite(major) ? major : 4;
};

/** The fields the agent reads from a pending command (AGENT WIRE CONTRACT). */
export const pendingCommandView = (c: Command) => ({
  id: c.id,
  command_type: c.command_type,
  target_mode: c.target_mode,
  target_pool_id: c.target_pool_id,
  terminate_wait_seconds: c.terminate_wait_seconds,
  priority: c.priority,
  created_at: c.created_at,
  instance_id: c.instance_id,
  replica_id: c.replica_id,
  trigger_type: c.trigger_type,
  expires_at: c.expires_at,
});

/**
 * GET /api/agents/{aid}/pending-commands: a bare array, priority desc then oldest. Only the first
 * item is delivered (pending → acknowledged), together with taking the agent's in-flight slot and
 * its feed event, so two concurrent polls cannot both hand out a command. While a command is in
 * flight the answer is [] (API.md §3.5), so this answer is the only one that carries it: when the
 * delivery's commit is not confirmed (a timeout), it is read back rather than reported as failed.
 */
export async function getPendingCommands(caller: Caller, agentId: string, now: Date) {
  const { agent, live } = await loadAgentWithLive(caller, agentId);
  if (!agent.config.enabled || agent.status === 'disabled' || agent.inflight_command_id) return [];
  const nowIso = now.toISOString();
  const major = agentMajorVersion(agent.agent_version);
  const supported = major >= 5 ? () => true : (c: Command) => V4_COMMAND_TYPES.has(c.command_type);
  const deliverable = (c: Command) => supported(c) && c.expires_at > nowIso;
  // Nothing was queued since a poll found nothing deliverable (the live item, read with the agent,
  // carries both marks): the common poll costs that one read (README "Access patterns").
  const revision = live?.command_rev ?? 0;
  const mark = `${revision}/v${major}`;
  if (live?.commands_seen === mark) return [];
  // Read past the first 20: expired commands (until the expiry job runs) and types a v4 agent cannot
  // run are skipped, and up to 20 deliverable ones are still returned.
  const pending = (await commandsRepo.listPending(agent.id, 100)).filter(deliverable).slice(0, 20);
  const first = pending[0];
  if (!first) {
    // The index may lag a new command by a moment: remember "nothing" only once the table agrees.
    if (!(await commandsRepo.anyPending(agent.id, deliverable))) await agentsRepo.markCommandsSeen(agent.id, revision, mark);
    return [];
  }
  const records = new Outbox().event(commandStatusEvent(first, 'acknowledged', now));
  let delivered: boolean;
  try {
    delivered = await commandsRepo.deliver(first, nowIso, first.command_type === 'switch', records.parts());
  } catch (err) {
    // Applied or not? Only a read can tell (and if the database is gone, the agent polls again).
    if (!(await commandsRepo.deliveredAt(first, nowIso).catch(() => false))) throw err;
    delivered = true;
  }
  if (!delivered) return [];
  metrics.addMetric('CommandDelivered', MetricUnit.Count, 1);
  await records.committed();
  return pending.map((c, i) => pendingCommandView(i === 0 ? { ...c, status: 'acknowledged', delivered_at: nowIso } : c));
}

/**
 * POST /api/agents/{aid}/commands/{cmd}/executed. The same result again is 200 (agent retry);
 * a different result for a finished command is 409 INVALID_TRANSITION.
 */
export async function reportExecuted(
  caller: Caller,
  agentId: string,
  commandId: string,
  input: { success: boolean; message?: string | null },
  now: Date,
) {
  const agent = await loadAgent(caller, agentId);
  const command = await commandsRepo.get(agent.id, commandId);
  if (!command) throw new NotFoundError('command');
  const target = input.success ? 'completed' : 'failed';
  if (command.status === target) return { success: true as const, command_id: command.id, status: command.status };
  if (command.status !== 'pending' && command.status !== 'acknowledged' && command.status !== 'executing') {
    throw new ConflictError('INVALID_TRANSITION', `the command is already ${command.status}`);
  }
  const records = new Outbox().event(commandStatusEvent(command, target, now));
  await commandsRepo.finish(command, target, now.toISOString(), input.message ?? null, records.parts());
  metrics.addMetric(input.success ? 'CommandCompleted' : 'CommandFailed', MetricUnit.Count, 1);
  await records.committed();
  return { success: true as const, command_id: command.id, status: target };
}
