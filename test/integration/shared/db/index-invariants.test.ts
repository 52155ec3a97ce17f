import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ddb, tableName } from '../../../../functions/shared/db/client.js';
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
