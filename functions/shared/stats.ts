import { statsRepo } from './db/stats-repo.js';
import { TRIGGER_TYPES } from './domain/switches.js';
import type { FeedEvent } from './domain/feed-events.js';

/**
 * Operational counters derived from the events feed (feed.ts `countFeedEvents` calls `recordFeedStats`
 * for every event it publishes), so every writer that publishes is counted without a second call
 * site. They serve the windowed figures of GET /api/admin/metrics/operational (1 h / 24 h / 7 d);
 * all-time switch totals come from switches-repo's counters, emergencies from the incidents index.
 *
 * | feed event | data fields read | hourly counters |
 * |---|---|---|
 * | switch_completed | `trigger_type`, `downtime_seconds` | switches_total, switches_<trigger>, downtime_count, downtime_sum, dt_le_<bound>, downtime_max |
 * | command_status_changed | `command_type`, `status` | switches_failed (switch commands that failed) |
 *
 * Approximate by design: best effort, hour granularity, p95 from a fixed histogram.
 */

/** Upper bounds (seconds) of the downtime histogram; the last bucket is open-ended. */
export const DOWNTIME_BUCKETS = [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800] as const;
export const downtimeBucketAttr = (bound: number | 'inf'): string => `dt_le_${bound}`;

const TRIGGERS = new Set<string>(TRIGGER_TYPES);

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Counter increments for one feed event (pure; exported for tests). */
export function countersFor(event: FeedEvent): { hourly: Record<string, number>; maxDowntime?: number } {
  const hourly: Record<string, number> = {};
  if (event.type === 'switch_completed') {
    const { trigger_type: trigger } = event.data;
    hourly.switches_total = 1;
    if (TRIGGERS.has(trigger)) hourly[`switches_${trigger}`] = 1;
    const downtime = num(event.data.downtime_seconds);
    if (downtime !== undefined && downtime >= 0) {
      hourly.downtime_count = 1;
      hourly.downtime_sum = downtime;
      const bound = DOWNTIME_BUCKETS.find((b) => downtime <= b);
      hourly[downtimeBucketAttr(bound ?? 'inf')] = 1;
      return { hourly, maxDowntime: downtime };
    }
  } else if (event.type === 'command_status_changed') {
    if (event.data.command_type === 'switch' && event.data.status === 'failed') hourly.switches_failed = 1;
  }
  return { hourly };
}

/** Applies the counters of one feed event. Callers treat a failure as non-fatal. */
export async function recordFeedStats(event: FeedEvent, now: Date): Promise<void> {
  const { hourly, maxDowntime } = countersFor(event);
  if (Object.keys(hourly).length === 0) return;
  await statsRepo.add(now, hourly);
  if (maxDowntime !== undefined) await statsRepo.max(now, 'downtime_max', maxDowntime);
}

/** p95 (and avg, max) of the downtime counters summed over hour buckets. */
export function downtimeSummary(buckets: Record<string, unknown>[]): { avg: number | null; p95: number | null; max: number | null } {
  let count = 0;
  let sum = 0;
  let max: number | null = null;
  const hist = new Map<string, number>();
  for (const b of buckets) {
    count += num(b.downtime_count) ?? 0;
    sum += num(b.downtime_sum) ?? 0;
    const m = num(b.downtime_max);
    if (m !== undefined) max = max === null ? m : Math.max(max, m);
    for (const bound of [...DOWNTIME_BUCKETS, 'inf' as const]) {
      const attr = downtimeBucketAttr(bound);
      hist.set(attr, (hist.get(attr) ?? 0) + (num(b[attr]) ?? 0));
    }
  }
  if (count === 0) return { avg: null, p95: null, max: null };
  const target = Math.ceil(0.95 * count);
  let seen = 0;
  let p95: number | null = max;
  for (const bound of DOWNTIME_BUCKETS) {
    seen += hist.get(downtimeBucketAttr(bound)) ?? 0;
    if (seen >= target) {
      // The bucket's upper bound, but never above the largest downtime actually seen.
      p95 = max !== null ? Math.min(bound, max) : bound;
      break;
    }
  }
  return { avg: Math.round((sum / count) * 1000) / 1000, p95, max };
}

export const sumCounter = (buckets: Record<string, unknown>[], attr: string): number =>
  buckets.reduce((acc, b) => acc + (num(b[attr]) ?? 0), 0);
