import { randomBytes, randomUUID } from 'node:crypto';

/** A new resource id (API.md §1.2: ids are UUIDs, except EC2 instance ids). */
export const newId = (): string => randomUUID();

/** Placeholder instance id for a replica that has not been launched yet (`replica-<8hex>`). */
export const replicaPlaceholderId = (): string => `replica-${randomBytes(4).toString('hex')}`;

/** Output timestamps are ISO-8601 UTC with milliseconds. */
export const iso = (date: Date): string => date.toISOString();

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
