import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../../functions/jobs/pricing-consolidation/handler.js';
import { consolidationWindow } from '../../../functions/jobs/pricing-consolidation/job.js';

const NOW = new Date('2030-06-10T12:34:56.000Z');

describe('consolidation window (API.md §6)', () => {
  it('starts 1 h before the previous window end, aligned down to the hour, and ends now', () => {
    expect(consolidationWindow(NOW, '2030-06-10T00:34:56.000Z')).toEqual({
      start: Date.parse('2030-06-09T23:00:00.000Z'),
      end: NOW.getTime(),
    });
  });

  it('covers what staging keeps (14 days) on the first run or after a long pause', () => {
    const fourteenDaysBack = Date.parse('2030-05-27T12:00:00.000Z');
    expect(consolidationWindow(NOW, undefined).start).toBe(fourteenDaysBack);
    expect(consolidationWindow(NOW, '2030-01-01T00:00:00.000Z').start).toBe(fourteenDaysBack);
  });

  it('never starts after now (a watermark in the future)', () => {
    expect(consolidationWindow(NOW, '2031-01-01T00:00:00.000Z').start).toBe(Date.parse('2030-06-10T12:00:00.000Z'));
  });
});

describe('pricing-consolidation invocation payloads', () => {
  it('a Scheduler event is a scheduled run with the derived window', () => {
    expect(parseRequest({ 'detail-type': 'Scheduled Event', 'source': 'aws.scheduler' }, NOW)).toEqual({
      kind: 'consolidate',
      options: { trigger: 'schedule' },
    });
    expect(parseRequest(undefined, NOW)).toEqual({ kind: 'consolidate', options: { trigger: 'schedule' } });
  });

  it('an on-demand invoke may name an explicit window', () => {
    expect(parseRequest({ trigger: 'manual' }, NOW)).toEqual({ kind: 'consolidate', options: { trigger: 'manual' } });
    expect(parseRequest({ window_start: '2030-06-01T00:00:00', window_end: '2030-06-02T00:00:00Z' }, NOW)).toEqual({
      kind: 'consolidate',
      options: {
        trigger: 'manual',
        windowStart: new Date('2030-06-01T00:00:00.000Z'),
        windowEnd: new Date('2030-06-02T00:00:00.000Z'),
      },
    });
    expect(parseRequest({ window_start: 'not a date' }, NOW)).toEqual({ kind: 'consolidate', options: { trigger: 'schedule' } });
  });

  it('a backfill request defaults to the last 7 days and caps at 90', () => {
    expect(parseRequest({ backfill: {} }, NOW)).toEqual({
      kind: 'backfill',
      start: new Date(NOW.getTime() - 7 * 86_400_000),
      end: NOW,
    });
    expect(parseRequest({ backfill: { days: 365, pools: ['m5.large.us-east-1a', 3] } }, NOW)).toEqual({
      kind: 'backfill',
      start: new Date(NOW.getTime() - 90 * 86_400_000),
      end: NOW,
      pools: ['m5.large.us-east-1a'],
    });
  });
});
