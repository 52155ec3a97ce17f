import { describe, expect, it } from 'vitest';
import { failoverRow, pageOf, primaryPeriods, replicaOverhead } from '../../functions/insights/service.js';
import type { Incident } from '../../functions/shared/domain/incidents.js';
import type { Command, Replica } from '../../functions/shared/domain/types.js';

const H = 3_600_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');
const at = (h: number) => new Date(T0 + h * H).toISOString();
const window = { fromMs: T0, toMs: T0 + 48 * H };

const replica = (over: Partial<Replica>): Replica =>
  ({ id: 'r1', instance_id: 'i-0abc', status: 'ready', hourly_cost: 0.04, created_at: at(0), launched_at: at(1), terminated_at: null, ...over }) as
  Replica;

describe('savings by cause: replica overhead', () => {
  it('costs hourly price × running hours inside the window', () => {
    const overhead = replicaOverhead(replica({ terminated_at: at(11) }), new Map(), window, new Date(T0 + 100 * H));
    expect(overhead).toEqual({ hours: 10, cost: 0.4 });
  });

  it('stops at the promotion (from then on the ledger counts the instance as the PRIMARY)', () => {
    const r = replica({ status: 'promoted' });
    expect(replicaOverhead(r, new Map([['r1', at(5)]]), window, new Date(T0 + 100 * H)).hours).toBe(4);
    expect(replicaOverhead(r, new Map(), window, new Date(T0 + 100 * H)).hours).toBe(0);
  });

  it('clips to the window; a placeholder never launched costs nothing', () => {
    expect(replicaOverhead(replica({ launched_at: at(-10) }), new Map(), window, new Date(T0 + 60 * H)).hours).toBe(48);
    expect(replicaOverhead(replica({ instance_id: 'replica-0a1b2c3d', launched_at: null }), new Map(), window, new Date(T0 + 10 * H))).toEqual({ hours: 0, cost: 0 });
  });
});

describe('pools: PRIMARY periods from the lifecycle log', () => {
  it('opens on became_primary/promoted and closes on zombie, replica or terminated', () => {
    const events = [
      { event_type: 'registered' as const, timestamp: at(0) },
      { event_type: 'became_primary' as const, timestamp: at(0) },
      { event_type: 'became_zombie' as const, timestamp: at(5) },
      { event_type: 'promoted' as const, timestamp: at(8) },
    ];
    expect(primaryPeriods(events, true, T0 + 10 * H)).toEqual([[T0, T0 + 5 * H], [T0 + 8 * H, T0 + 10 * H]]);
    expect(primaryPeriods(events, false, T0 + 10 * H)).toEqual([[T0, T0 + 5 * H], [T0 + 8 * H, T0 + 8 * H]]);
  });
});

describe('failover latency of one interruption', () => {
  const incident = (over: Partial<Incident>): Incident =>
    ({ id: 'x', agent_id: 'a', instance_id: 'i', signal_type: 'termination', outcome: 'open', replica_id: null, command_id: null, failover_time_ms: null, resolved_at: null, detected_at: '2026-12-04T10:00:00.000Z', deadline: '2026-12-04T10:02:00.000Z', ...over }) as Incident;

  it('replica path: notice → promotion from the incident, time left before the reclaim', () => {
    const row = failoverRow(incident({ outcome: 'promoted', replica_id: 'r', failover_time_ms: 850, resolved_at: '2026-12-04T10:00:00.850Z' }), undefined);
    expect(row).toMatchObject({ path: 'replica', notice_to_command_ms: null, command_to_promotion_ms: null, notice_to_promotion_ms: 850, time_left_ms: 119_150 });
  });

  it('command path: notice → command → the switch completing', () => {
    const command = { created_at: '2026-12-04T10:00:00.400Z', status: 'completed', completed_at: '2026-12-04T10:01:30.400Z' } as Command;
    const row = failoverRow(incident({ outcome: 'handled', command_id: 'c' }), command);
    expect(row).toMatchObject({ path: 'command', notice_to_command_ms: 400, command_to_promotion_ms: 90_000, notice_to_promotion_ms: 90_400, time_left_ms: 29_600 });
    const late = failoverRow(incident({ outcome: 'handled', command_id: 'c' }), { ...command, completed_at: '2026-12-04T10:03:00.000Z' });
    expect(late.time_left_ms).toBe(-60_000);
    expect(failoverRow(incident({ outcome: 'handled', command_id: 'c' }), { ...command, status: 'pending', completed_at: null }).promoted_at).toBeNull();
  });
});

describe('offset pages', () => {
  it('pages through a list with an opaque token and refuses a forged one', () => {
    const first = pageOf([1, 2, 3, 4, 5], 2);
    expect(first.items).toEqual([1, 2]);
    const second = pageOf([1, 2, 3, 4, 5], 2, first.nextToken ?? undefined);
    expect(second.items).toEqual([3, 4]);
    expect(pageOf([1, 2, 3, 4, 5], 2, second.nextToken ?? undefined)).toEqual({ items: [5], nextToken: null });
    expect(() => pageOf([1], 2, 'bm9wZQ')).toThrow(/nextToken/);
  });
});
