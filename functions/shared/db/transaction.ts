import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from './client.js';
import { cancellationReasons, type Condition, type Key, txUpdate, type TxItem, type UpdateSpec, where } from './conditions.js';
import { asUnavailable, THROTTLED_CANCELLATIONS } from './unavailable.js';

/**
 * A change a part brings along to another item (an agent's live item follows its agent, a replica
 * bumps its agent's replica revision). Patches of one transaction that target the same item are
 * merged into one update, so several parts can each bring theirs (DynamoDB refuses two operations
 * on one item in a transaction).
 */
export interface TxPatch {
  readonly part: string;
  readonly key: Key;
  readonly set?: Record<string, unknown>;
  readonly remove?: readonly string[];
  readonly add?: Record<string, number>;
  readonly condition?: Condition | undefined;
}

/**
 * One named part of a TransactWriteItems call. The repositories build the parts
 * (`agentsRepo.updateTx`, `instancesRepo.changeRoleTx`, …); services only compose them and read
 * failures by name, never by position.
 */
export interface TxPart {
  readonly part: string;
  readonly item: TxItem;
  readonly patches?: readonly TxPatch[];
}

export const txPart = (part: string, item: TxItem, patches?: readonly TxPatch[]): TxPart =>
  patches && patches.length > 0 ? { part, item, patches } : { part, item };

const keyOf = (k: Key) => `${k.PK}\u0000${k.SK}`;

/** The key a transaction item writes. */
function itemKey(item: TxItem): Key | undefined {
  const k = item.Update?.Key ?? item.Delete?.Key ?? item.ConditionCheck?.Key ?? (item.Put?.Item as Key | undefined);
  return k && typeof k.PK === 'string' && typeof k.SK === 'string' ? { PK: k.PK, SK: k.SK } : undefined;
}

/** Merges the patches of the parts by item: one update per patched item (sets must agree, adds sum). */
export function mergePatches(parts: readonly TxPart[]): TxPart[] {
  const merged = new Map<string, { part: string; key: Key; spec: Required<Pick<UpdateSpec, 'set' | 'remove' | 'add'>>; conditions: Condition[] }>();
  for (const patch of parts.flatMap((p) => p.patches ?? [])) {
    const k = keyOf(patch.key);
    let m = merged.get(k);
    if (!m) merged.set(k, (m = { part: patch.part, key: patch.key, spec: { set: {}, remove: [], add: {} }, conditions: [] }));
    for (const [attr, value] of Object.entries(patch.set ?? {})) {
      if (value === undefined) continue;
      if (attr in m.spec.set && JSON.stringify(m.spec.set[attr]) !== JSON.stringify(value)) {
        throw new Error(`two parts of one transaction set ${attr} of ${patch.key.PK}/${patch.key.SK} differently`);
      }
      m.spec.set[attr] = value;
    }
    for (const attr of patch.remove ?? []) if (!m.spec.remove.includes(attr)) m.spec.remove.push(attr);
    for (const [attr, n] of Object.entries(patch.add ?? {})) m.spec.add[attr] = (m.spec.add[attr] ?? 0) + n;
    if (patch.condition) m.conditions.push(patch.condition);
  }
  const direct = new Set(parts.map((p) => itemKey(p.item)).filter((k): k is Key => k !== undefined).map(keyOf));
  return [...merged.entries()].map(([k, m]) => {
    if (direct.has(k)) throw new Error(`a transaction both writes and patches ${m.key.PK}/${m.key.SK}`);
    const remove = m.spec.remove.filter((attr) => !(attr in m.spec.set));
    return txPart(
      m.part,
      txUpdate(m.key, {
        set: m.spec.set,
        remove,
        add: m.spec.add,
        condition: where.and(...m.conditions),
        bumpVersion: false,
        mustExist: false,
      }),
    );
  });
}

/**
 * A transaction was cancelled: `failed` names the parts whose condition did not hold, `contended`
 * those another transaction was writing at the same time (a retry may succeed).
 */
export class TransactionConflict extends Error {
  readonly failed: readonly string[];
  readonly contended: readonly string[];

  constructor(parts: readonly TxPart[], codes: readonly string[], options?: { cause?: unknown }) {
    const named = (code: string) => [...new Set(parts.filter((_, i) => codes[i] === code).map((p) => p.part))];
    const failed = named('ConditionalCheckFailed');
    const contended = named('TransactionConflict');
    super(
      `transaction cancelled${failed.length ? `: condition failed on ${failed.join(', ')}` : ''}${
        contended.length ? `${failed.length ? ';' : ':'} contended on ${contended.join(', ')}` : ''
      }`,
      options,
    );
    this.name = 'TransactionConflict';
    this.failed = failed;
    this.contended = contended;
  }

  /** Whether the condition of any of the named parts failed. */
  failedOn(...parts: string[]): boolean {
    return parts.some((p) => this.failed.includes(p));
  }
}

/**
 * Writes the parts in one TransactWriteItems; a cancellation becomes a {@link TransactionConflict}.
 * A throttled one is not a lost race (retrying at once would only be throttled again): it is a
 * ServiceUnavailableError, like any other throttled call.
 */
export async function transact(parts: readonly TxPart[]): Promise<void> {
  const all = [...parts, ...mergePatches(parts)];
  try {
    await ddb.send(new TransactWriteCommand({ TransactItems: all.map((p) => p.item) }));
  } catch (err) {
    const codes = cancellationReasons(err);
    if (!codes || codes.some((c) => THROTTLED_CANCELLATIONS.has(c))) throw asUnavailable(err);
    throw new TransactionConflict(all, codes, { cause: err });
  }
}
