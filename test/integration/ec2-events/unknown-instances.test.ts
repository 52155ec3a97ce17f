import { describe, expect, it } from 'vitest';
import { MalformedEventError } from '../../../functions/ec2-events/schemas.js';
import { getItem } from '../../../functions/shared/db/conditions.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { instanceStateChange, randomInstanceId, spotInterruptionWarning } from '../../support/factories.js';
import { incidentsOf, recordDynamoCalls, sendEvent, setupAgent, WRITE_COMMANDS } from '../../support/interruption.js';

describe('events for instances this installation does not own', () => {
  it('an unknown instance: counted and logged, nothing written, not an error', async () => {
    const event = spotInterruptionWarning({ instanceId: randomInstanceId() });
    const { result, calls } = await recordDynamoCalls(() => sendEvent(event));
    expect(result.status).toBe('unknown_instance');
    expect(calls.filter((c) => WRITE_COMMANDS.has(c))).toEqual([]);
    // Instance → agent is one indexed lookup: a single GetItem answers "unknown".
    expect(calls).toEqual(['GetItemCommand']);
    expect(await getItem(keys.eventDedupe(event.id))).toBeUndefined();
  });

  it('an account the owning client did not allow: nothing written', async () => {
    const agent = await setupAgent({ awsAccountIds: ['111111111111'] });
    const event = spotInterruptionWarning({ instanceId: agent.instanceId, account: '222222222222' });
    const { result, calls } = await recordDynamoCalls(() => sendEvent(event));
    expect(result.status).toBe('foreign_account');
    expect(calls.filter((c) => WRITE_COMMANDS.has(c))).toEqual([]);
    expect(await incidentsOf(agent.agentId)).toEqual([]);
    // The allowed account is acted on.
    const allowed = await sendEvent(spotInterruptionWarning({ instanceId: agent.instanceId, account: '111111111111' }));
    expect(allowed.status).toBe('processed');
  });

  it('a malformed event fails (so EventBridge retries it into the DLQ) and writes nothing', async () => {
    const agent = await setupAgent();
    const bad = spotInterruptionWarning({ instanceId: agent.instanceId }) as unknown as Record<string, unknown>;
    const malformed = [
      { ...bad, detail: { 'instance-id': agent.instanceId, 'instance-action': 'explode' } },
      { ...bad, detail: { 'instance-action': 'terminate' } },
      { ...bad, account: 'not-an-account' },
      { ...bad, time: 'yesterday' },
      { ...bad, id: undefined },
      'not even an object',
    ];
    for (const event of malformed) {
      const { calls } = await recordDynamoCalls(() => expect(sendEvent(event)).rejects.toBeInstanceOf(MalformedEventError));
      expect(calls).toEqual([]);
    }
    expect(await incidentsOf(agent.agentId)).toEqual([]);
  });

  it('a well-formed event of a kind not acted on is ignored without error', async () => {
    const agent = await setupAgent();
    const pending = await sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'pending' }));
    expect(pending.status).toBe('ignored');
    const other = await sendEvent({
      ...spotInterruptionWarning({ instanceId: agent.instanceId }),
      'detail-type': 'EC2 Capacity Reservation Instance Interruption Warning',
    });
    expect(other.status).toBe('ignored');
    expect(await incidentsOf(agent.agentId)).toEqual([]);
  });
});
