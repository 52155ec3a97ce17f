import { randomBytes, randomUUID } from 'node:crypto';

/** A new resource id (API.md §1.2: ids are UUIDs, except EC2 instance ids). */
export const newId = (): string => randomUUID();

/** Placeholder instance id for a replica that has not been launched yet (`replica-<8hex>`). */
export const replicaPlaceholderId = (): string => `replica-${randomBytes(4).toString('hex')}`;

/** Output timestamps are ISO-8601 UTC with milliseconds. */
export const iso = (date: Date): string => date.toISOString();

/**
 * ISO-8601 calendar date or date-time (`2025-01-15`, `2025-01-15T12:00`, `…:00.123456+02:00`, a
 * space instead of `T`), with a real calendar date and clock time: `2025-02-30` or `24:00` is not
 * rolled over into another day, it is refused.
 */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?\s*(?:Z|([+-])(\d{2}):?(\d{2})?)?$/i;

export function isIsoTimestamp(value: string): boolean {
  const m = ISO_8601.exec(value.trim());
  if (!m) return false;
  const [, y, mo, d, h, mi, s, , oh, om] = m.map((x) => (x === undefined ? undefined : Number(x))) as (number | undefined)[];
  const year = y as number;
  const month = mo as number;
  const day = d as number;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return false;
  if ((h ?? 0) > 23 || (mi ?? 0) > 59 || (s ?? 0) > 59) return false;
  if ((oh ?? 0) > 14 || (om ?? 0) > 59) return false;
  return !Number.isNaN(parseTimestamp(value).getTime());
}

/** Parses any ISO-8601 input; a value without an offset is read as UTC (API.md §1.2). */
export function parseTimestamp(value: string): Date {
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim());
  const hasTime = value.includes('T') || value.includes(' ');
  const normalised = hasOffset || !hasTime ? value : `${value.trim()}Z`;
  return new Date(normalised);
}

/** A point in time: a Date, epoch milliseconds, or an ISO-8601 string (no offset = UTC). */
export type Instant = Date | number | string;

/** Epoch milliseconds of an {@link Instant} (NaN if unparseable; no offset = UTC, API.md §1.2). */
export function toEpochMs(t: Instant): number {
  if (typeof t === 'number') return t;
  if (t instanceof Date) return t.getTime();
  const hasOffset = /(?:[zZ]|[+-]\d{2}:?\d{2})$/.test(t);
  const isDateOnly = /^\d{4}-\d{2}-\d{2}$/.test(t);
  return Date.parse(hasOffset || isDateOnly ? t : `${t}Z`);
}

/** Epoch seconds for a DynamoDB TTL attribute `ttl`, `days` after `from`. */
export const ttlAfterDays = (from: Date, days: number): number =>
  Math.floor(from.getTime() / 1000) + Math.round(days * 86_400);

/** Pool ids are `<instance_type>.<az>`; the AZ is the part after the last dot. */
export function parsePoolId(poolId: string): { instanceType: string; az: string; region: string } {
  const cut = poolId.lastIndexOf('.');
  const instanceType = cut > 0 ? poolId.slice(0, cut) : poolId;
  const az = cut > 0 ? poolId.slice(cut + 1) : '';
  return { instanceType, az, region: az.replace(/[a-z]$/, '') };
}

export const poolIdOf = (instanceType: string, az: string): string => `${instanceType}.${az}`;
