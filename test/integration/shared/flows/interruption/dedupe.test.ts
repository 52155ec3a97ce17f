import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminRepo } from '../../../../../functions/shared/db/admin-repo.js';
import { getItem } from '../../../../../functions/shared/db/conditions.js';
import { keys } from '../../../../../functions/shared/db/keys.js';
import { healthScheduledChange, instanceStateChange, rebalanceRecommendation, spotInterruptionWarning } from '../../../../support/factories.js';
import { invoke } from '../../../../support/http.js';
import { commandsOf, incidentsOf, notificationsOf, seedPool, sendEvent, setupAgent, shuffle } from '../../../../support/interruption.js';

/**
 * API.md §5 deduplication: reports of one interruption — EventBridge (any multiplicity, any order) and
 * the agent's own notice routes — become ONE incident per (instance, signal), ONE command, ONE
 * notification, also when they all arrive at the same time.
 */
describe('one incident per interruption', () => {
  it('3 EventBridge deliveries + the agent, concurrently → one incident, one command, one notification', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1b', 0.03, 0.1);
    const event = spotInterruptionWarning({ instanceId: agent.instanceId });
    const results = await Promise.all([
      sendEvent(event),
      sendEvent(event),
      sendEvent(event),
      invoke('emergency', 'POST', `/api/agents/${agent.agentId}/termination-imminent`, {
        token: agent.token,
        body: { instance_id: agent.instanceId, termination_time: new Date(Date.now() + 120_000).toISOString() },
      }),
    ]);
    const agentReply = results[3] as { status: number; json: Record<string, unknown> };
    expect(agentReply.status).toBe(200);

    const incidents = await incidentsOf(agent.agentId);
    expect(incidents).toHaveLength(1);
    const [incident] = incidents;
    expect(incident?.signal_type).toBe('termination');
    expect(incident?.sources.sort()).toEqual(['agent', 'eventbridge']);
    expect(incident?.outcome).toBe('handled');
    expect(incident?.action_taken).toBe('emergency_switch');

    const commands = await commandsOf(agent.agentId);
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({
      command_type: 'switch',
      priority: 100,
      trigger_type: 'emergency',
      status: 'pending',
      target_mode: 'spot',
      target_pool_id: `${agent.instanceType}.us-east-1b`,
    });
    expect(incident?.command_id).toBe(commands[0]?.id);

    const notifications = (await notificationsOf(agent.clientId, agent.agentId)).filter((n) => n.type === 'emergency_termination');
    expect(notifications).toHaveLength(1);

    // The agent learned the shared outcome: keep running and execute the emergency switch.
    expect(agentReply.json).toMatchObject({
      success: false,
      action: 'no_replica',
      emergency_event_id: incident?.id,
      target_pool_id: `${agent.instanceType}.us-east-1b`,
    });
  });

  it('any order and multiplicity of EventBridge events (distinct ids) and agent reports, across agents', async () => {
    const token = (await setupAgent()).token;
    for (let round = 0; round < 4; round++) {
      const agent = await setupAgent({ token, clientId: 'unused' });
      await seedPool(agent.instanceType, 'us-east-1d', 0.02, 0.05);
      const deliveries: (() => Promise<unknown>)[] = [
        () => sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })),
        () => sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })),
        () => sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })),
        () =>
          invoke('emergency', 'POST', `/api/agents/${agent.agentId}/termination-notice`, {
            token,
            body: { instance_id: agent.instanceId, time: new Date().toISOString() },
          }),
        () =>
          invoke('emergency', 'POST', `/api/agents/${agent.agentId}/create-emergency-replica`, {
            token,
            body: { signal_type: 'termination-notice', instance_id: agent.instanceId },
          }),
      ];
      // Half the rounds concurrently, half one after the other, always shuffled.
      const ordered = shuffle(deliveries);
      if (round % 2 === 0) await Promise.all(ordered.map((d) => d()));
      else for (const d of ordered) await d();

      const incidents = await incidentsOf(agent.agentId);
      expect(incidents.filter((i) => i.signal_type === 'termination')).toHaveLength(1);
      const emergencyCommands = (await commandsOf(agent.agentId)).filter((c) => c.trigger_type === 'emergency');
      expect(emergencyCommands).toHaveLength(1);
      expect(incidents[0]?.reports).toBe(5);
    }
  });

  it('rebalance: EventBridge twice + rebalance-recommendation + its alias → one incident within 2 h', async () => {
    const agent = await setupAgent({ config: { rebalance_policy: 'monitor' } });
    const replies = await Promise.all([
      sendEvent(rebalanceRecommendation({ instanceId: agent.instanceId })),
      sendEvent(rebalanceRecommendation({ instanceId: agent.instanceId })),
      invoke('emergency', 'POST', `/api/agents/${agent.agentId}/rebalance-recommendation`, {
        token: agent.token,
        body: { instance_id: agent.instanceId, detected_at: new Date().toISOString() },
      }),
      invoke('emergency', 'POST', `/api/agents/${agent.agentId}/rebalance-notice`, {
        token: agent.token,
        body: { instance_id: agent.instanceId, notice_time: new Date().toISOString() },
      }),
    ]);
    const incidents = await incidentsOf(agent.agentId);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ signal_type: 'rebalance', reports: 4, outcome: 'handled', action_taken: 'monitor' });
    const agentReply = replies[2] as { json: Record<string, unknown> };
    const aliasReply = replies[3] as { json: Record<string, unknown> };
    expect(agentReply.json.emergency_event_id).toBe(incidents[0]?.id);
    expect(aliasReply.json.emergency_event_id).toBe(incidents[0]?.id);
  });

  it('rebalance: a new incident once the 2 h window has passed', async () => {
    const agent = await setupAgent({ config: { rebalance_policy: 'monitor' } });
    const { reportSignal } = await import('../../../../../functions/shared/flows/interruption/intake.js');
    const { instancesRepo } = await import('../../../../../functions/shared/db/instances-repo.js');
    const instance = await instancesRepo.get(agent.instanceId);
    if (!instance) throw new Error('instance missing');
    const t0 = new Date();
    const report = (at: Date) =>
      reportSignal({ instance, signal: 'rebalance', source: 'eventbridge', origin: 'test', detectedAt: at.toISOString(), deadline: null }, at);
    const first = await report(t0);
    const again = await report(new Date(t0.getTime() + 3600_000));
    const later = await report(new Date(t0.getTime() + 2 * 3600_000 + 1000));
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.incident.id).toBe(first.incident.id);
    expect(later.created).toBe(true);
    expect(later.incident.id).not.toBe(first.incident.id);
    expect(await incidentsOf(agent.agentId)).toHaveLength(2);
  });

  it('a warning and a state change of the same instance are two signals: one incident each', async () => {
    const agent = await setupAgent({ config: { auto_switch_enabled: false } });
    await Promise.all([
      sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })),
      sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'shutting-down' })),
      sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'terminated' })),
      sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'terminated' })),
    ]);
    const incidents = await incidentsOf(agent.agentId);
    expect(incidents.map((i) => i.signal_type).sort()).toEqual(['instance_terminated', 'termination']);
  });

  it('an AWS Health scheduled change weeks ahead is advance warning (rebalance); one starting now is a termination', async () => {
    const far = await setupAgent({ config: { rebalance_policy: 'monitor' } });
    const near = await setupAgent({ config: { auto_switch_enabled: false } });
    const farEvent = healthScheduledChange({ instanceIds: [far.instanceId] });
    await sendEvent(farEvent);
    await sendEvent({ ...farEvent, id: randomUUID() }); // a second page / update of the same change
    await sendEvent(healthScheduledChange({ instanceIds: [near.instanceId], startTime: new Date(Date.now() + 60_000) }));
    expect((await incidentsOf(far.agentId)).map((i) => i.signal_type)).toEqual(['rebalance']);
    expect((await incidentsOf(near.agentId)).map((i) => [i.signal_type, i.outcome])).toEqual([['termination', 'no_replica']]);
  });

  it('EventBridge duplicates are dropped by event id after the first delivery', async () => {
    const agent = await setupAgent({ config: { rebalance_policy: 'monitor' } });
    const event = rebalanceRecommendation({ instanceId: agent.instanceId });
    const first = await sendEvent(event);
    const second = await sendEvent(event);
    expect(first.status).toBe('processed');
    expect(second.status).toBe('duplicate');
    const record = await getItem<{ status: string; ttl: number }>(keys.eventDedupe(event.id));
    expect(record?.status).toBe('done');
    // Kept 7 days.
    expect(record?.ttl).toBeGreaterThan(Date.now() / 1000 + 6.9 * 86_400);
    expect(record?.ttl).toBeLessThan(Date.now() / 1000 + 7.1 * 86_400);
    // system-health learns that events arrive.
    expect(await adminRepo.ec2EventsLastReceivedAt()).not.toBeNull();
  });
});
