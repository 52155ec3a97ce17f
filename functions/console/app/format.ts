/**
 * How the console writes numbers, money, durations and times. Pure functions (unit-tested in
 * node): times are shown in the browser's zone, with the exact UTC instant for a hover title.
 */
const nf = new Map<string, Intl.NumberFormat>();
const numberFormat = (key: string, options: Intl.NumberFormatOptions) => {
  let f = nf.get(key);
  if (!f) {
    f = new Intl.NumberFormat('en-US', options);
    nf.set(key, f);
  }
  return f;
};

export const DASH = '—';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** USD: cents for amounts, four decimals below a dollar (hourly prices), "−" for negatives. */
export function money(x: number | null | undefined, options: { hourly?: boolean } = {}): string {
  if (!isNum(x)) return DASH;
  const abs = Math.abs(x);
  const digits = options.hourly || (abs > 0 && abs < 1) ? 4 : 2;
  const text = numberFormat(`usd${digits}`, { style: 'currency', currency: 'USD', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(abs);
  return `${x < 0 && abs >= 0.00005 ? '−' : ''}${text}${options.hourly ? '/h' : ''}`;
}

/** Grouped integers or `digits` decimals. */
export const num = (x: number | null | undefined, digits = 0): string =>
  isNum(x) ? numberFormat(`n${digits}`, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x) : DASH;

/** A ratio (0.42) or a percentage (42) as "42.0 %". */
export function percent(x: number | null | undefined, options: { ratio?: boolean; digits?: number } = {}): string {
  if (!isNum(x)) return DASH;
  return `${num(options.ratio ? x * 100 : x, options.digits ?? 1)} %`;
}

/** Milliseconds as "850 ms", "12.3 s", "4 min 05 s", "3 h 20 min", "2 d 4 h". */
export function duration(ms: number | null | undefined): string {
  if (!isNum(ms)) return DASH;
  const sign = ms < 0 ? '−' : '';
  const a = Math.abs(ms);
  if (a < 1000) return `${sign}${Math.round(a)} ms`;
  if (a < 60_000) return `${sign}${num(a / 1000, a < 10_000 ? 2 : 1)} s`;
  const s = Math.round(a / 1000);
  if (s < 3600) return `${sign}${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  if (m < 48 * 60) return `${sign}${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
  const h = Math.round(m / 60);
  return `${sign}${Math.floor(h / 24)} d ${h % 24} h`;
}

export const hoursText = (h: number | null | undefined): string => (isNum(h) ? `${num(h, h < 10 ? 1 : 0)} h` : DASH);

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago" (future: "in 5 min"). */
export function age(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return DASH;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return DASH;
  const d = nowMs - t;
  const a = Math.abs(d);
  const text = a < 5_000 ? '' : a < 60_000 ? `${Math.round(a / 1000)} s` : a < 3_600_000 ? `${Math.round(a / 60_000)} min` : a < 172_800_000 ? `${Math.round(a / 3_600_000)} h` : `${Math.round(a / 86_400_000)} d`;
  if (!text) return 'just now';
  return d >= 0 ? `${text} ago` : `in ${text}`;
}

const dtf = new Map<string, Intl.DateTimeFormat>();
const dateFormat = (timeZone: string | undefined, short: boolean) => {
  const key = `${timeZone ?? ''}|${short}`;
  let f = dtf.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      ...(timeZone ? { timeZone } : {}),
      year: short ? undefined : 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    dtf.set(key, f);
  }
  return f;
};

/** A time in the browser's zone (or `timeZone`), e.g. "4 Dec 2026, 14:05". */
export function localTime(iso: string | null | undefined, options: { timeZone?: string; short?: boolean } = {}): string {
  if (!iso) return DASH;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? dateFormat(options.timeZone, options.short ?? false).format(t) : DASH;
}

/** The exact instant in UTC, for the hover title: "2026-12-04 13:05:09 UTC". */
export function utcTitle(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isFinite(t) ? `${new Date(t).toISOString().replace('T', ' ').slice(0, 19)} UTC` : '';
}

/** "2026-12-04" → "4 Dec" (a day label for charts and tables, no zone shift: days are UTC days). */
export function dayLabel(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(t) ? new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' }).format(t) : day;
}

/** Labels API enum values for people: "switch_to_spot" → "Switch to spot". */
export const label = (value: string | null | undefined): string => {
  if (!value) return DASH;
  const text = value.replace(/[_-]+/g, ' ').trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
};
