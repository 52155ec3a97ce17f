import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { addAmounts, type LedgerAmounts, ZERO_AMOUNTS } from '../domain/savings.js';
import { ddb, tableName } from './client.js';
import { clientsRepo } from './clients-repo.js';
import { getItem, type Key, queryAll, stripKeys, txPut, txUpdate, where } from './conditions.js';
import { instancesRepo } from './instances-repo.js';
import { keys } from './keys.js';
import { TransactionConflict, transact, type TxPart, txPart } from './transaction.js';

/**
 * The savings ledger.
 *
 * - Live day buckets, ADDed by every accrual: `CLIENT#<cid>` / `LEDGER#<day>` and `AGENT#<aid>` /
 *   `LEDGER#<day>` (kept 400 days: the snapshots are the permanent record).
 * - The watermark: `accrued_until` on the AGENT item. An accrual transaction moves it from the value
 *   it read to the new end, conditioned on it still being the value read, and ADDs the amounts to
 *   the buckets in the same transaction. Two accruals that read the same watermark cannot both
 *   commit, so no period is ever counted twice; a period is never skipped because the next
 *   accrual starts where the last one ended.
 * - Daily snapshots: `CLIENT#<cid>` / `SAVINGS#<day>`, written together with the ADD to the
 *   client's total_savings in one transaction conditioned on the snapshot not existing: the total
 *   grows exactly once per (client, day), however often the job runs.
 * - Growth counts: `GROWTH` / `<day>`.
 */

export interface DayAmounts extends LedgerAmounts {
  day: string;
}

export interface SavingsSnapshot extends LedgerAmounts {
  client_id: string;
  date: string;
  created_at: string;
}

export interface GrowthDay {
  date: string;
  total: number;
  new: number;
  active: number;
}

const LEDGER_TTL_DAYS = 400;
const AMOUNT_FIELDS = ['savings', 'ondemand_cost', 'actual_cost', 'spot_hours', 'ondemand_hours', 'unpriced_hours'] as const;

/** Transaction part ADDing amounts to a live day bucket (created on first use). */
function bucketAdd(part: string, key: Key, owner: Record<string, string>, day: string, a: LedgerAmounts, ttl: number): TxPart {
  return txPart(
    part,
    txUpdate(key, {
      set: { day, entity: 'ledger-day', ttl, ...owner },
      add: Object.fromEntries(AMOUNT_FIELDS.map((field) => [field, a[field]])),
      bumpVersion: false,
      mustExist: false,
    }),
  );
}

const toAmounts = (item: Record<string, unknown> | undefined): LedgerAmounts => {
  const out: LedgerAmounts = { ...ZERO_AMOUNTS };
  for (const f of AMOUNT_FIELDS) out[f] = typeof item?.[f] === 'number' ? (item[f] as number) : 0;
  return out;
};

export interface AccrualWrite {
  agentId: string;
  clientId: string;
  /** The watermark read (null: never accrued). */
  previous: string | null;
  /** The new watermark. */
  until: string;
  instanceId: string | null;
  parts: DayAmounts[];
  ttlEpochSeconds: number;
}

/** The live ledger day buckets in [fromDay, toDay] of one partition (an agent's or a client's). */
async function ledgerDays(pk: string, fromDay: string, toDay: string): Promise<DayAmounts[]> {
  const items = await queryAll<Record<string, unknown>>({
    KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lo AND :hi',
    ExpressionAttributeValues: { ':pk': pk, ':lo': `${keys.ledgerPrefix}${fromDay}`, ':hi': `${keys.ledgerPrefix}${toDay}` },
  });
  return items.map((i) => ({ day: String(i.day), ...toAmounts(i) }));
}

