import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { healthInstanceIds, MalformedEventError, parseEc2Event } from '../../../functions/ec2-events/schemas.js';
import { healthScheduledChange, instanceStateChange, rebalanceRecommendation, spotInterruptionWarning } from '../../support/factories.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const fixture = (name: string): unknown => JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8'));

describe('EC2 event schemas (shapes as AWS documents them)', () => {
  it('parses the documented fixture files', () => {
    expect(parseEc2Event(fixture('ec2-spot-interruption-warning.json'))).toMatchObject({
      kind: 'spot-interruption',
      event: { detail: { 'instance-id': 'i-0f1e2d3c4b5a69788', 'instance-action': 'terminate' } },
    });
    expect(parseEc2Event(fixture('spot-interruption-warning.json')).kind).toBe('spot-interruption');
    expect(parseEc2Event(fixture('ec2-rebalance-recommendation.json')).kind).toBe('rebalance');
    expect(parseEc2Event(fixture('ec2-instance-state-terminated.json'))).toMatchObject({ kind: 'state-change', event: { detail: { state: 'terminated' } } });
    const health = parseEc2Event(fixture('aws-health-scheduled-change.json'));
    expect(health.kind).toBe('health');
    if (health.kind === 'health') expect(healthInstanceIds(health.event)).toEqual(['i-0f1e2d3c4b5a69788']);
  });

  it('parses every factory shape, all interruption behaviours and states', () => {
    for (const action of ['terminate', 'stop', 'hibernate'] as const) {
      expect(parseEc2Event(spotInterruptionWarning({ action })).kind).toBe('spot-interruption');
    }
    for (const state of ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const) {
      expect(parseEc2Event(instanceStateChange({ state })).kind).toBe('state-change');
    }
    expect(parseEc2Event(rebalanceRecommendation()).kind).toBe('rebalance');
    expect(parseEc2Event(healthScheduledChange()).kind).toBe('health');
  });

  it("accepts the EC2 guide's state-change example verbatim (it has no version)", () => {
    const documented = {
      'id': '7bf73129-1428-4cd3-a780-95db273d1602',
      'detail-type': 'EC2 Instance State-change Notification',
      'source': 'aws.ec2',
      'account': '123456789012',
      'time': '2021-11-11T21:29:54Z',
      'region': 'us-east-1',
      'resources': ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
      'detail': { 'instance-id': 'i-abcd1111', 'state': 'pending' },
    };
    expect(parseEc2Event(documented)).toMatchObject({ kind: 'state-change', event: { detail: { state: 'pending' } } });
  });

  it('rejects malformed events with the failing paths', () => {
    const good = spotInterruptionWarning() as unknown as Record<string, unknown>;
    const cases: [unknown, string][] = [
      [null, '(root)'],
      [[good], '(root)'],
      [{ ...good, id: '' }, 'id'],
      [{ ...good, account: '12345' }, 'account'],
      [{ ...good, time: 'soon' }, 'time'],
      [{ ...good, resources: 'arn' }, 'resources'],
      [{ ...good, detail: { 'instance-id': 'i-xyz', 'instance-action': 'terminate' } }, 'detail.instance-id'],
      [{ ...good, detail: { 'instance-id': 'i-0123456789abcdef0', 'instance-action': 'reboot' } }, 'detail.instance-action'],
      [{ ...good, source: 'aws.health' }, 'source'],
      [{ ...(instanceStateChange() as unknown as Record<string, unknown>), detail: { 'instance-id': 'i-0123456789abcdef0', 'state': 'exploded' } }, 'detail.state'],
    ];
    for (const [event, path] of cases) {
      try {
        parseEc2Event(event);
        expect.unreachable(`accepted a malformed event (${path})`);
      } catch (err) {
        expect(err).toBeInstanceOf(MalformedEventError);
        expect((err as MalformedEventError).issues.map((i) => i.path)).toContain(path);
      }
    }
  });

  it('a well-formed event of another detail-type is classified as ignored, not malformed', () => {
    const other = { ...spotInterruptionWarning(), 'detail-type': 'EC2 Capacity Reservation Instance Interruption Warning' };
    expect(parseEc2Event(other).kind).toBe('ignored');
  });

  it('Health instance ids: affectedEntities first (ARNs accepted), else resources; non-instances dropped', () => {
    const base = healthScheduledChange({ instanceIds: ['i-0123456789abcdef0'] });
    const arn = { ...base, detail: { ...base.detail, affectedEntities: [{ entityValue: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0fedcba9876543210' }, { entityValue: 'vol-123' }] } };
    const parsedArn = parseEc2Event(arn);
    if (parsedArn.kind !== 'health') throw new Error('not health');
    expect(healthInstanceIds(parsedArn.event)).toEqual(['i-0fedcba9876543210']);
    const noEntities = { ...base, detail: { ...base.detail, affectedEntities: [] } };
    const parsed = parseEc2Event(noEntities);
    if (parsed.kind !== 'health') throw new Error('not health');
    expect(healthInstanceIds(parsed.event)).toEqual(['i-0123456789abcdef0']);
  });
});
