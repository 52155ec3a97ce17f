import { describe, expect, it } from 'vitest';
import { age, dayLabel, duration, label, localTime, money, num, percent, utcTitle } from '../../functions/console/app/format.js';
import { conflictMessage, fleetCounts, liveState, priceSeries, savingsSeries, sortRows, topicsOf } from '../../functions/console/app/model.js';

describe('console formatting', () => {
  it('writes money with cents, hourly prices with four decimals, negatives with a minus sign', () => {
    expect(money(1234.5)).toBe('$1,234.50');
    expect(money(0.0384, { hourly: true })).toBe('$0.0384/h');
    expect(money(0.5)).toBe('$0.5000');
    expect(money(-6.65)).toBe('−$6.65');
    expect(money(0)).toBe('$0.00');
    expect(money(null)).toBe('—');
    expect(money(Number.NaN)).toBe('—');
  });

  it('writes numbers, percentages and durations for people', () => {
    expect(num(12345)).toBe('12,345');
    expect(num(0.3, 2)).toBe('0.30');
    expect(percent(62.84)).toBe('62.8 %');
    expect(percent(0.25, { ratio: true })).toBe('25.0 %');
    expect(duration(850)).toBe('850 ms');
    expect(duration(1_020)).toBe('1.02 s');
    expect(duration(65_000)).toBe('1 min 05 s');
    expect(duration(3 * 3_600_000 + 20 * 60_000)).toBe('3 h 20 min');
    expect(duration(-30_000)).toBe('−30.0 s');
    expect(duration(50 * 3_600_000)).toBe('2 d 2 h');
    expect(duration(null)).toBe('—');
  });

  it('shows ages relative to now and times in a zone, with the UTC instant for the title', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(age('2026-12-04T11:59:58Z', now)).toBe('just now');
    expect(age('2026-12-04T11:59:18Z', now)).toBe('42 s ago');
    expect(age('2026-12-04T09:00:00Z', now)).toBe('3 h ago');
    expect(age('2026-12-04T12:05:00Z', now)).toBe('in 5 min');
    expect(age(null, now)).toBe('—');
    expect(localTime('2026-12-04T13:05:09Z', { timeZone: 'Europe/Paris' })).toBe('4 Dec 2026, 14:05');
    expect(localTime('2026-12-04T13:05:09Z', { timeZone: 'America/Sao_Paulo' })).toBe('4 Dec 2026, 10:05');
    expect(utcTitle('2026-12-04T13:05:09.123Z')).toBe('2026-12-04 13:05:09 UTC');
    expect(dayLabel('2026-12-04')).toBe('4 Dec');
    expect(label('switch_to_spot')).toBe('Switch to spot');
  });
});

describe('console aggregation', () => {
  it('turns daily savings into chart columns (UTC midnights, daily, cumulative, baseline, paid)', () => {
    const rows = [
      { date: '2026-12-01', savings: 10, ondemand_cost: 16, actual_cost: 6, cumulative_savings: 10 },
      { date: '2026-12-02', savings: 12, ondemand_cost: 18, actual_cost: 6, cumulative_savings: 22 },
    ];
    expect(savingsSeries(rows)).toEqual([[Date.parse('2026-12-01T00:00:00Z') / 1000, Date.parse('2026-12-02T00:00:00Z') / 1000], [10, 12], [10, 22], [16, 18], [6, 6]]);
  });

  it('puts the current pool first, then the cheapest alternatives, with gaps as null', () => {
    const points = [
      { time: '2026-12-01T00:00:00Z', on_demand: 0.096, prices: { 'm5.large.a': 0.04, 'm5.large.b': 0.03, 'm5.large.c': 0.05 } },
      { time: '2026-12-01T01:00:00Z', on_demand: 0.096, prices: { 'm5.large.a': 0.041, 'm5.large.c': 0.05 } },
    ];
    const { pools, data } = priceSeries(points, 'm5.large.c', 1);
    expect(pools).toEqual(['m5.large.c', 'm5.large.b']);
    expect(data).toEqual([[Date.parse('2026-12-01T00:00:00Z') / 1000, Date.parse('2026-12-01T01:00:00Z') / 1000], [0.096, 0.096], [0.05, 0.05], [0.03, null]]);
  });

  it('sorts numbers numerically and names naturally, nulls last in both directions, stably', () => {
    const rows = [{ n: 'web-10', v: 3 }, { n: 'web-2', v: null }, { n: 'web-1', v: 10 }, { n: 'web-3', v: 3 }];
    expect(sortRows(rows, (r) => r.v, 'asc').map((r) => r.n)).toEqual(['web-10', 'web-3', 'web-1', 'web-2']);
    expect(sortRows(rows, (r) => r.v, 'desc').map((r) => r.n)).toEqual(['web-1', 'web-10', 'web-3', 'web-2']);
    expect(sortRows(rows, (r) => r.n, 'asc').map((r) => r.n)).toEqual(['web-1', 'web-2', 'web-3', 'web-10']);
  });

  it('counts the fleet by status and by role × mode, terminated instances left out', () => {
    const counts = fleetCounts(
      [
        { status: 'online', current_mode: 'spot' },
        { status: 'switching', current_mode: 'spot' },
        { status: 'offline', current_mode: null },
      ],
      [{ role: 'PRIMARY', mode: 'spot' }, { role: 'PRIMARY', mode: 'ondemand' }, { role: 'REPLICA', mode: 'spot' }, { role: 'TERMINATED', mode: 'spot' }],
    );
    expect(counts).toEqual({
      agents: 3,
      online: 2,
      offline: 1,
      byRole: { PRIMARY: { spot: 1, ondemand: 1 }, REPLICA: { spot: 1, ondemand: 0 } },
    });
  });

  it('derives the live state: offline beats paused beats live', () => {
    expect(liveState({ paused: false, hidden: false, failures: 0, online: true })).toBe('live');
    expect(liveState({ paused: true, hidden: false, failures: 0, online: true })).toBe('paused');
    expect(liveState({ paused: false, hidden: true, failures: 1, online: true })).toBe('paused');
    expect(liveState({ paused: true, hidden: false, failures: 2, online: true })).toBe('offline');
    expect(liveState({ paused: false, hidden: false, failures: 0, online: false })).toBe('offline');
  });

  it('maps feed events to the pages they change, and explains a version conflict', () => {
    expect(topicsOf('switch_completed')).toContain('savings');
    expect(topicsOf('emergency_event')).toContain('emergencies');
    expect(topicsOf('unknown')).toEqual([]);
    expect(conflictMessage([{ field: 'version', current_version: 7 }])).toContain('now version 7');
  });
});
