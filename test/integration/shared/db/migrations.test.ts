/**
 * An installation upgraded onto an existing table: agents stored before the sharded indexes and the
 * live item are moved by the migration (a Query of the old partition), by their own next heartbeat,
 * and read correctly meanwhile.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { agentsRepo } from '../../../../functions/shared/db/agents-repo.js';
import { ddb, tableName } from '../../../../functions/shared/db/client.js';
import { getItem, stripKeys } from '../../../../functions/shared/db/conditions.js';
import { keys } from '../../../../functions/shared/db/keys.js';
import { migrateAgentsToShardedIndexes } from '../../../../functions/shared/db/migrations.js';
import { createClientInProcess } from '../../../support/factories.js';
import { invoke } from '../../../support/http.js';
import { useIsolatedTable } from '../../../support/isolated-table.js';
import { registerAgent } from '../../../support/seed.js';

useIsolatedTable();

/** Rewrites a registered agent as the previous release stored it: one item, unsharded keys, no live item. */
async function asLegacy(agentId: string, lastHeartbeatAt: string): Promise<void> {
  const item = (await getItem(keys.agent(agentId))) as Record<string, unknown>;
  const { GSI3PK: _p, GSI3SK: _s, ...rest } = item;
  const watched = item.status === 'online' || item.status === 'switching';
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...rest,
        GSI1PK: `CLIENT#${String(item.client_id)}#AGENTS`,
        GSI2PK: 'AGENTS',
        ...(watched ? { GSI3PK: 'AGENTS#ONLINE', GSI3SK: lastHeartbeatAt } : {}),
        last_heartbeat_at: lastHeartbeatAt,
        accrued_until: lastHeartbeatAt,
      },
    }),
  );
  const { DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
  await ddb.send(new DeleteCommand({ TableName: tableName(), Key: keys.agentLive(agentId) }));
}

describe('migrating agents to the sharded indexes', () => {
  it('moves every agent of the old partition once, creates its live item, and keeps its data', async () => {
    const c = await createClientInProcess();
    const agents = [await registerAgent(c.token), await registerAgent(c.token), await registerAgent(c.token)];
    const seen = '2030-01-01T00:00:00.000Z';
    for (const a of agents) await asLegacy(a.agentId, seen);
    expect(await agentsRepo.listAllByClient(c.client.id)).toEqual([]); // invisible to the sharded readers

    expect(await migrateAgentsToShardedIndexes({ dryRun: true })).toEqual({ found: 3, rekeyed: 0, liveCreated: 0 });
    expect(await migrateAgentsToShardedIndexes()).toEqual({ found: 3, rekeyed: 3, liveCreated: 3 });
    const listed = await agentsRepo.listAllByClient(c.client.id);
    expect(listed.map((a) => a.id).sort()).toEqual(agents.map((a) => a.agentId).sort());
    for (const a of listed) expect(a).toMatchObject({ last_heartbeat_at: seen, accrued_until: seen });
    const live = stripKeys((await getItem(keys.agentLive(agents[0]?.agentId as string))) ?? {});
    expect(live).toMatchObject({ client_id: c.client.id, status: 'online', last_heartbeat_at: seen });
    expect((await agentsRepo.listOnline()).map((a) => a.id)).toEqual(expect.arrayContaining([agents[0]?.agentId, agents[1]?.agentId]));

    // Again: nothing left to move.
    expect((await migrateAgentsToShardedIndexes()).rekeyed).toBe(0);
  });

  it("a legacy agent's own heartbeat moves it before any migration ran", async () => {
    const c = await createClientInProcess();
    const a = await registerAgent(c.token);
    await asLegacy(a.agentId, new Date().toISOString());
    const hb = await invoke<{ status: string }>('agents', 'POST', `/api/agents/${a.agentId}/heartbeat`, {
      token: c.token,
      body: { status: 'online', instance_id: a.instanceId },
    });
    expect(hb.json.status).toBe('online');
    expect((await agentsRepo.listAllByClient(c.client.id)).map((x) => x.id)).toEqual([a.agentId]);
    expect((await getItem(keys.agent(a.agentId)))?.GSI3PK).toBe(keys.onlineAgentsIndex(a.agentId).GSI3PK);
  });
});
