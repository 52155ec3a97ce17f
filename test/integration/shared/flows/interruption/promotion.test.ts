import { describe, expect, it } from 'vitest';
import { agentsRepo } from '../../../../../functions/shared/db/agents-repo.js';
import { instancesRepo } from '../../../../../functions/shared/db/instances-repo.js';
import { instanceStateChange, spotInterruptionWarning } from '../../../../support/factories.js';
import { invoke } from '../../../../support/http.js';
import { commandsOf, incidentsOf, instancesOf, launchedReplica, notificationsOf, replicasOf, sendEvent, setupAgent, shuffle } from '../../../../support/interruption.js';

/** Roles read with consistent GetItems (the index only lists the agent's instances). */
const consistentInstances = async (agentId: string) =>
  (await Promise.all((await instancesOf(agentId)).map((i) => instancesRepo.get(i.id)))).filter((i) => i !== undefined);
const primariesOf = async (agentId: string) => (await consistentInstances(agentId)).filter((i) => i.role === 'PRIMARY');

describe('promotion: exactly one PRIMARY, guaranteed by conditions', () => {
  it('20 concurrent promotions of different replicas of one agent → exactly one PRIMARY', async () => {
    const agent = await setupAgent();
    const replicas = [];
    for (let i = 0; i < 20; i++) replicas.push(await launchedReplica(agent, 'ready', { type: 'manual' }));
    const replies = await Promise.all(
      replicas.map((r) =>
        invoke<Record<string, unknown>>('replicas', 'POST', `/api/agents/${agent.agentId}/replicas/${r.replicaId}/promote`, {
          token: agent.token,
          body: {},
        }),
      ),
    );
    const won = replies.filter((r) => r.status === 200);
    const lost = replies.filter((r) => r.status !== 200);
    expect(won.length).toBeGreaterThanOrEqual(1);
    for (const r of lost) {
      expect(r.status).toBe(409);
      expect((r.json as { error: { code: string } }).error.code).toBe('VERSION_CONFLICT');
    }
    const primaries = await primariesOf(agent.agentId);
    expect(primaries).toHaveLength(1);
    const stored = await agentsRepo.get(agent.agentId);
    expect(stored?.primary_instance_id).toBe(primaries[0]?.id);
    // Every winner's replica is promoted; the PRIMARY is the last winner's instance.
    const promoted = (await replicasOf(agent.agentId)).filter((r) => r.status === 'promoted');
    expect(promoted.length).toBe(won.length);
    expect(promoted.map((r) => r.instance_id)).toContain(primaries[0]?.id);
    // Nobody lost an instance: 1 PRIMARY + one ZOMBIE per winning promotion + the replicas that stayed.
    const roles = (await consistentInstances(agent.agentId)).map((i) => i.role);
    expect(roles.filter((r) => r === 'ZOMBIE')).toHaveLength(won.length);
    expect(roles.filter((r) => r === 'REPLICA')).toHaveLength(20 - won.length);
  });

  it('spot interruption with a ready replica: promoted at once, old PRIMARY TERMINATED (auto-terminate on)', async () => {
    const agent = await setupAgent();
    const replica = await launchedReplica(agent, 'ready');
    const event = spotInterruptionWarning({ instanceId: agent.instanceId });
    const summary = await sendEvent(event);
    expect(summary.instances[0]).toMatchObject({ outcome: 'promoted', action_taken: 'replica_promoted' });

    const stored = await agentsRepo.get(agent.agentId);
    expect(stored).toMatchObject({ primary_instance_id: replica.instanceId, notice_status: 'none' });
    const oldPrimary = await instancesRepo.get(agent.instanceId);
    expect(oldPrimary).toMatchObject({ role: 'TERMINATED', termination_confirmed: false });
    expect(await primariesOf(agent.agentId)).toHaveLength(1);
    // No command: the promotion was enough.
    expect(await commandsOf(agent.agentId)).toEqual([]);

    // The agent's notice arrives afterwards: it receives the outcome and stops itself.
    const reply = await invoke<Record<string, unknown>>('emergency', 'POST', `/api/agents/${agent.agentId}/termination-imminent`, {
      token: agent.token,
      body: { instance_id: agent.instanceId },
    });
    expect(reply.json).toMatchObject({
      success: true,
      action: 'replica_promoted',
      new_instance_id: replica.instanceId,
      replica_id: replica.replicaId,
    });
    expect(typeof reply.json.failover_time_ms).toBe('number');
    const [incident] = await incidentsOf(agent.agentId);
    expect(incident).toMatchObject({ outcome: 'promoted', sources: expect.arrayContaining(['agent', 'eventbridge']) });

    // The old PRIMARY is handed to the agent for termination (unconfirmed TERMINATED instance).
    const list = await invoke<{ instances: { instance_id: string; reason: string }[] }>(
      'emergency',
      'GET',
      `/api/agents/${agent.agentId}/instances-to-terminate`,
      { token: agent.token },
    );
    expect(list.json.instances.map((i) => i.instance_id)).toEqual([agent.instanceId]);
    expect(list.json.instances[0]?.reason).toBe('zombie_timeout');
  });

  it('auto-terminate off: the old PRIMARY becomes a ZOMBIE; a syncing replica with an EC2 id is promoted', async () => {
    const agent = await setupAgent({ config: { auto_terminate_enabled: false } });
    const replica = await launchedReplica(agent, 'syncing');
    await sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId }));
    expect((await instancesRepo.get(agent.instanceId))?.role).toBe('ZOMBIE');
    expect((await agentsRepo.get(agent.agentId))?.primary_instance_id).toBe(replica.instanceId);
  });

  it('concurrent interruption reports with 5 ready replicas → one promotion, one PRIMARY', async () => {
    const agent = await setupAgent();
    for (let i = 0; i < 5; i++) await launchedReplica(agent, 'ready');
    const event = spotInterruptionWarning({ instanceId: agent.instanceId });
    await Promise.all([
      sendEvent(event),
      sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })),
      sendEvent(event),
      invoke('emergency', 'POST', `/api/agents/${agent.agentId}/termination-imminent`, { token: agent.token, body: {} }),
      invoke('emergency', 'POST', `/api/agents/${agent.agentId}/create-emergency-replica`, {
        token: agent.token,
        body: { signal_type: 'termination-notice', instance_id: agent.instanceId },
      }),
    ]);
    expect(await primariesOf(agent.agentId)).toHaveLength(1);
    expect((await replicasOf(agent.agentId)).filter((r) => r.status === 'promoted')).toHaveLength(1);
    expect(await incidentsOf(agent.agentId)).toHaveLength(1);
    expect(await commandsOf(agent.agentId)).toEqual([]);
  });

  it('no replica yet, auto-switch off, manual mode: waits for the replica and promotes it when it reports ready', async () => {
    const agent = await setupAgent({ config: { manual_replica_enabled: true } });
    const [placeholder] = await replicasOf(agent.agentId);
    expect(placeholder?.status).toBe('launching');
    const reply = await invoke<Record<string, unknown>>('emergency', 'POST', `/api/agents/${agent.agentId}/termination-imminent`, {
      token: agent.token,
      body: { instance_id: agent.instanceId },
    });
    expect(reply.json).toMatchObject({ success: false, action: 'awaiting_replica', replica_id: placeholder?.id });
    expect((await agentsRepo.get(agent.agentId))?.notice_status).toBe('termination');

    // The agent launches it (PUT, syncing) and reports ready: the pending promotion runs.
    const launched = 'i-0123456789abcdef0'.replace('0123', Math.floor(Math.random() * 9000 + 1000).toString());
    const put = await invoke('replicas', 'PUT', `/api/agents/${agent.agentId}/replicas/${placeholder?.id}`, {
      token: agent.token,
      body: { instance_id: launched, status: 'syncing' },
    });
    expect(put.status).toBe(200);
    expect((await agentsRepo.get(agent.agentId))?.primary_instance_id).toBe(agent.instanceId);
    const ready = await invoke('replicas', 'POST', `/api/agents/${agent.agentId}/replicas/${placeholder?.id}/status`, {
      token: agent.token,
      body: { status: 'ready' },
    });
    expect(ready.status).toBe(200);
    expect((await agentsRepo.get(agent.agentId))?.primary_instance_id).toBe(launched);
    const [incident] = await incidentsOf(agent.agentId);
    expect(incident).toMatchObject({ outcome: 'promoted', replica_id: placeholder?.id, new_instance_id: launched });
    expect(await primariesOf(agent.agentId)).toHaveLength(1);
  });

  it('nothing can be done (auto-switch off, no replica): no_replica and one critical notification', async () => {
    const agent = await setupAgent({ config: { auto_switch_enabled: false } });
    await sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId }));
    await sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId }));
    const [incident] = await incidentsOf(agent.agentId);
    expect(incident?.outcome).toBe('no_replica');
    const critical = (await notificationsOf(agent.clientId, agent.agentId)).filter((n) => n.severity === 'critical');
    expect(critical).toHaveLength(1);
    expect(await commandsOf(agent.agentId)).toEqual([]);
    const stored = await agentsRepo.get(agent.agentId);
    expect(stored?.notice_status).toBe('termination');
    expect(stored?.notice_deadline).toBe(incident?.deadline);
  });
});

