import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { commandsRepo } from '../../../../../functions/shared/db/commands-repo.js';
import { addSeconds, pendingLifetimeSeconds } from '../../../../../functions/shared/domain/commands.js';
import type { Command } from '../../../../../functions/shared/domain/types.js';
import { rebalanceRecommendation, spotInterruptionWarning } from '../../../../support/factories.js';
import { invoke } from '../../../../support/http.js';
import { commandsOf, incidentsOf, pendingCommands, seedPool, sendEvent, setupAgent, type TestAgent } from '../../../../support/interruption.js';

/** A switch queued by another route (manual force-switch: priority 75), written straight to the table. */
async function queueManualSwitch(agent: TestAgent, targetPool: string): Promise<Command> {
  const at = new Date().toISOString();
  const command: Command = {
    id: randomUUID(),
    agent_id: agent.agentId,
    client_id: agent.clientId,
    instance_id: agent.instanceId,
    command_type: 'switch',
    target_mode: 'spot',
    target_pool_id: targetPool,
    replica_id: null,
    terminate_wait_seconds: 300,
    priority: 75,
    status: 'pending',
    trigger_type: 'manual',
    created_by: 'test',
    reason: 'manual switch',
    created_at: at,
    delivered_at: null,
    completed_at: null,
    expires_at: addSeconds(at, pendingLifetimeSeconds('manual')),
    success: null,
    message: null,
    version: 1,
  };
  await commandsRepo.create(command);
  return command;
}

/** Plays the agent: polls until nothing is left, reporting every delivered command as executed. */
async function drain(agent: TestAgent): Promise<string[]> {
  const delivered: string[] = [];
  for (let i = 0; i < 6; i++) {
    const list = await pendingCommands(agent);
    const first = list[0] as { id: string } | undefined;
    if (!first) continue;
    // Only the first item is delivered (pending → acknowledged); the agent executes it.
    const stored = await commandsRepo.get(agent.agentId, first.id);
    if (stored?.status !== 'acknowledged') continue;
    delivered.push(first.id);
    await invoke('commands', 'POST', `/api/agents/${agent.agentId}/commands/${first.id}/executed`, {
      token: agent.token,
      body: { success: true },
    });
  }
  return delivered;
}

describe('a switch command racing an emergency', () => {
  it('a pending switch + the interruption + the agent polling, concurrently: exactly one command delivered', async () => {
    const token = (await setupAgent()).token;
    const outcomes: string[] = [];
    for (let trial = 0; trial < 8; trial++) {
      const agent = await setupAgent({ token, clientId: 'n/a' });
      const safe = await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.05);
      const manual = await queueManualSwitch(agent, safe);
      const event = spotInterruptionWarning({ instanceId: agent.instanceId });
      const [, firstPoll] = await Promise.all([sendEvent(event), pendingCommands(agent), sendEvent(event)]);
      const deliveredByFirstPoll = (firstPoll[0] as { id: string } | undefined)?.id;
      const firstDelivered = deliveredByFirstPoll ? await commandsRepo.get(agent.agentId, deliveredByFirstPoll) : undefined;
      const delivered = [...(firstDelivered?.delivered_at ? [firstDelivered.id] : []), ...(await drain(agent))];
      const uniqueDelivered = [...new Set(delivered)];
      expect(uniqueDelivered).toHaveLength(1);

      const [incident] = await incidentsOf(agent.agentId);
      const commands = await commandsOf(agent.agentId);
      const deliveredCommand = commands.find((c) => c.id === uniqueDelivered[0]);
      // The incident always names the command that moves the agent.
      expect(incident?.command_id).toBe(deliveredCommand?.id);
      if (deliveredCommand?.trigger_type === 'emergency') {
        // The emergency committed first: the manual switch was cancelled, the emergency delivered.
        expect(commands.find((c) => c.id === manual.id)?.status).toBe('cancelled');
        expect(deliveredCommand.priority).toBe(100);
        outcomes.push('emergency delivered');
      } else {
        // The poll committed first: the switch was already in flight; the emergency adopted it
        // instead of queueing a second one.
        expect(deliveredCommand?.id).toBe(manual.id);
        expect(incident?.action_taken).toBe('switch_in_flight');
        expect(commands.filter((c) => c.trigger_type === 'emergency')).toEqual([]);
        outcomes.push('in-flight switch adopted');
      }
    }
    expect(outcomes).toHaveLength(8);
  });

  it('a switch queued while the emergency is being handled is cancelled: only the emergency is delivered', async () => {
    const token = (await setupAgent()).token;
    for (let trial = 0; trial < 5; trial++) {
      const agent = await setupAgent({ token, clientId: 'n/a' });
      const safe = await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.05);
      await Promise.all([sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })), queueManualSwitch(agent, safe)]);
      const delivered = await drain(agent);
      expect(delivered).toHaveLength(1);
      const commands = await commandsOf(agent.agentId);
      const emergency = commands.find((c) => c.trigger_type === 'emergency');
      expect(delivered[0]).toBe(emergency?.id);
      expect(commands.find((c) => c.trigger_type === 'manual')?.status).toBe('cancelled');
    }
  });

  it('force-switch (the real route) racing the emergency: the emergency wins, one command delivered', async () => {
    const token = (await setupAgent()).token;
    const statuses: number[] = [];
    for (let trial = 0; trial < 5; trial++) {
      const agent = await setupAgent({ token, clientId: 'n/a' });
      const safe = await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.05);
      const [, forced] = await Promise.all([
        sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })),
        invoke('commands', 'POST', `/api/client/instances/${agent.instanceId}/force-switch`, {
          token,
          body: { target: 'pool', pool_id: safe },
        }),
      ]);
      statuses.push(forced.status);
      // Either queued first (then cancelled by the emergency) or refused: the emergency holds the switch slot.
      expect([202, 409]).toContain(forced.status);
      const delivered = await drain(agent);
      expect(delivered).toHaveLength(1);
      const commands = await commandsOf(agent.agentId);
      expect(commands.find((c) => c.id === delivered[0])?.trigger_type).toBe('emergency');
      expect(commands.filter((c) => c.trigger_type !== 'emergency').every((c) => c.status === 'cancelled')).toBe(true);
    }
    // After the emergency, the manual switch is refused outright: priority 75 < 100 holds the slot.
    const agent = await setupAgent({ token, clientId: 'n/a' });
    const safe = await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.05);
    await sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId }));
    const refused = await invoke<{ error: { code: string } }>('commands', 'POST', `/api/client/instances/${agent.instanceId}/force-switch`, {
      token,
      body: { target: 'pool', pool_id: safe },
    });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('COMMAND_IN_FLIGHT');
    expect(statuses).toHaveLength(5);
  });

  it('a rebalance switch racing the termination emergency: the emergency wins, one command delivered', async () => {
    const token = (await setupAgent()).token;
    for (let trial = 0; trial < 5; trial++) {
      const agent = await setupAgent({ token, clientId: 'n/a', config: { rebalance_policy: 'switch' } });
      await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.05);
      await Promise.all([
        sendEvent(rebalanceRecommendation({ instanceId: agent.instanceId })),
        sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })),
      ]);
      const delivered = await drain(agent);
      expect(delivered).toHaveLength(1);
      const commands = await commandsOf(agent.agentId);
      const deliveredCommand = commands.find((c) => c.id === delivered[0]);
      expect(deliveredCommand?.trigger_type).toBe('emergency');
      expect(commands.filter((c) => c.status !== 'cancelled' && c.id !== delivered[0])).toEqual([]);
    }
  });
});

