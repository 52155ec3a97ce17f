import { pendingCommand } from '../../support/commands.js';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { timeOutStaleAgents } from '../../../functions/jobs/agent-heartbeat-timeout/job.js';
import { expireCommands } from '../../../functions/jobs/command-expiry/job.js';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import { notificationsRepo } from '../../../functions/shared/db/notifications-repo.js';
import type { TriggerType } from '../../../functions/shared/domain/types.js';
import { runJob } from '../../../functions/shared/jobs/create-job-handler.js';
import { registerAgentInProcess } from '../../support/agents.js';
import { createClientInProcess } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

describe('agent-heartbeat-timeout job', () => {
  it('marks agents silent for more than 120 s offline, once, with one notification', async () => {
    const c = await createClientInProcess();
    const silent = await registerAgentInProcess(c.token);
    const alive = await registerAgentInProcess(c.token);
    const later = new Date(Date.now() + 121_000);
    // The live agent heartbeats "just now" relative to the job's clock.
    await agentsRepo.recordHeartbeat(alive.agentId, 'online', new Date(later.getTime() - 5_000).toISOString(), {});

    await timeOutStaleAgents(later);
    expect((await agentsRepo.get(silent.agentId))?.status).toBe('offline');
    expect((await agentsRepo.get(alive.agentId))?.status).toBe('online');
    // A second run finds nothing more to do and does not notify again.
    await timeOutStaleAgents(new Date(later.getTime() + 60_000));
    const notes = (await notificationsRepo.list(c.client.id, 50)).items.filter((n) => n.type === 'agent_offline');
    expect(notes.map((n) => n.agent_id)).toEqual([silent.agentId]);

    // A heartbeat brings it back online.
    const hb = await invoke<{ status: string }>('agents', 'POST', `/api/agents/${silent.agentId}/heartbeat`, {
      token: c.token,
      body: { status: 'online' },
    });
    expect(hb.json.status).toBe('online');
  });

  it('runs under a lease: a concurrent run is skipped', async () => {
    const job = `lease-test-${randomUUID()}`;
    let release: () => void = () => {};
    let started: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      started = resolve;
    });
    const slow = runJob(job, () => {
      started();
      return new Promise((resolve) => {
        release = () => resolve({});
      });
    });
    await holding; // the first run holds the lease now
    const second = await runJob(job, async () => ({ ran: true }));
    expect(second.status).toBe('skipped');
    release();
    expect((await slow).status).toBe('ok');
    expect((await runJob(job, async () => ({ ran: true }))).status).toBe('ok');
  });
});

const command = (agentId: string, clientId: string, trigger: TriggerType, createdAt: Date) =>
  pendingCommand({ agentId, clientId }, { trigger_type: trigger, priority: trigger === 'emergency' ? 100 : 25, createdAt });

describe('command-expiry job', () => {
  it('expires pending commands after their lifetime and delivered ones without a result', async () => {
    const c = await createClientInProcess();
    const agent = await registerAgentInProcess(c.token);
    const t0 = new Date();
    const emergency = command(agent.agentId, c.client.id, 'emergency', t0);
    const model = command(agent.agentId, c.client.id, 'model', t0);
    await commandsRepo.create(emergency);
    await commandsRepo.create(model);

    // 11 minutes later the emergency command (10 min) has expired, the model one (1 h) has not.
    await expireCommands(new Date(t0.getTime() + 11 * 60_000));
    expect((await commandsRepo.get(agent.agentId, emergency.id))?.status).toBe('expired');
    expect((await commandsRepo.get(agent.agentId, model.id))?.status).toBe('pending');

    // Delivered, then silent for terminate_wait_seconds + 30 min: expired, and the slot is freed.
    const polled = await invoke<{ id: string }[]>('commands', 'GET', `/api/agents/${agent.agentId}/pending-commands`, {
      token: c.token,
    });
    expect(polled.json[0]?.id).toBe(model.id);
    expect((await agentsRepo.get(agent.agentId))?.inflight_command_id).toBe(model.id);
    await expireCommands(new Date(Date.now() + (300 + 31 * 60) * 1000));
    expect((await commandsRepo.get(agent.agentId, model.id))?.status).toBe('expired');
    expect((await agentsRepo.get(agent.agentId))?.inflight_command_id).toBeUndefined();
    // A late result for an expired command is refused.
    const late = await invoke('commands', 'POST', `/api/agents/${agent.agentId}/commands/${model.id}/executed`, {
      token: c.token,
      body: { success: true },
    });
    expect(late.status).toBe(409);
  });
});
