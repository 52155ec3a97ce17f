import { ScanCommand, TransactGetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ddb, tableName } from '../../../../functions/shared/db/client.js';
import { keys } from '../../../../functions/shared/db/keys.js';
import { registerAgent, tenant } from '../../../support/seed.js';

/**
 * Index invariant checked over the whole test table (a test may Scan; request paths never do):
 * every instance sits in the GSI3 partition of its current role (keys.allInstancesIndex). Every
 * role change is one write, so the invariant holds at any moment, whatever other test files are
 * doing concurrently: the more flows ran before this scan (switch reports, promotions, replica
 * terminations, EC2 events, zombie retirement), the more it checks.
 */
describe('instance index invariant', () => {
  it('every instance item is in the INSTANCES#<role> partition of its role', async () => {
    const t = await tenant();
    await registerAgent(t.token, { logicalAgentId: t.agent.logicalAgentId }); // one ZOMBIE at least
    const wrong: string[] = [];
    let seen = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(
        new ScanCommand({
          TableName: tableName(),
          FilterExpression: 'entity = :instance',
          ExpressionAttributeValues: { ':instance': 'instance' },
          ProjectionExpression: 'id, #role, GSI3PK',
          ExpressionAttributeNames: { '#role': 'role' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        seen++;
        if (item.GSI3PK !== `INSTANCES#${String(item.role)}`) wrong.push(`${String(item.id)}: ${String(item.role)} in ${String(item.GSI3PK)}`);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(wrong).toEqual([]);
  });
});

/**
 * The agent's live item copies what the heartbeat decides on (agents-repo MIRRORED): every write of
 * those fields patches it in the same transaction. Read together atomically (TransactGetItems), an
 * agent and a complete live item (one a heartbeat wrote: it has `client_id`) always agree, and the
 * agent is in the online index exactly while it is online or switching.
 */
describe('agent live-item invariant', () => {
  it('every agent agrees with its live item, and is in the online index exactly while watched', async () => {
    const t = await tenant();
    await registerAgent(t.token, { logicalAgentId: t.agent.logicalAgentId });
    const agents: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(
        new ScanCommand({
          TableName: tableName(),
          FilterExpression: 'entity = :agent',
          ExpressionAttributeValues: { ':agent': 'agent' },
          ProjectionExpression: 'id',
          ExclusiveStartKey: start,
        }),
      );
      agents.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    expect(agents.length).toBeGreaterThanOrEqual(2);
    const wrong: string[] = [];
    for (const { id } of agents.slice(0, 400)) {
      const out = await ddb.send(
        new TransactGetCommand({
          TransactItems: [keys.agent(String(id)), keys.agentLive(String(id))].map((Key) => ({ Get: { TableName: tableName(), Key } })),
        }),
      );
      const [agent, live] = (out.Responses ?? []).map((r) => r.Item);
      if (!agent) continue;
      const watched = agent.status === 'online' || agent.status === 'switching';
      if (watched !== (agent.GSI3PK === keys.onlineAgentsIndex(String(id)).GSI3PK)) wrong.push(`${String(id)}: ${String(agent.status)} in ${String(agent.GSI3PK)}`);
      if (!live?.client_id) continue;
      for (const field of ['status', 'primary_instance_id', 'inflight_command_id', 'instance_type', 'az', 'current_mode']) {
        if ((agent[field] ?? null) !== (live[field] ?? null)) wrong.push(`${String(id)}.${field}: ${String(agent[field])} ≠ live ${String(live[field])}`);
      }
      if ((agent.config as { config_version?: number }).config_version !== live.config_version) wrong.push(`${String(id)}.config_version`);
    }
    expect(wrong).toEqual([]);
  });
});