export const savingsRepo = {
  /**
   * Moves the agent's watermark from `previous` to `until` and ADDs the day amounts, in one
   * transaction. Returns false (writing nothing) when the watermark moved meanwhile or the agent
   * is gone: the caller re-reads and accrues only what is left.
   */
  async accrue(w: AccrualWrite): Promise<boolean> {
    const total = w.parts.reduce((acc, p) => addAmounts(acc, p), { ...ZERO_AMOUNTS });
    const parts: TxPart[] = [
      // The watermark lives on the agent's live item (keys.agentLive: no index is rewritten every
      // accrual); an agent stored before it had one carries it on the agent item, hence `absent`.
      txPart(
        'agent-watermark',
        txUpdate(keys.agentLive(w.agentId), {
          set: { accrued_until: w.until },
          add: { accrued_savings_total: total.savings },
          bumpVersion: false,
          mustExist: false,
          condition: where.and(
            where.not(where.eq('status', 'deleted')),
            where.or(where.is('accrued_until', w.previous), where.absent('accrued_until')),
          ),
        }),
      ),
    ];
    for (const part of w.parts) {
      parts.push(
        bucketAdd('client-ledger-day', keys.clientLedgerDay(w.clientId, part.day), { client_id: w.clientId }, part.day, part, w.ttlEpochSeconds),
        bucketAdd('agent-ledger-day', keys.agentLedgerDay(w.agentId, part.day), { agent_id: w.agentId, client_id: w.clientId }, part.day, part, w.ttlEpochSeconds),
      );
    }
    if (w.instanceId && total.savings !== 0) parts.push(instancesRepo.accrueSavingsTx(w.instanceId, total.savings));
    try {
      await transact(parts);
      return true;
    } catch (err) {
      if (!(err instanceof TransactionConflict)) throw err;
      if (err.failedOn('agent-watermark') || err.contended.length > 0) return false;
      if (err.failedOn('instance-savings') && w.instanceId) {
        // The instance record is gone (expired): accrue without its per-instance total.
        return this.accrue({ ...w, instanceId: null });
      }
      throw err;
    }
  },

  ledgerTtl: (nowMs: number): number => Math.floor(nowMs / 1000) + LEDGER_TTL_DAYS * 86_400,

  async clientDay(clientId: string, day: string): Promise<LedgerAmounts> {
    return toAmounts(await getItem(keys.clientLedgerDay(clientId, day)));
  },

  /** An agent's live day buckets in [fromDay, toDay]. */
  agentDays: (agentId: string, fromDay: string, toDay: string): Promise<DayAmounts[]> =>
    ledgerDays(keys.agent(agentId).PK, fromDay, toDay),

  /** A client's live day buckets in [fromDay, toDay]. */
  clientDays: (clientId: string, fromDay: string, toDay: string): Promise<DayAmounts[]> =>
    ledgerDays(keys.client(clientId).PK, fromDay, toDay),

  async getSnapshot(clientId: string, day: string): Promise<SavingsSnapshot | undefined> {
    const item = await getItem(keys.savingsSnapshot(clientId, day));
    return item ? (stripKeys(item) as unknown as SavingsSnapshot) : undefined;
  },

  /**
   * Freezes a (client, day) and adds its savings to the client's total_savings, in one
   * transaction conditioned on the snapshot not existing yet. Returns false when it already
   * existed (nothing is added twice) or the client is gone.
   */
  async writeSnapshot(clientId: string, day: string, amounts: LedgerAmounts, at: string): Promise<boolean> {
    const snapshot: SavingsSnapshot = { client_id: clientId, date: day, created_at: at, ...amounts };
    try {
      await transact([
        txPart('snapshot', txPut({ ...keys.savingsSnapshot(clientId, day), entity: 'savings-snapshot', ...snapshot })),
        clientsRepo.addSavingsTx(clientId, amounts.savings, at),
      ]);
      return true;
    } catch (err) {
      if (err instanceof TransactionConflict) return false;
      throw err;
    }
  },

  /** A client's snapshots in [fromDay, toDay], oldest first (at most `max`). */
  async listSnapshots(clientId: string, fromDay: string, toDay: string, max = 50_000): Promise<SavingsSnapshot[]> {
    const items = await queryAll<Record<string, unknown>>(
      {
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lo AND :hi',
        ExpressionAttributeValues: {
          ':pk': keys.client(clientId).PK,
          ':lo': `${keys.savingsSnapshotPrefix}${fromDay}`,
          ':hi': `${keys.savingsSnapshotPrefix}${toDay}`,
        },
      },
      max,
    );
    return items.slice(0, max).map((i) => stripKeys(i) as unknown as SavingsSnapshot);
  },

  /** The growth counts of a day (recomputed by each run: a plain overwrite is idempotent). */
  async putGrowth(g: GrowthDay, at: string): Promise<void> {
    await ddb.send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...keys.growthDay(g.date), entity: 'growth-day', ...g, computed_at: at },
      }),
    );
  },

  /** Growth counts in [fromDay, toDay], oldest first. */
  async listGrowth(fromDay: string, toDay: string): Promise<GrowthDay[]> {
    const items = await queryAll<Record<string, unknown>>({
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': 'GROWTH', ':lo': fromDay, ':hi': toDay },
    });
    return items.map((i) => ({
      date: String(i.date),
      total: Number(i.total ?? 0),
      new: Number(i.new ?? 0),
      active: Number(i.active ?? 0),
    }));
  },
};
