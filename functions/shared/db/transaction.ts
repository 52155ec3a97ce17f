import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from './client.js';
import { cancellationReasons, type TxItem } from './conditions.js';
import { asUnavailable, THROTTLED_CANCELLATIONS } from './unavailable.js';

/**
 * One named part of a TransactWriteItems call. The repositories build the parts
 * (`agentsRepo.updateTx`, `instancesRepo.changeRoleTx`, …); services only compose them and read
 * failures by name, never by position.
 */
export interface TxPart {
  readonly part: string;
  readonly item: TxItem;
}

export const txPart = (part: string, item: TxItem): TxPart => ({ part, item });

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
  try {
    await ddb.send(new TransactWriteCommand({ TransactItems: parts.map((p) => p.item) }));
  } catch (err) {
    const codes = cancellationReasons(err);
    if (!codes || codes.some((c) => THROTTLED_CANCELLATIONS.has(c))) throw asUnavailable(err);
    throw new TransactionConflict(parts, codes, { cause: err });
  }
}
