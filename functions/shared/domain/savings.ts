/**
 * Savings-ledger maths (pure). A PRIMARY accrues, for every hour it runs, the baseline on-demand
 * price minus the price it pays; a period is split at UTC midnights so each part lands in the
 * day it belongs to (the daily snapshot freezes whole UTC days).
 */
import { round } from './numbers.js';
import type { Mode } from './types.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface DayPart {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  hours: number;
}

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Splits [startMs, endMs) at UTC midnights; empty when end ≤ start. */
export function splitByUtcDay(startMs: number, endMs: number): DayPart[] {
  const parts: DayPart[] = [];
  let t = startMs;
  while (t < endMs) {
    const nextMidnight = Math.floor(t / DAY_MS) * DAY_MS + DAY_MS;
    const until = Math.min(nextMidnight, endMs);
    parts.push({ day: utcDay(t), hours: (until - t) / HOUR_MS });
    t = until;
  }
  return parts;
}

export interface LedgerAmounts {
  savings: number;
  ondemand_cost: number;
  actual_cost: number;
  spot_hours: number;
  ondemand_hours: number;
  /** Hours whose price or baseline was unknown: counted as hours, not as money. */
  unpriced_hours: number;
}

export const ZERO_AMOUNTS: Readonly<LedgerAmounts> = Object.freeze({
  savings: 0,
  ondemand_cost: 0,
  actual_cost: 0,
  spot_hours: 0,
  ondemand_hours: 0,
  unpriced_hours: 0,
});

const finitePositive = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

/**
 * What `hours` of running in `mode` at `paid` USD/h accrue against the `baseline` on-demand price.
 * Savings may be negative (a spot price above on-demand costs money); unknown prices accrue hours only.
 */
export function accrualAmounts(hours: number, mode: Mode, paid: number | null, baseline: number | null): LedgerAmounts {
  const out: LedgerAmounts = { ...ZERO_AMOUNTS };
  if (!(hours > 0)) return out;
  if (mode === 'spot') out.spot_hours = hours;
  else out.ondemand_hours = hours;
  if (!finitePositive(paid) || !finitePositive(baseline)) {
    out.unpriced_hours = hours;
    return out;
  }
  out.actual_cost = paid * hours;
  out.ondemand_cost = baseline * hours;
  out.savings = (baseline - paid) * hours;
  return out;
}

export function addAmounts(a: LedgerAmounts, b: Partial<LedgerAmounts>): LedgerAmounts {
  return {
    savings: a.savings + (b.savings ?? 0),
    ondemand_cost: a.ondemand_cost + (b.ondemand_cost ?? 0),
    actual_cost: a.actual_cost + (b.actual_cost ?? 0),
    spot_hours: a.spot_hours + (b.spot_hours ?? 0),
    ondemand_hours: a.ondemand_hours + (b.ondemand_hours ?? 0),
    unpriced_hours: a.unpriced_hours + (b.unpriced_hours ?? 0),
  };
}

/** Rounds money to 1e-6 USD and hours to 1e-4 h for output. */
export function roundAmounts(a: LedgerAmounts): LedgerAmounts {
  return {
    savings: round(a.savings, 6),
    ondemand_cost: round(a.ondemand_cost, 6),
    actual_cost: round(a.actual_cost, 6),
    spot_hours: round(a.spot_hours, 4),
    ondemand_hours: round(a.ondemand_hours, 4),
    unpriced_hours: round(a.unpriced_hours, 4),
  };
}
