/**
 * Reading historical price data: gzip JSON Lines spot price files (DescribeSpotPriceHistory
 * rows, see bin/data/README.md) and the on-demand price file. Streaming, so a large file is
 * never held as one string.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** One spot price change record. */
export interface SpotPriceRow {
  instanceType: string;
  availabilityZone: string;
  productDescription: string;
  spotPrice: number;
  /** Epoch milliseconds. */
  time: number;
}

/** The price history of one pool, ascending by time; each price holds until the next row. */
export interface PoolHistory {
  /** `"<instance_type>.<az>"`. */
  poolId: string;
  instanceType: string;
  az: string;
  region: string;
  times: Float64Array;
  prices: Float64Array;
}

/** Thrown for a malformed price file; carries the file and line. */
export class PriceFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PriceFileError';
  }
}

/** `"<instance_type>.<az>"` (API.md §1.2). */
export function poolIdOf(instanceType: string, az: string): string {
  return `${instanceType}.${az}`;
}

/**
 * Region of an AZ name: `us-east-1a` → `us-east-1`, `us-west-2-lax-1a` (Local Zone) → `us-west-2`.
 */
export function regionOfAz(az: string): string {
  const m = /^([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+)/.exec(az);
  return m?.[1] ?? az.replace(/[a-z]+$/, '');
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

function parseRow(line: string, where: string): SpotPriceRow {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new PriceFileError(`${where}: not valid JSON`, { cause: err });
  }
  if (raw === null || typeof raw !== 'object') throw new PriceFileError(`${where}: not a JSON object`);
  const r = raw as Record<string, unknown>;
  const { instanceType, availabilityZone, spotPrice, timestamp } = r;
  if (typeof instanceType !== 'string' || instanceType === '')
    throw new PriceFileError(`${where}: instanceType missing`);
  if (typeof availabilityZone !== 'string' || availabilityZone === '')
    throw new PriceFileError(`${where}: availabilityZone missing`);
  const price = typeof spotPrice === 'string' ? Number.parseFloat(spotPrice) : spotPrice;
  if (typeof price !== 'number' || !Number.isFinite(price) || price < 0)
    throw new PriceFileError(`${where}: spotPrice must be a non-negative number`);
  const time = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
  if (!Number.isFinite(time)) throw new PriceFileError(`${where}: timestamp must be an ISO-8601 string`);
  const productDescription =
    typeof r['productDescription'] === 'string' ? r['productDescription'] : 'Linux/UNIX';
  return { instanceType, availabilityZone, productDescription, spotPrice: price, time };
}

/**
 * Streams a spot price file (gzip-compressed or plain JSON Lines) and returns its rows in file
 * order. Blank lines are skipped; a malformed line throws {@link PriceFileError} with its number.
 */
export async function readSpotPriceFile(path: string): Promise<SpotPriceRow[]> {
  const gz = await isGzip(path);
  const file = createReadStream(path);
  const input: Readable = gz ? file.pipe(createGunzip()) : file;
  // Surface read/gunzip errors through the iterator instead of as unhandled events.
  file.on('error', (err) => input.destroy(err));
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const rows: SpotPriceRow[] = [];
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      if (line.trim() === '') continue;
      rows.push(parseRow(line, `${path}:${n}`));
    }
  } catch (err) {
    if (err instanceof PriceFileError) throw err;
    throw new PriceFileError(`${path}: cannot read (${(err as Error).message})`, { cause: err });
  }
  return rows;
}

/**
 * Groups rows into per-pool histories sorted by time. Rows of another product description than
 * `productDescription` (default Linux/UNIX) are dropped; duplicate timestamps keep the last row.
 */
export function groupByPool(
  rows: readonly SpotPriceRow[],
  productDescription = 'Linux/UNIX',
): Map<string, PoolHistory> {
  const buckets = new Map<string, { instanceType: string; az: string; rows: SpotPriceRow[] }>();
  for (const row of rows) {
    if (row.productDescription !== productDescription) continue;
    const id = poolIdOf(row.instanceType, row.availabilityZone);
    let b = buckets.get(id);
    if (!b) {
      b = { instanceType: row.instanceType, az: row.availabilityZone, rows: [] };
      buckets.set(id, b);
    }
    b.rows.push(row);
  }
  const out = new Map<string, PoolHistory>();
  for (const id of [...buckets.keys()].sort()) {
    const b = buckets.get(id)!;
    b.rows.sort((x, y) => x.time - y.time);
    const times: number[] = [];
    const prices: number[] = [];
    for (const r of b.rows) {
      if (times.length > 0 && times[times.length - 1] === r.time) {
        prices[prices.length - 1] = r.spotPrice;
        continue;
      }
      times.push(r.time);
      prices.push(r.spotPrice);
    }
    out.set(id, {
      poolId: id,
      instanceType: b.instanceType,
      az: b.az,
      region: regionOfAz(b.az),
      times: Float64Array.from(times),
      prices: Float64Array.from(prices),
    });
  }
  return out;
}

/** On-demand prices per region and instance type (USD per instance-hour). */
export type OnDemandPrices = Record<string, Record<string, number>>;

/**
 * Reads `ondemand-prices.json` (`{"prices": {"<region>": {"<type>": price}}, ...}`). A bare
 * `{"<region>": {...}}` object is accepted too. Non-numeric entries are ignored.
 */
export async function readOnDemandPrices(path: string): Promise<OnDemandPrices> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    throw new PriceFileError(`${path}: not valid JSON`, { cause: err });
  }
  if (raw === null || typeof raw !== 'object') throw new PriceFileError(`${path}: not a JSON object`);
  const obj = raw as Record<string, unknown>;
  const table = obj['prices'] !== undefined ? obj['prices'] : obj;
  if (table === null || typeof table !== 'object')
    throw new PriceFileError(`${path}: "prices" is not an object`);
  const out: OnDemandPrices = {};
  for (const [region, types] of Object.entries(table as Record<string, unknown>)) {
    if (types === null || typeof types !== 'object') continue;
    const perType: Record<string, number> = {};
    for (const [type, price] of Object.entries(types as Record<string, unknown>)) {
      if (typeof price === 'number' && price > 0 && Number.isFinite(price)) perType[type] = price;
    }
    out[region] = perType;
  }
  return out;
}
