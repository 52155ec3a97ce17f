/**
 * The capacity model of the capacity bench, pure (unit-tested): DynamoDB's documented item-size and
 * write-unit rules applied to the old and new image of every written item, the partition each unit
 * lands on (table and every GSI), the classification of partitions by who writes them, and the
 * extrapolation of the hottest partition's write rate to a larger fleet.
 *
 * Rules (DynamoDB developer guide, "Item sizes and formats", "Write capacity units", "Global secondary
 * indexes: provisioned throughput considerations"):
 * - a write costs ceil(size / 1 KB) units, at least 1; an update is charged on the larger of the
 *   item before and after; a delete on the item deleted; a transactional write costs twice;
 * - a GSI is written when an item enters it (put), leaves it (delete), changes its index key
 *   (delete + put: two writes) or changes a projected attribute under the same key (one write);
 *   it is not written when neither the key nor a projected attribute changed;
 * - a write whose condition fails, or an update that changes nothing, still costs the table
 *   (ceil(existing size / 1 KB), at least 1) and never an index.
 */

export type Image = Record<string, unknown>;

export type Projection =
  | { readonly type: 'ALL' }
  | { readonly type: 'KEYS_ONLY' }
  | { readonly type: 'INCLUDE'; readonly nonKeyAttributes: readonly string[] };

export interface IndexShape {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly projection: Projection;
}

export interface TableShape {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly indexes: readonly IndexShape[];
}

/** Where write units land: the table or one GSI. */
export type Target = string;
export const TABLE: Target = 'table';

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Size of a number: 1 byte per two significant digits, plus 1 (leading/trailing zeros trimmed). */
function numberSize(n: number | bigint): number {
  const digits = String(n)
    .replace(/^-/, '')
    .replace(/e[+-]?\d+$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Size in bytes of one attribute value (document-client form: strings, numbers, Sets, arrays, maps). */
export function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((acc: number, v) => acc + valueSize(v), 0);
  // lib-dynamodb's NumberValue wrapper.
  if (typeof value === 'object' && 'value' in value && Object.keys(value).length === 1) {
    return numberSize(Number((value as { value: string }).value));
  }
  if (Array.isArray(value)) return 3 + value.reduce((acc: number, v) => acc + 1 + valueSize(v), 0);
  if (typeof value === 'object') {
    return 3 + Object.entries(value).reduce((acc, [k, v]) => acc + 1 + utf8(k) + valueSize(v), 0);
  }
  return utf8(String(value));
}

/** Item size as DynamoDB counts it: attribute names (UTF-8) plus values. */
export function itemSize(item: Image): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += utf8(name) + valueSize(value);
  }
  return size;
}

/** Write units for an item of `bytes` bytes (1 KB units, at least 1). */
export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/** The item as its index stores it: keys of the table and the index plus the projected attributes. */
export function projectedImage(item: Image, table: TableShape, index: IndexShape): Image {
  if (index.projection.type === 'ALL') return item;
  const names = new Set([table.partitionKey, table.sortKey, index.partitionKey, index.sortKey]);
  if (index.projection.type === 'INCLUDE') for (const n of index.projection.nonKeyAttributes) names.add(n);
  return Object.fromEntries(Object.entries(item).filter(([k]) => names.has(k)));
}

const indexKey = (item: Image | undefined, index: IndexShape): { pk: string; sk: string } | undefined => {
  const pk = item?.[index.partitionKey];
  const sk = item?.[index.sortKey];
  return typeof pk === 'string' && typeof sk === 'string' ? { pk, sk } : undefined;
};

/** Structural equality of two attribute values (Sets compared as sets). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Set && b instanceof Set) return a.size === b.size && [...a].every((v) => b.has(v));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).filter((k) => (a as Image)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Image)[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameValue((a as Image)[k], (b as Image)[k]));
  }
  return false;
}

/** One item written by one request, with the images around it. */
export interface ItemWrite {
  /** `written`: a stream record exists (old and/or new image); `unchanged`: a no-op update;
   *  `failed`: its condition (or its transaction) failed; `condition-check`: a transaction's check. */
  readonly outcome: 'written' | 'unchanged' | 'failed' | 'condition-check';
  readonly transactional: boolean;
  readonly oldImage?: Image;
  readonly newImage?: Image;
  /** The partition key value (needed when no image carries it). */
  readonly partition: string;
  /** For `unchanged`/`failed`/`condition-check`: the stored item's size (0 when absent). */
  readonly existingSize?: number;
}

/** Write units landing on one partition of the table or of one index. */
export interface PartitionWrite {
  readonly target: Target;
  readonly partition: string;
  readonly units: number;
  readonly kind: 'put' | 'update' | 'delete';
}

