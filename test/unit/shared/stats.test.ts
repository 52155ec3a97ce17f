import { describe, expect, it } from 'vitest';
import type { CommandType, TriggerType } from '../../../functions/shared/domain/types.js';
import type { FeedEvent } from '../../../functions/shared/feed.js';
import { countersFor, downtimeSummary } from '../../../functions/shared/stats.js';

const switchCompleted = (data: Partial<Extract<FeedEvent, { type: 'switch_completed' }>['data']>): FeedEvent => ({
  type: 'switch_completed',
  data: {
    switch_id: 's',
    agent_id: 'a',
    old_instance_id: 'i-a',
    new_instance_id: 'i-b',
    trigger_type: 'model',
    savings_impact: null,
    downtime_seconds: null,
    ...data,
  },
});

describe('operational counters', () => {
  it('count switches by trigger with a downtime histogram, and failed switch commands', () => {
    expect(countersFor(switchCompleted({ trigger_type: 'manual', downtime_seconds: 7 }))).toEqual({
      hourly: { switches_total: 1, switches_manual: 1, downtime_count: 1, downtime_sum: 7, dt_le_10: 1 },
      maxDowntime: 7,
    });
    expect(countersFor(switchCompleted({ trigger_type: 'bogus' as TriggerType })).hourly).toEqual({ switches_total: 1 });
    const command = (command_type: CommandType) => ({ agent_id: 'a', command_id: 'c', command_type, status: 'failed' as const });
    expect(countersFor({ type: 'command_status_changed', data: command('switch') }).hourly).toEqual({ switches_failed: 1 });
    expect(countersFor({ type: 'command_status_changed', data: command('create_replica') }).hourly).toEqual({});
    const notification = { notification_id: 'n', type: 'price_alert', severity: 'info' as const, agent_id: null };
    expect(countersFor({ type: 'notification_created', data: notification }).hourly).toEqual({});
  });

  it('summarise downtime: average, p95 from the histogram (capped by the max seen), max', () => {
    const hour = (values: number[]) => {
      const acc: Record<string, number> = {};
      for (const v of values) {
        for (const [k, n] of Object.entries(countersFor(switchCompleted({ downtime_seconds: v })).hourly)) acc[k] = (acc[k] ?? 0) + n;
      }
      return { ...acc, downtime_max: Math.max(...values) };
    };
    const summary = downtimeSummary([hour(Array.from({ length: 19 }, () => 4)), hour([250])]);
    expect(summary).toEqual({ avg: (19 * 4 + 250) / 20, p95: 5, max: 250 });
    expect(downtimeSummary([hour([3, 1000])])).toEqual({ avg: 501.5, p95: 1000, max: 1000 });
    expect(downtimeSummary([])).toEqual({ avg: null, p95: null, max: null });
  });
});
