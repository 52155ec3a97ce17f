import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { timeOutStaleAgents } from '../../../functions/jobs/agent-heartbeat-timeout/job.js';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { notificationsRepo } from '../../../functions/shared/db/notifications-repo.js';
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
    await agentsRepo.update(alive.agentId, { set: { last_heartbeat_at: new Date(later.getTime() - 5_000).toISOString() } });

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