/** Every partition write one item write causes (transactional writes doubled). */
export function modelItemWrite(w: ItemWrite, table: TableShape): PartitionWrite[] {
  const factor = w.transactional ? 2 : 1;
  if (w.outcome !== 'written') {
    return [{ target: TABLE, partition: w.partition, units: factor * writeUnits(w.existingSize ?? 0), kind: 'update' }];
  }
  const { oldImage, newImage } = w;
  const out: PartitionWrite[] = [];
  const tableBytes = Math.max(oldImage ? itemSize(oldImage) : 0, newImage ? itemSize(newImage) : 0);
  out.push({
    target: TABLE,
    partition: w.partition,
    units: factor * writeUnits(tableBytes),
    kind: !newImage ? 'delete' : !oldImage ? 'put' : 'update',
  });
  for (const index of table.indexes) {
    const before = indexKey(oldImage, index);
    const after = indexKey(newImage, index);
    const oldEntry = before && oldImage ? projectedImage(oldImage, table, index) : undefined;
    const newEntry = after && newImage ? projectedImage(newImage, table, index) : undefined;
    const size = (e: Image | undefined) => (e ? itemSize(e) : 0);
    if (before && after && before.pk === after.pk && before.sk === after.sk) {
      if (sameValue(oldEntry, newEntry)) continue;
      const units = writeUnits(Math.max(size(oldEntry), size(newEntry)));
      out.push({ target: index.indexName, partition: after.pk, units: factor * units, kind: 'update' });
      continue;
    }
    if (before) out.push({ target: index.indexName, partition: before.pk, units: factor * writeUnits(size(oldEntry)), kind: 'delete' });
    if (after) out.push({ target: index.indexName, partition: after.pk, units: factor * writeUnits(size(newEntry)), kind: 'put' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Who writes a partition, and how its write rate grows with the fleet

export type PartitionClass = 'per-agent' | 'per-client' | 'shared-subset' | 'installation-wide' | 'jobs-only';

/**
 * Classifies a partition by the simulated agents that wrote it (directly, or whose ids its key
 * names): one agent → per-agent; several agents of one client → per-client; agents of several
 * clients → installation-wide when it is every agent, otherwise a cross-client subset (such as the
 * agents of one spot pool); nobody → written only by jobs. Clients named without an agent
 * (a client's own counters written by a job) count as per-client.
 */
export function classifyPartition(
  agents: ReadonlySet<string>,
  clients: ReadonlySet<string>,
  clientOfAgent: ReadonlyMap<string, string>,
  totalAgents: number,
): PartitionClass {
  const clientSet = new Set([...clients, ...[...agents].map((a) => clientOfAgent.get(a) ?? `?${a}`)]);
  if (agents.size === 0) return clientSet.size === 0 ? 'jobs-only' : clientSet.size === 1 ? 'per-client' : 'installation-wide';
  if (agents.size === 1 && clientSet.size === 1) return 'per-agent';
  if (clientSet.size === 1) return 'per-client';
  return agents.size >= totalAgents ? 'installation-wide' : 'shared-subset';
}

/** A fleet to extrapolate to. */
export interface Fleet {
  readonly agents: number;
  /** Agents of the largest client (= agents in the worst case: one client). */
  readonly agentsPerClient: number;
}

/**
 * How many simulated writers' worth of traffic one partition of this class receives in `fleet`:
 * a per-agent partition one agent's, a per-client one the largest client's, a shared one every
 * agent's (worst case: every agent on the same pool); a jobs-only one is not scaled (jobs run on a
 * schedule, not per agent).
 */
export function writersAt(cls: PartitionClass, fleet: Fleet): number {
  switch (cls) {
    case 'per-agent':
      return 1;
    case 'per-client':
      return Math.min(fleet.agentsPerClient, fleet.agents);
    case 'shared-subset':
    case 'installation-wide':
      return fleet.agents;
    case 'jobs-only':
      return 1;
  }
}

/** Measured load of one partition in the simulation. */
export interface PartitionLoad {
  readonly target: Target;
  readonly partition: string;
  readonly cls: PartitionClass;
  /** Write units per second it received in the steady state of the simulation (events weighted). */
  readonly unitsPerSecond: number;
  /** Distinct simulated agents that wrote it (the rate is shared by them), at least 1. */
  readonly writers: number;
  /**
   * A write-sharded logical partition (its shards folded together, see {@link foldShard}): the
   * load spreads evenly over this many partition key values; 1 (default) for a plain partition.
   */
  readonly shards?: number;
}

/** The partition's write rate (units/s) in `fleet`: its per-writer rate times the writers it would have, per shard. */
export const rateAt = (load: PartitionLoad, fleet: Fleet): number =>
  (load.cls === 'jobs-only' ? load.unitsPerSecond : (load.unitsPerSecond / Math.max(1, load.writers)) * writersAt(load.cls, fleet)) /
  (load.shards ?? 1);

/**
 * The logical partition of a partition key written across `shards` values (`<base>#S<nn>`, matched
 * by `suffix`): the simulation's few agents land on a few shards, a real fleet on all of them
 * evenly, so the bench measures the logical key and divides its rate by the shard count.
 */
export function foldShard(partition: string, suffix: RegExp, shards: number): { partition: string; shards: number } {
  return suffix.test(partition) ? { partition: `${partition.replace(suffix, '')}#S<nn>`, shards } : { partition, shards: 1 };
}

/** The hottest partition of each target in `fleet`. */
export function hottestByTarget(loads: readonly PartitionLoad[], fleet: Fleet): Map<Target, { load: PartitionLoad; rate: number }> {
  const hottest = new Map<Target, { load: PartitionLoad; rate: number }>();
  for (const load of loads) {
    const rate = rateAt(load, fleet);
    const current = hottest.get(load.target);
    if (!current || rate > current.rate) hottest.set(load.target, { load, rate });
  }
  return hottest;
}

/**
 * A partition key with its ids replaced by what they are (`AGENT#<aid>`, `STAGE#<pool>`…), so keys
 * of the same shape read as one pattern in a report.
 */
export function keyPattern(partition: string, names: ReadonlyMap<string, string>): string {
  let out = partition;
  for (const [value, name] of [...names].sort((a, b) => b[0].length - a[0].length)) out = out.split(value).join(name);
  return out
    .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, '<time>')
    .replace(/\d{4}-\d{2}-\d{2}(?:T\d{2})?/g, '<day>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/[0-9a-f]{64}/gi, '<sha256>');
}