describe('any order and multiplicity, state changes included', () => {
  it('warnings, state changes and the agent, shuffled and concurrent: one promotion, one PRIMARY, no command', async () => {
    const token = (await setupAgent()).token;
    for (let round = 0; round < 4; round++) {
      const agent = await setupAgent({ token, clientId: 'n/a' });
      const replica = await launchedReplica(agent, 'ready');
      const warning = spotInterruptionWarning({ instanceId: agent.instanceId });
      const reports = shuffle([
        () => sendEvent(warning),
        () => sendEvent(warning),
        () => sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })),
        () => sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'shutting-down' })),
        () => sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'terminated' })),
        () => invoke('emergency', 'POST', `/api/agents/${agent.agentId}/termination-imminent`, { token, body: { instance_id: agent.instanceId } }),
      ]);
      if (round % 2 === 0) await Promise.all(reports.map((r) => r()));
      else for (const r of reports) await r();
      const primaries = await primariesOf(agent.agentId);
      expect(primaries.map((p) => p.id)).toEqual([replica.instanceId]);
      expect((await replicasOf(agent.agentId)).filter((r) => r.status === 'promoted')).toHaveLength(1);
      expect(await commandsOf(agent.agentId)).toEqual([]);
      const incidents = await incidentsOf(agent.agentId);
      expect(incidents.map((i) => i.signal_type).sort()).toEqual(['instance_terminated', 'termination']);
      expect(await instancesRepo.get(agent.instanceId)).toMatchObject({ role: 'TERMINATED', termination_confirmed: true });
    }
  });

  it('without a replica: whatever the order, at most one command and never a PRIMARY left on the dead instance', async () => {
    const token = (await setupAgent()).token;
    for (let round = 0; round < 4; round++) {
      const agent = await setupAgent({ token, clientId: 'n/a' });
      const reports = shuffle([
        () => sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })),
        () => sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })),
        () => sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'terminated' })),
        () => invoke('emergency', 'POST', `/api/agents/${agent.agentId}/termination-imminent`, { token, body: {} }),
      ]);
      if (round % 2 === 0) await Promise.all(reports.map((r) => r()));
      else for (const r of reports) await r();
      expect(await primariesOf(agent.agentId)).toEqual([]);
      expect((await agentsRepo.get(agent.agentId))?.status).toBe('error');
      const commands = await commandsOf(agent.agentId);
      expect(commands.length).toBeLessThanOrEqual(1);
      // Nobody is left to execute it: a queued emergency switch is cancelled with the instance.
      expect(commands.every((c) => c.status === 'cancelled')).toBe(true);
    }
  });
});

