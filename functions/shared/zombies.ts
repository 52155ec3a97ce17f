import { commandsRepo } from './db/commands-repo.js';
import { instancesRepo } from './db/instances-repo.js';
import { TransactionConflict, transact } from './db/transaction.js';
import { addSeconds, pendingLifetimeSeconds, PRIORITY } from './domain/commands.js';
import { dedupeId } from './domain/notifications.js';
import type { Agent, Command, Instance, TriggerType } from './domain/types.js';
import { commandStatusEvent } from './feed.js';
import type { NotifyInput } from './notify.js';
import { Outbox } from './outbox.js';

/** API.md §4.1: `terminate_instance` is only sent to agents of version 5.0.0 or later. */
export function acceptsTerminateCommand(agent: Pick<Agent, 'agent_version' | 'status'> | undefined): boolean {
  if (!agent || agent.status === 'deleted') return false;
  const major = Number.parseInt((agent.agent_version ?? '').replace(/^v/i, '').split('.')[0] ?? '', 10);
  return Number.isFinite(major) && major >= 5;
}

export interface ZombieOutcome {
  instance_id: string;
  /** `terminated`: marked TERMINATED (unconfirmed) now; `skipped`: no longer a ZOMBIE. */
  status: 'terminated' | 'skipped';
  command_queued: boolean;
}

/**
 * Retires one ZOMBIE: the instance becomes TERMINATED with `termination_confirmed: false` (API.md
 * §6), and, if its agent is ≥ 5.0.0, a `terminate_instance` command is queued so the agent really
 * terminates the EC2 instance (its termination-report then confirms). A v4.x agent cannot receive
 * that command (§4.1) and no longer lists a TERMINATED instance in instances-to-terminate, so for it
 * the EC2 instance must be terminated by the client: the caller raises a warning.
 *
 * Safe to repeat: the role change is conditioned on the instance still being a ZOMBIE, and the
 * command id is derived from the instance id (create-if-absent), so a retry queues nothing twice.
 */
export async function retireZombie(
  agent: Agent | undefined,
  zombie: Instance,
  now: Date,
  options: { trigger: Extract<TriggerType, 'manual' | 'scheduled'>; createdBy: string; reason: string; notify?: NotifyInput },
): Promise<ZombieOutcome> {
  const at = now.toISOString();
  // The role change commits with its feed event and the caller's notification.
  const records = new Outbox().event({
    clientId: zombie.client_id,
    type: 'instance_role_changed',
    data: { instance_id: zombie.id, agent_id: zombie.agent_id, from: 'ZOMBIE', to: 'TERMINATED', reason: options.reason },
    now,
  });
  if (options.notify) records.notify(options.notify);
  let status: ZombieOutcome['status'] = 'terminated';
  try {
    await transact([
      instancesRepo.changeRoleTx(zombie, 'TERMINATED', at, { expect: { role: 'ZOMBIE' }, set: { terminated_at: at, termination_confirmed: false } }),
      ...records.parts(),
    ]);
  } catch (err) {
    if (!(err instanceof TransactionConflict && err.failedOn('instance'))) throw err;
    status = 'skipped'; // no longer a ZOMBIE (terminated or promoted meanwhile)
  }
  if (status === 'terminated') await records.committed();
  let queued = false;
  if (agent && acceptsTerminateCommand(agent)) queued = await queueTerminate(agent, zombie, now, options);
  return { instance_id: zombie.id, status, command_queued: queued };
}

async function queueTerminate(
  agent: Agent,
  zombie: Instance,
  now: Date,
  options: { trigger: Extract<TriggerType, 'manual' | 'scheduled'>; createdBy: string; reason: string },
): Promise<boolean> {
  const at = now.toISOString();
  const command: Command = {
    id: dedupeId(`terminate_instance:${zombie.id}`),
    agent_id: agent.id,
    client_id: agent.client_id,
    instance_id: zombie.id,
    command_type: 'terminate_instance',
    target_mode: null,
    target_pool_id: null,
    replica_id: null,
    terminate_wait_seconds: 0,
    priority: options.trigger === 'manual' ? PRIORITY.manual : PRIORITY.scheduled,
    status: 'pending',
    trigger_type: options.trigger,
    created_by: options.createdBy,
    reason: options.reason,
    created_at: at,
    delivered_at: null,
    completed_at: null,
    expires_at: addSeconds(now, pendingLifetimeSeconds(options.trigger)),
    success: null,
    message: null,
    version: 1,
  };
  const records = new Outbox().event(commandStatusEvent(command, 'pending', now));
  if (!(await commandsRepo.create(command, records.parts()))) return false; // already queued once
  await records.committed();
  return true;
}
