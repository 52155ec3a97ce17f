/**
 * EC2 signals of another region and another account, forwarded by the ForwarderStack
 * to the control plane bus, open the incident for the right agent. EventBridge forwards an event
 * unchanged (its `id`, `account` and `region` stay the original ones); the test checks that the
 * forwarder's and the main stack's rule patterns both match it, then hands it to the real
 * ec2-events handler against DynamoDB Local with a control plane account of its own.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EC2_EVENT_PATTERNS } from '../../lib/constructs/interruption-rules.js';
import { createClientInProcess, healthScheduledChange, randomInstanceId, spotInterruptionWarning } from '../support/factories.js';
import { invoke } from '../support/http.js';
import { incidentsOf, pendingCommands, recordDynamoCalls, sendEvent, WRITE_COMMANDS } from '../support/interruption.js';

const CONTROL_PLANE_ACCOUNT = '999999999999';
const FLEET_ACCOUNT = '111111111111';
const OTHER_ACCOUNT = '222222222222';
const FLEET_REGION = 'eu-west-1';

let previousStackAccount: string | undefined;
beforeAll(() => {
  // The deployed consumer knows its own account (STACK_ACCOUNT); forwarded events come from others.
  previousStackAccount = process.env.STACK_ACCOUNT;
  process.env.STACK_ACCOUNT = CONTROL_PLANE_ACCOUNT;
});
afterAll(() => {
  if (previousStackAccount === undefined) delete process.env.STACK_ACCOUNT;
  else process.env.STACK_ACCOUNT = previousStackAccount;
});

/** EventBridge pattern matching for the forms our patterns use: arrays of exact values and nested objects. */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) return expected.includes(actual);
    return typeof actual === 'object' && actual !== null && matches(expected as Record<string, unknown>, actual as Record<string, unknown>);
  });
}
/** EC2_EVENT_PATTERNS in EventBridge's own key spelling (`detail-type`), as both stacks synthesize them. */
const rulePatterns = Object.values(EC2_EVENT_PATTERNS).map(({ detailType, ...rest }) => ({ 'detail-type': detailType, ...rest }));
const matchedByRules = (event: object) => rulePatterns.filter((p) => matches(p, event as Record<string, unknown>)).length;

/** A client (optionally pinning its accounts) with one spot agent registered from the fleet region. */
async function fleetAgent(awsAccountIds?: string[]) {
  const { client, token } = await createClientInProcess(awsAccountIds ? { aws_account_ids: awsAccountIds } : {});
  const instanceId = randomInstanceId();
  const res = await invoke<{ agent_id: string }>('agents', 'POST', '/api/agents/register', {
    token,
    body: {
      logical_agent_id: `eu-${randomUUID()}`,
      instance_id: instanceId,
      instance_type: 'm5.large',
      region: FLEET_REGION,
      az: `${FLEET_REGION}b`,
      hostname: 'eu-worker',
      agent_version: '4.0.0',
      mode: 'spot',
    },
  });
  expect(res.status).toBe(201);
  return { clientId: client.id, token, agentId: res.json.agent_id, instanceId };
}

describe('a forwarded event from another region and account', () => {
  it('opens the incident for the agent that owns the instance, and only for it', async () => {
    const owner = await fleetAgent([FLEET_ACCOUNT]);
    const bystander = await fleetAgent([FLEET_ACCOUNT]);
    const event = spotInterruptionWarning({ instanceId: owner.instanceId, account: FLEET_ACCOUNT, region: FLEET_REGION });
    // Both the forwarder's rule (in eu-west-1 of the fleet account) and the control plane's rule match it.
    expect(matchedByRules(event)).toBe(1);
    expect(event.resources[0]).toBe(`arn:aws:ec2:${FLEET_REGION}:${FLEET_ACCOUNT}:instance/${owner.instanceId}`);

    const summary = await sendEvent(event);
    expect(summary).toMatchObject({ status: 'processed', event_id: event.id });
    expect(summary.instances).toEqual([
      expect.objectContaining({ instance_id: owner.instanceId, status: 'processed', signal: 'termination', created: true }),
    ]);

    const [incident] = await incidentsOf(owner.agentId);
    expect(incident).toMatchObject({
      agent_id: owner.agentId,
      client_id: owner.clientId,
      instance_id: owner.instanceId,
      signal_type: 'termination',
      sources: ['eventbridge'],
      event_ids: [event.id],
    });
    // The agent in eu-west-1 gets its priority-100 emergency command on its next poll.
    const commands = await pendingCommands(owner);
    expect(commands).toEqual([expect.objectContaining({ priority: 100 })]);
    expect(await incidentsOf(bystander.agentId)).toEqual([]);
    expect(await pendingCommands(bystander)).toEqual([]);

    // The same event forwarded twice (two forwarders, or a retry) is deduplicated on its id.
    expect((await sendEvent(event)).status).toBe('duplicate');
    expect(await incidentsOf(owner.agentId)).toHaveLength(1);
  });

  it('from an account the owning client did not list: nothing written', async () => {
    const owner = await fleetAgent([FLEET_ACCOUNT]);
    const event = spotInterruptionWarning({ instanceId: owner.instanceId, account: OTHER_ACCOUNT, region: FLEET_REGION });
    const { result, calls } = await recordDynamoCalls(() => sendEvent(event));
    expect(result.status).toBe('foreign_account');
    expect(calls.filter((c) => WRITE_COMMANDS.has(c))).toEqual([]);
    expect(await incidentsOf(owner.agentId)).toEqual([]);
  });

  it('for a client that lists no accounts: attributed by the instance alone', async () => {
    const owner = await fleetAgent();
    const event = spotInterruptionWarning({ instanceId: owner.instanceId, account: OTHER_ACCOUNT, region: 'ap-southeast-2' });
    expect((await sendEvent(event)).status).toBe('processed');
    expect(await incidentsOf(owner.agentId)).toEqual([expect.objectContaining({ instance_id: owner.instanceId })]);
  });

  it('a Health scheduled change is checked against the affected account (organizational view)', async () => {
    const owner = await fleetAgent([FLEET_ACCOUNT]);
    const start = new Date(Date.now() + 5 * 60_000).toUTCString();
    const viaOrg = healthScheduledChange({
      instanceIds: [owner.instanceId],
      account: OTHER_ACCOUNT, // the organization's management account received it
      region: FLEET_REGION,
      detail: { startTime: start, affectedAccount: FLEET_ACCOUNT } as never,
    });
    expect(matchedByRules(viaOrg)).toBe(1);
    expect((await sendEvent(viaOrg)).status).toBe('processed');
    expect(await incidentsOf(owner.agentId)).toEqual([expect.objectContaining({ signal_type: 'termination' })]);
  });
});
