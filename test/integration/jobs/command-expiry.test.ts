import { pendingCommand } from '../../support/commands.js';
import { describe, expect, it } from 'vitest';
import { expireCommands } from '../../../functions/jobs/command-expiry/job.js';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import type { TriggerType } from '../../../functions/shared/domain/types.js';
import { registerAgentInProcess } from '../../support/agents.js';
import { createClientInProcess } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

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
