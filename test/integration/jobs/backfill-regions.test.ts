import { randomBytes, randomUUID } from 'node:crypto';
import {
  DescribeSpotPriceHistoryCommand,
  type DescribeSpotPriceHistoryCommandInput,
  EC2Client,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { backfillSpotPrices } from '../../../functions/jobs/pricing-consolidation/backfill.js';
import { pricesRepo } from '../../../functions/shared/db/prices-repo.js';
import { createClientInProcess, randomInstanceId } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

/**
 * The backfill (and the consolidation it runs) covers every region where a client has
 * agents, not only the stack's own — including pools no pricing report has named yet.
 */
useIsolatedTable();
const ec2 = mockClient(EC2Client);
afterAll(() => ec2.restore());

async function agentIn(token: string, instanceType: string, az: string): Promise<void> {
  const res = await invoke('agents', 'POST', '/api/agents/register', {
    token,
    body: {
      logical_agent_id: `backfill-${randomUUID()}`,
      instance_id: randomInstanceId(),
      instance_type: instanceType,
      region: az.slice(0, -1),
      az,
      hostname: 'worker',
      agent_version: '4.0.0',
      mode: 'spot',
    },
  });
  expect(res.status).toBe(201);
}

describe('backfill without an explicit pool list', () => {
  it('asks EC2 in each region where agents run, with a client of that region, and consolidates every pool', async () => {
    const type = `zq${randomBytes(3).toString('hex')}.large`;
    const { token } = await createClientInProcess({ max_agents: 10 });
    await agentIn(token, type, 'us-east-1a');
    await agentIn(token, type, 'eu-west-1b');
    await agentIn(token, type, 'sa-east-1c');

    const start = new Date('2041-05-01T00:00:00.000Z');
    const end = new Date('2041-05-01T03:00:00.000Z');
    const now = new Date('2041-05-02T00:00:00.000Z');
    const sent: { region: string; input: DescribeSpotPriceHistoryCommandInput }[] = [];
    ec2.on(DescribeSpotPriceHistoryCommand).callsFake(async (input: DescribeSpotPriceHistoryCommandInput, getClient: () => EC2Client) => {
      sent.push({ region: await getClient().config.region(), input });
      return {
        SpotPriceHistory: [
          { AvailabilityZone: input.AvailabilityZone, InstanceType: type as _InstanceType, ProductDescription: 'Linux/UNIX', SpotPrice: '0.041000', Timestamp: start },
        ],
        NextToken: '',
      };
    });

    const summary = await backfillSpotPrices(now, { start, end });

    expect(sent.map((s) => [s.region, s.input.AvailabilityZone, s.input.InstanceTypes]).sort()).toEqual([
      ['eu-west-1', 'eu-west-1b', [type]],
      ['sa-east-1', 'sa-east-1c', [type]],
      ['us-east-1', 'us-east-1a', [type]],
    ]);
    expect(summary).toMatchObject({ pools_with_records: 3, request_series: 3 });
    for (const az of ['us-east-1a', 'eu-west-1b', 'sa-east-1c']) {
      const poolId = `${type}.${az}`;
      expect(await pricesRepo.getPool(poolId), az).toMatchObject({ region: az.slice(0, -1), price: 0.041 });
      const hours = await pricesRepo.listCanonical(poolId, start.toISOString(), end.toISOString());
      expect(hours, az).toHaveLength(3);
    }
  });
});