describe('emergency switch target', () => {
  it('lowest risk, then cheapest; never the interrupted pool', async () => {
    const agent = await setupAgent({ az: 'us-east-1a' });
    const interrupted = await seedPool(agent.instanceType, 'us-east-1a', 0.01, 0.0); // safest and cheapest, but interrupted
    await seedPool(agent.instanceType, 'us-east-1b', 0.02, 0.2);
    const best = await seedPool(agent.instanceType, 'us-east-1c', 0.05, 0.1);
    await seedPool(agent.instanceType, 'us-east-1d', 0.04, 0.1);
    await seedPool(agent.instanceType, 'us-east-1e', 0.001, 0.9); // too risky
    await sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId }));
    const [command] = await commandsOf(agent.agentId);
    expect(command?.target_pool_id).not.toBe(interrupted);
    expect(command?.target_pool_id).toBe(`${agent.instanceType}.us-east-1d`);
    expect(best).not.toBe(command?.target_pool_id);
    expect(command).toMatchObject({ target_mode: 'spot', priority: 100, trigger_type: 'emergency', terminate_wait_seconds: 300 });
    // Pending emergencies expire after 10 minutes (API.md §4.1).
    expect(Date.parse(command?.expires_at ?? '') - Date.parse(command?.created_at ?? '')).toBe(600_000);
  });

  it('on-demand when no spot pool qualifies', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1a', 0.01, 0.0);
    await seedPool(agent.instanceType, 'us-east-1b', 0.02, 0.95);
    await sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId }));
    const [command] = await commandsOf(agent.agentId);
    expect(command).toMatchObject({ target_mode: 'ondemand', target_pool_id: null, priority: 100 });
  });

  it('the v4 agent sees the emergency switch first in pending-commands', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1b', 0.02, 0.1);
    await sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId }));
    const list = await pendingCommands(agent);
    expect(list[0]).toMatchObject({
      command_type: 'switch',
      priority: 100,
      trigger_type: 'emergency',
      target_mode: 'spot',
      target_pool_id: `${agent.instanceType}.us-east-1b`,
      instance_id: agent.instanceId,
      replica_id: null,
    });
    expect(Object.keys(list[0] ?? {}).sort()).toEqual(
      ['command_type', 'created_at', 'expires_at', 'id', 'instance_id', 'priority', 'replica_id', 'target_mode', 'target_pool_id', 'terminate_wait_seconds', 'trigger_type'].sort(),
    );
  });
});
