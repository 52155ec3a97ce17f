/**
 * Queuing switch commands (API.md §3.5, §4.1, §4.4), shared by the switch routes, the auto-switch
 * runner and the rebalance flow: {@link queueSwitch} enforces "at most one command in flight and one
 * switch open per agent" with the agent's open-switch slot, written in the same transaction as the
 * command; {@link switchLimitReached} applies the §4.6 daily and weekly limits.
 */
import { agentsRepo } from '../db/agents-repo.js';
import { commandsRepo } from '../db/commands-repo.js';
import { switchesRepo } from '../db/switches-repo.js';
import { addSeconds, FINAL_COMMAND_STATUSES, pendingLifetimeSeconds } from '../domain/commands.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { dedupeId } from '../domain/notifications.js';
import type { Agent, Command, Mode, TriggerType } from '../domain/types.js';
import { commandStatusEvent } from '../feed.js';
import { MetricUnit, metrics } from '../observability.js';
import { Outbox } from '../outbox.js';

const inFlight = (message: string) => new ConflictError('COMMAND_IN_FLIGHT', message);

/** API.md §4.1 Switch details: 0 keeps the old instance (auto-terminate off), otherwise ≥ 1 s. */
export function terminateWaitSeconds(agent: Agent, requested?: number): number {
  if (requested !== undefined) return requested;
  if (!agent.config.auto_terminate_enabled) return 0;
  return Math.max(1, agent.config.terminate_wait_seconds);
}

export function buildSwitchCommand(
  agent: Agent,
  spec: {
    target_mode: Mode;
    target_pool_id: string | null;
    priority: number;
    trigger_type: TriggerType;
    created_by: string;
    reason: string | null;
    terminate_wait_seconds?: number;
  },
  now: Date,
  /** The request's idempotency scope: the command's id derives from it (see {@link queueSwitch}). */
  idempotencyScope?: string,
): Command {
  const at = now.toISOString();
  return {
    id: idempotencyScope ? dedupeId(`switch:${idempotencyScope}`) : newId(),
    agent_id: agent.id,
    client_id: agent.client_id,
    instance_id: agent.primary_instance_id,
    command_type: 'switch',
    target_mode: spec.target_mode,
    target_pool_id: spec.target_mode === 'spot' ? spec.target_pool_id : null,
    replica_id: null,
    terminate_wait_seconds: terminateWaitSeconds(agent, spec.terminate_wait_seconds),
    priority: spec.priority,
    status: 'pending',
    trigger_type: spec.trigger_type,
    created_by: spec.created_by,
    reason: spec.reason,
    created_at: at,
    delivered_at: null,
    completed_at: null,
    expires_at: addSeconds(at, pendingLifetimeSeconds(spec.trigger_type)),
    success: null,
    message: null,
    version: 1,
  };
}

/**
 * Queues `command` for its agent. A command in flight, or an open switch of equal or higher
 * priority, is 409 COMMAND_IN_FLIGHT; an open (still pending) switch of lower priority is
 * cancelled in the same transaction. The decision is re-made on a fresh read whenever the
 * conditional write loses a race, so of two concurrent callers exactly one wins. `loaded`: the agent
 * as the caller just read it (a consistent GetItem), used for the first attempt instead of a re-read.
 * `idempotent`: the command's id derives from the request's idempotency key.
 */
export async function queueSwitch(
  command: Command,
  now: Date,
  loaded?: Agent,
  idempotent = false,
): Promise<{ command: Command; superseded: Command | null }> {
  const at = now.toISOString();
  // A command whose id derives from an idempotency key may exist already: the same request ran,
  // committed, and lost its answer (its lock expired, so the retry runs again). That is its answer.
  const existing = idempotent ? await commandsRepo.get(command.agent_id, command.id) : undefined;
  if (existing) return { command: existing, superseded: null };
  for (let attempt = 0; attempt < 5; attempt++) {
    const agent = attempt === 0 && loaded ? loaded : await agentsRepo.get(command.agent_id);
    if (!agent || agent.status === 'deleted') throw new NotFoundError('agent', 'AGENT_DELETED');
    if (agent.inflight_command_id) throw inFlight('a command is in flight for this agent');
    let supersede: Command | null = null;
    const slot = agent.open_switch_id ?? null;
    if (slot) {
      const open = await commandsRepo.get(agent.id, slot);
      if (open && !FINAL_COMMAND_STATUSES.has(open.status)) {
        if (open.status !== 'pending') throw inFlight('a switch command is in flight for this agent');
        if (open.priority >= command.priority) {
          throw inFlight(`a switch of priority ${open.priority} is already open (command ${open.id})`);
        }
        supersede = open;
      }
      // Otherwise the slot names a finished (or vanished) command: it counts as empty.
    }
    const records = new Outbox().event(
      ...(supersede ? [commandStatusEvent(supersede, 'cancelled', now)] : []),
      commandStatusEvent(command, 'pending', now),
    );
    if (await switchesRepo.openSwitch(command, slot, supersede, at, records.parts())) {
      metrics.addMetric('SwitchQueued', MetricUnit.Count, 1);
      await records.committed();
      return { command, superseded: supersede };
    }
  }
  throw inFlight('the agent kept changing while the switch was queued; retry');
}

/** Switches initiated in the last day / week against the agent's limits. */
export async function switchLimitReached(agent: Agent, now: Date): Promise<string | null> {
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000).toISOString();
  const dayAgo = new Date(now.getTime() - 86_400_000).toISOString();
  const recent = await switchesRepo.listByAgent(agent.id, weekAgo);
  const day = recent.filter((s) => s.initiated_at >= dayAgo).length;
  if (day >= agent.config.max_switches_per_day) return `daily switch limit reached (${day}/${agent.config.max_switches_per_day})`;
  if (recent.length >= agent.config.max_switches_per_week) {
    return `weekly switch limit reached (${recent.length}/${agent.config.max_switches_per_week})`;
  }
  return null;
}
