import { describe, expect, it } from 'vitest';
import { heartbeatBucket } from '../../functions/admin/dashboards.js';
import { expectedPeriodSeconds } from '../../functions/admin/system-health.js';
import { parseCursor } from '../../functions/events/service.js';
import { crosses, metricOf } from '../../functions/shared/flows/pricing-alerts.js';
import { keys } from '../../functions/shared/db/keys.js';
import { searchEntryTx } from '../../functions/shared/db/search-repo.js';
import type { CommandType, TriggerType } from '../../functions/shared/domain/types.js';
import type { FeedEvent } from '../../functions/shared/feed.js';
import { countersFor, downtimeSummary } from '../../functions/shared/stats.js';
import { acceptsTerminateCommand } from '../../functions/shared/zombies.js';

describe('search index keys', () => {
  it('partition by the first two lower-cased characters and sort by the lower-cased name', () => {
    expect(keys.searchEntry('client', '  Acme Corp ', 'c1')).toEqual({ PK: 'SEARCH#client#ac', SK: 'acme corp#c1' });
    expect(keys.searchEntry('instance', 'Web-1', 'i-0abc')).toEqual({ PK: 'SEARCH#instance#we', SK: 'web-1#i-0abc' });
  });

  it('skips names too short to match a query and never puts one key twice in a transaction', () => {
    expect(searchEntryTx('agent', [[null, 'a'], ['x', 'a'], ['', 'a']])).toEqual([]);
    expect(searchEntryTx('instance', [['web-1', 'i-1'], ['WEB-1', 'i-1']])).toHaveLength(1);
  });

  it('files instances under their role (GSI3) so zombie-cleanup and active counts read one partition', () => {
    expect(keys.allInstancesIndex('ZOMBIE', '2025-01-01T00:00:00.000Z', 'i-1')).toEqual({
      GSI3PK: 'INSTANCES#ZOMBIE',
      GSI3SK: '2025-01-01T00:00:00.000Z#i-1',
    });
  });
});

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

describe('pricing alert conditions', () => {
  const pool = { pool_id: 'p', price: 0.03, on_demand_price: 0.04, risk_score: 0.8, interruptions_30d: 4 };
  it('compare each alert type with its pool metric', () => {
    expect(crosses('spot_price_above', 0.02, pool)).toBe(true);
    expect(crosses('spot_price_below', 0.02, pool)).toBe(false);
    expect(metricOf('savings_below_percent', pool)).toBeCloseTo(25);
    expect(crosses('savings_below_percent', 30, pool)).toBe(true);
    expect(crosses('pool_risk_above', 0.8, pool)).toBe(false);
    expect(crosses('interruption_rate_above', 3, pool)).toBe(true);
    expect(crosses('savings_below_percent', 30, { pool_id: 'p', price: 0.03 })).toBe(false); // no on-demand price
  });
});

describe('events cursor', () => {
  it('accepts feed cursors and ISO times, refuses anything else', () => {
    expect(parseCursor('2025-01-15T12:00:00.000Z#ab12', 'query.since')).toBe('2025-01-15T12:00:00.000Z#ab12');
    expect(parseCursor('2025-01-15T12:00:00', 'query.since')).toBe('2025-01-15T12:00:00.000Z');
    expect(parseCursor('2025-01-15T13:00:00+01:00', 'query.since')).toBe('2025-01-15T12:00:00.000Z');
    expect(() => parseCursor('garbage', 'query.since')).toThrow(/cursor/);
    expect(() => parseCursor('2025-99-99', 'query.since')).toThrow();
  });
});

describe('admin helpers', () => {
  it('derive each job’s period from its schedule', () => {
    expect(expectedPeriodSeconds('rate(1 minute)')).toBe(60);
    expect(expectedPeriodSeconds('rate(15 minutes)')).toBe(900);
    expect(expectedPeriodSeconds('rate(12 hours)')).toBe(43_200);
    expect(expectedPeriodSeconds('cron(0 3 * * ? *)')).toBe(86_400);
  });

  it('bucket heartbeats: under 60 s healthy, 60–120 s degraded, over 120 s (or never) critical', () => {
    const now = new Date('2025-01-01T00:02:00.000Z');
    expect(heartbeatBucket('2025-01-01T00:01:30.000Z', now)).toBe('healthy');
    expect(heartbeatBucket('2025-01-01T00:01:00.000Z', now)).toBe('degraded');
    expect(heartbeatBucket('2025-01-01T00:00:00.000Z', now)).toBe('degraded');
    expect(heartbeatBucket('2024-12-31T23:59:59.000Z', now)).toBe('critical');
    expect(heartbeatBucket(null, now)).toBe('critical');
  });

  it('send terminate_instance only to live agents of version 5.0.0 or later', () => {
    expect(acceptsTerminateCommand({ agent_version: '5.0.0', status: 'online' })).toBe(true);
    expect(acceptsTerminateCommand({ agent_version: 'v6.1', status: 'offline' })).toBe(true);
    expect(acceptsTerminateCommand({ agent_version: '4.9.9', status: 'online' })).toBe(false);
    expect(acceptsTerminateCommand({ agent_version: null, status: 'online' })).toBe(false);
    expect(acceptsTerminateCommand({ agent_version: '5.0.0', status: 'deleted' })).toBe(false);
  });
});