describe('instance terminated (state change)', () => {
  it('the PRIMARY terminated without a ready replica: agent error, pending commands cancelled, critical notification', async () => {
    const agent = await setupAgent();
    await sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId })); // queues the emergency switch
    await sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'terminated' }));
    const stored = await agentsRepo.get(agent.agentId);
    expect(stored).toMatchObject({ status: 'error', primary_instance_id: null });
    expect(await instancesRepo.get(agent.instanceId)).toMatchObject({ role: 'TERMINATED', termination_confirmed: true });
    expect((await commandsOf(agent.agentId)).map((c) => c.status)).toEqual(['cancelled']);
    const incidents = await incidentsOf(agent.agentId);
    expect(incidents.find((i) => i.signal_type === 'instance_terminated')?.outcome).toBe('no_replica');
    expect(incidents.find((i) => i.signal_type === 'termination')?.outcome).toBe('failed');
    expect((await notificationsOf(agent.clientId, agent.agentId)).filter((n) => n.severity === 'critical')).toHaveLength(1);
    expect(await primariesOf(agent.agentId)).toHaveLength(0);
  });

  it('the PRIMARY terminated with a ready replica: promoted, old instance TERMINATED (confirmed)', async () => {
    const agent = await setupAgent({ config: { auto_switch_enabled: false } });
    const replica = await launchedReplica(agent, 'ready');
    await sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'shutting-down' }));
    expect((await agentsRepo.get(agent.agentId))?.primary_instance_id).toBe(replica.instanceId);
    expect(await instancesRepo.get(agent.instanceId)).toMatchObject({ role: 'TERMINATED', termination_confirmed: true });
  });

  it('POST /termination from the PRIMARY is treated like an EC2 termination', async () => {
    const agent = await setupAgent();
    const replica = await launchedReplica(agent, 'ready');
    const res = await invoke<Record<string, unknown>>('agents', 'POST', `/api/agents/${agent.agentId}/termination`, {
      token: agent.token,
      body: { reason: 'shutdown', instance_id: agent.instanceId },
    });
    expect(res.status).toBe(200);
    expect((await agentsRepo.get(agent.agentId))?.primary_instance_id).toBe(replica.instanceId);
    const [incident] = await incidentsOf(agent.agentId);
    expect(incident).toMatchObject({ signal_type: 'instance_terminated', outcome: 'promoted', sources: ['agent'] });
  });

  it('a REPLICA interrupted in manual mode: terminated, and a replacement placeholder is requested', async () => {
    const agent = await setupAgent({ config: { manual_replica_enabled: true } });
    const [placeholder] = await replicasOf(agent.agentId);
    const launched = `i-${'a'.repeat(9)}${Math.floor(Math.random() * 1e8).toString(16).padStart(8, '0')}`;
    await invoke('replicas', 'PUT', `/api/agents/${agent.agentId}/replicas/${placeholder?.id}`, {
      token: agent.token,
      body: { instance_id: launched },
    });
    await sendEvent(spotInterruptionWarning({ instanceId: launched }));
    const replicas = await replicasOf(agent.agentId);
    expect(replicas.find((r) => r.id === placeholder?.id)).toMatchObject({ status: 'terminated', termination_confirmed: false });
    const active = replicas.filter((r) => ['launching', 'syncing', 'ready'].includes(r.status));
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ type: 'manual', status: 'launching' });
    // EC2 then confirms: the replica's termination is confirmed and its instance TERMINATED.
    await sendEvent(instanceStateChange({ instanceId: launched, state: 'terminated' }));
    expect((await replicasOf(agent.agentId)).find((r) => r.id === placeholder?.id)?.termination_confirmed).toBe(true);
    expect((await instancesRepo.get(launched))?.role).toBe('TERMINATED');
    expect((await replicasOf(agent.agentId)).filter((r) => r.status === 'launching')).toHaveLength(1);
  });
});
