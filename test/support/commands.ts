import { randomUUID } from 'node:crypto';
import { addSeconds, pendingLifetimeSeconds } from '../../functions/shared/domain/commands.js';
import type { Command, TriggerType } from '../../functions/shared/domain/types.js';

/** The trigger a server flow uses for a priority (API.md §4.1): 100 emergency, 75 manual, else model. */
export const triggerForPriority = (priority: number): TriggerType =>
  priority >= 100 ? 'emergency' : priority >= 75 ? 'manual' : 'model';

/**
 * A pending switch command as a server flow queues it (defaults + overrides), for tests that need
 * commands without going through the switch routes (those have their own suites).
 */
export function pendingCommand(
  owner: { agentId: string; clientId: string; instanceId?: string | null },
  o: Partial<Command> & { createdAt?: Date } = {},
): Command {
  const { createdAt = new Date(), ...overrides } = o;
  const priority = overrides.priority ?? 25;
  const trigger = overrides.trigger_type ?? triggerForPriority(priority);
  return {
    id: randomUUID(),
    agent_id: owner.agentId,
    client_id: owner.clientId,
    instance_id: owner.instanceId ?? null,
    command_type: 'switch',
    target_mode: 'ondemand',
    target_pool_id: null,
    replica_id: null,
    terminate_wait_seconds: 300,
    priority,
    status: 'pending',
    trigger_type: trigger,
    created_by: 'test',
    reason: null,
    created_at: createdAt.toISOString(),
    delivered_at: null,
    completed_at: null,
    expires_at: addSeconds(createdAt, pendingLifetimeSeconds(trigger)),
    success: null,
    message: null,
    version: 1,
    ...overrides,
  };
}
