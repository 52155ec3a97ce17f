import { describe, expect, it } from 'vitest';
import { handler as reconcilerHandler } from '../../../functions/jobs/replica-reconciler/handler.js';
import { reconcileReplicas } from '../../../functions/jobs/replica-reconciler/job.js';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { incidentsRepo } from '../../../functions/shared/db/incidents-repo.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { replicasRepo } from '../../../functions/shared/db/replicas-repo.js';
import { reportSignal } from '../../../functions/shared/flows/interruption/intake.js';
import { randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { commandsOf, configure, incidentsOf, launchedReplica, replicasOf, seedPool, setupAgent } from '../../support/interruption.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

/** Tests share one table: every run is limited to the test's own agent. */
const only = (agent: { agentId: string }) => ({ agentIds: new Set([agent.agentId]) });
const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);
const active = (status: string) => ['launching', 'syncing', 'ready'].includes(status);

describe('replica-reconciler (API.md §6)', () => {
  it('keeps one replica per manual-mode agent', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.1);
    await configure(agent.token, agent.agentId, { manual_replica_enabled: true });
    // Lose the replica without a replacement (test-only direct write).
    const [replica] = await replicasOf(agent.agentId);
    if (!replica) throw new Error('no manual replica');
    await replicasRepo.save({ ...replica, status: 'failed', is_active: false }, replica.version);
    await reconcileReplicas(new Date(), only(agent));
    const after = (await replicasOf(agent.agentId)).filter((r) => active(r.status));
    expect(after).toEqual([expect.objectContaining({ type: 'manual', status: 'launching' })]);
    // Idempotent: a second run creates nothing more.
    await reconcileReplicas(new Date(), only(agent));
    expect((await replicasOf(agent.agentId)).filter((r) => active(r.status))).toHaveLength(1);
  });

  it('recreates a manual placeholder stuck launching for more than 10 minutes', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.1);
    await configure(agent.token, agent.agentId, { manual_replica_enabled: true });
    const [stuck] = await replicasOf(agent.agentId);
    await reconcileReplicas(later(5), only(agent));
    expect((await replicasOf(agent.agentId)).map((r) => r.id)).toEqual([stuck?.id]);
    await reconcileReplicas(later(11), only(agent));
    const replicas = await replicasOf(agent.agentId);
    expect(replicas.find((r) => r.id === stuck?.id)).toMatchObject({ status: 'failed', is_active: false });
    const replacement = replicas.filter((r) => active(r.status));
    expect(replacement).toEqual([expect.objectContaining({ type: 'manual', status: 'launching' })]);
    expect(replacement[0]?.id).not.toBe(stuck?.id);
  });

  it('confirms terminations left unconfirmed for more than 24 h', async () => {
    const agent = await setupAgent();
    const replica = await launchedReplica(agent, 'ready');
    await invoke('replicas', 'DELETE', `/api/agents/${agent.agentId}/replicas/${replica.replicaId}`, { token: agent.token });
    await reconcileReplicas(later(60), only(agent));
    expect((await replicasRepo.get(agent.agentId, replica.replicaId))?.termination_confirmed).toBe(false);
    await reconcileReplicas(later(24 * 60 + 5), only(agent));
    expect((await replicasRepo.get(agent.agentId, replica.replicaId))?.termination_confirmed).toBe(true);
  });

  it('runs a pending promotion: the awaited replica became ready without the status route noticing', async () => {
    const agent = await setupAgent({ config: { manual_replica_enabled: true } });
    const [placeholder] = await replicasOf(agent.agentId);
    await invoke('emergency', 'POST', `/api/agents/${agent.agentId}/termination-imminent`, { token: agent.token, body: {} });
    const launched = randomInstanceId();
    await invoke('replicas', 'PUT', `/api/agents/${agent.agentId}/replicas/${placeholder?.id}`, { token: agent.token, body: { instance_id: launched } });
    // Ready written behind the routes' back (as if the trigger had been lost).
    const current = await replicasRepo.get(agent.agentId, placeholder?.id as string);
    if (!current) throw new Error('replica missing');
    await replicasRepo.save({ ...current, status: 'ready' }, current.version);
    expect((await agentsRepo.get(agent.agentId))?.primary_instance_id).toBe(agent.instanceId);
    const summary = await reconcileReplicas(new Date(), only(agent));
    expect(summary.pending_promotions).toBe(1);
    expect((await agentsRepo.get(agent.agentId))?.primary_instance_id).toBe(launched);
    expect((await incidentsOf(agent.agentId))[0]?.outcome).toBe('promoted');
  });

  it('takes over an incident whose handler died (lease expired) and handles it once', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.1);
    const instance = await instancesRepo.get(agent.instanceId);
    if (!instance) throw new Error('instance missing');
    // Open the incident without handling it: what a crash right after the conditional create leaves behind.
    const { created, incident } = await incidentsRepo.openOrAttach(
      {
        id: crypto.randomUUID(), agent_id: agent.agentId, client_id: instance.client_id, instance_id: instance.id,
        signal_type: 'termination', sources: ['eventbridge'], detected_at: new Date().toISOString(), deadline: later(2).toISOString(),
        action_taken: null, replica_id: null, command_id: null, outcome: 'open', failover_time_ms: null, resolved_at: null,
        instance_role: 'PRIMARY', instance_action: 'terminate', origin: 'test', event_ids: [], reports: 1, handled_at: null,
        handling_lease_until: new Date(Date.now() + 30_000).toISOString(), awaiting_replica_id: null, target_pool_id: null,
        target_mode: null, new_instance_id: null, risk_score: null, message: null, created_at: new Date().toISOString(), version: 1,
      },
      { source: 'eventbridge' },
      new Date(),
    );
    expect(created).toBe(true);
    // Within the lease nobody takes over; afterwards the reconciler (or any later report) does.
    expect((await reconcileReplicas(new Date(), only(agent))).incidents_taken_over).toBe(0);
    expect((await reconcileReplicas(later(1), only(agent))).incidents_taken_over).toBe(1);
    expect((await reconcileReplicas(later(1), only(agent))).incidents_taken_over).toBe(0);
    expect(await commandsOf(agent.agentId)).toHaveLength(1);
    // A later report attaches to the handled incident: nothing more happens.
    const again = await reportSignal({ instance, signal: 'termination', source: 'agent', origin: 'test', detectedAt: new Date().toISOString(), deadline: null }, later(2));
    expect(again).toMatchObject({ created: false, incident: expect.objectContaining({ id: incident.id, outcome: 'handled' }) });
    expect(await commandsOf(agent.agentId)).toHaveLength(1);
  });

  it('clears a rebalance notice once its 2 h window has passed', async () => {
    const agent = await setupAgent({ config: { rebalance_policy: 'monitor' } });
    await invoke('emergency', 'POST', `/api/agents/${agent.agentId}/rebalance-recommendation`, { token: agent.token, body: {} });
    expect((await agentsRepo.get(agent.agentId))?.notice_status).toBe('rebalance');
    await reconcileReplicas(later(60), only(agent));
    expect((await agentsRepo.get(agent.agentId))?.notice_status).toBe('rebalance');
    const summary = await reconcileReplicas(later(121), only(agent));
    expect(summary.notices_cleared).toBe(1);
    expect((await agentsRepo.get(agent.agentId))?.notice_status).toBe('none');
    expect((await reconcileReplicas(later(122), only(agent))).incidents_checked).toBe(0);
  });

  it('is a scheduled job every minute with its Lambda handler', async () => {
    // (Not invoked here: an unscoped run would reconcile the other test files' agents in the shared table.)
    expect(typeof reconcilerHandler).toBe('function');
    const { JOBS } = await import('../../../functions/jobs/job-table.js');
    expect(JOBS.find((j) => j.name === 'replica-reconciler')).toMatchObject({ dir: 'replica-reconciler', schedule: 'rate(1 minute)' });
  });
});
