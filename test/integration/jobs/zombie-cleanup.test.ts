import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { cleanUpZombies, zombieRetentionDays } from '../../../functions/jobs/zombie-cleanup/job.js';
import { ddb, tableName } from '../../../functions/shared/db/client.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { runJob } from '../../../functions/shared/jobs/create-job-handler.js';
import { createClientInProcess } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { registerAgent } from '../../support/seed.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

/** Moves an instance's creation and zombie time into the past (its GSI3 sort key included). */
async function backdate(instanceId: string, createdAt: string, zombieSince: string) {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.instance(instanceId),
      UpdateExpression: 'SET created_at = :c, zombie_since = :z, GSI3SK = :sk',
      ExpressionAttributeValues: { ':c': createdAt, ':z': zombieSince, ':sk': `${createdAt}#${instanceId}` },
    }),
  );
}

/** An agent whose first instance has become a ZOMBIE (it moved to a second instance). */
async function agentWithZombie(token: string, agentVersion: string) {
  const first = await registerAgent(token, { agentVersion });
  const second = await registerAgent(token, { logicalAgentId: first.logicalAgentId, agentVersion });
  return { agentId: first.agentId, zombieId: first.instanceId, primaryId: second.instanceId };
}

describe('zombie-cleanup job', () => {
  it('retires ZOMBIEs past retention (unconfirmed, one warning each); v5 agents also get terminate_instance', async () => {
    const { token } = await createClientInProcess();
    const v4 = await agentWithZombie(token, '4.0.0');
    const v5 = await agentWithZombie(token, '5.0.0');
    const young = await agentWithZombie(token, '4.0.0');
    await backdate(v4.zombieId, '2001-01-01T00:00:00.000Z', '2001-01-02T00:00:00.000Z');
    await backdate(v5.zombieId, '2001-01-01T00:00:00.000Z', '2001-01-02T00:00:00.000Z');
    // Created long ago, but a ZOMBIE only since yesterday: inside retention.
    await backdate(young.zombieId, '2001-01-01T00:00:00.000Z', new Date(Date.now() - 86_400_000).toISOString());

    const now = new Date();
    const summary = await cleanUpZombies(now);
    expect(summary.terminated as number).toBeGreaterThanOrEqual(2);
    expect(await instancesRepo.get(v4.zombieId)).toMatchObject({ role: 'TERMINATED', termination_confirmed: false, terminated_at: now.toISOString() });
    expect(await instancesRepo.get(v5.zombieId)).toMatchObject({ role: 'TERMINATED', termination_confirmed: false });
    expect((await instancesRepo.get(young.zombieId))?.role).toBe('ZOMBIE');
    expect((await instancesRepo.get(v4.primaryId))?.role).toBe('PRIMARY');
    expect(await commandsRepo.listPending(v5.agentId)).toEqual([
      expect.objectContaining({ command_type: 'terminate_instance', instance_id: v5.zombieId, trigger_type: 'scheduled', priority: 10 }),
    ]);
    expect(await commandsRepo.listPending(v4.agentId)).toEqual([]);

    const list = await invoke<{ notifications: Array<{ type: string; severity: string; message: string }> }>('notifications', 'GET', '/api/notifications', { token });
    const warnings = list.json.notifications.filter((n) => n.type === 'zombie_retired');
    expect(warnings).toHaveLength(2);
    expect(warnings.every((n) => n.severity === 'warning')).toBe(true);
    expect(warnings.map((n) => n.message).join(' ')).toContain(v4.zombieId);

    // Idempotent: a second run changes nothing of this client's.
    await cleanUpZombies(new Date(now.getTime() + 60_000));
    const again = await invoke<{ notifications: Array<{ type: string }> }>('notifications', 'GET', '/api/notifications', { token });
    expect(again.json.notifications.filter((n) => n.type === 'zombie_retired')).toHaveLength(2);
    expect(await commandsRepo.listPending(v5.agentId)).toHaveLength(1);
  });

  it('runs under its lease as the zombie-cleanup job and reads its retention from the environment', async () => {
    const outcome = await runJob('zombie-cleanup', (now) => cleanUpZombies(now, 30), new Date(Date.now() + 3_600_000));
    expect(['ok', 'skipped']).toContain(outcome.status);
    expect(zombieRetentionDays({ ZOMBIE_RETENTION_DAYS: '7' })).toBe(7);
    expect(zombieRetentionDays({ ZOMBIE_RETENTION_DAYS: 'x' })).toBe(30);
    expect(zombieRetentionDays({})).toBe(30);
  });
});
