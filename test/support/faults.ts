/**
 * Test-only fault injection on the db layer's hook (functions/shared/db/client.ts `addDbHook`):
 * every DynamoDB call of the shared client passes through it. A unit of work — one request, one
 * EventBridge delivery, one job run — is run with {@link FaultInjector.run}; its calls are counted
 * from 0 (AsyncLocalStorage keeps the count per unit, so setup and checks outside it are never
 * counted or faulted), and call `at` fails in one of three ways:
 *
 * - `throttle`: refused before it is sent, as DynamoDB refuses when throttling after the SDK's own
 *   retries (a TransactWriteItems is cancelled with `ThrottlingError`, as DynamoDB does; anything
 *   else is a ProvisionedThroughputExceededException);
 * - `timeout`: sent and applied, then the caller sees a timeout (the answer was lost on the way);
 * - `crash`: sent and applied, then the process is gone: this call and every later call of the
 *   unit fail without reaching the table, so nothing of the unit runs any more — no cleanup, no
 *   release, no later write. (Code that keeps running in memory can no longer change anything.)
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { addDbHook, type DbCall } from '../../functions/shared/db/client.js';

export const FAULT_MODES = ['throttle', 'timeout', 'crash'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface Fault {
  /** Index of the call to fail, counted from 0 within the unit of work. */
  readonly at: number;
  readonly mode: FaultMode;
}

/** Every call of the unit fails: DynamoDB throttles everything, or cannot be reached at all. */
export interface Outage {
  readonly outage: 'throttle' | 'unreachable';
}

/** One call of a unit of work, as recorded. */
export interface RecordedCall {
  readonly index: number;
  readonly command: string;
  /** Whether the call can change the table (a fault after it can leave a partial effect). */
  readonly write: boolean;
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

/** The error every call of a crashed unit gets: the process that would have made it is gone. */
export class ProcessCrashed extends Error {
  constructor() {
    super('injected crash: the process is gone');
    this.name = 'ProcessCrashed';
  }
}

export type UnitOutcome<T> =
  | { kind: 'ok'; value: T; calls: RecordedCall[] }
  | { kind: 'error'; error: unknown; calls: RecordedCall[] }
  /** The unit crashed: whatever it returned or threw never reached its caller. */
  | { kind: 'crashed'; calls: RecordedCall[] };

interface Unit {
  fault: Fault | Outage | undefined;
  calls: RecordedCall[];
  crashed: boolean;
}

function throttleError(call: DbCall): Error {
  const $metadata = { httpStatusCode: 400, attempts: 3, totalRetryDelay: 250 };
  if (call.command === 'TransactWriteItemsCommand') {
    const items = (call.input.TransactItems as unknown[] | undefined) ?? [];
    return new TransactionCanceledException({
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError]',
      $metadata,
      CancellationReasons: items.map((_, i) =>
        i === 0 ? { Code: 'ThrottlingError', Message: 'Throughput exceeds the current capacity for one or more global secondary indexes.' } : { Code: 'None' },
      ),
    });
  }
  return new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded.',
    $metadata,
  });
}

/** What the SDK raises when nothing listens at the endpoint (DynamoDB Local stopped). */
function unreachableError(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), {
    name: 'Error',
    code: 'ECONNREFUSED',
    $metadata: { attempts: 3, totalRetryDelay: 300 },
  });
}

/** What the SDK raises when an answer never arrives (request timeout after its retries). */
function timeoutError(): Error {
  return Object.assign(new Error('Connection timed out after 3000 ms'), {
    name: 'TimeoutError',
    code: 'ETIMEDOUT',
    $metadata: { attempts: 3, totalRetryDelay: 300 },
  });
}

export class FaultInjector {
  readonly #units = new AsyncLocalStorage<Unit>();
  #remove: (() => void) | undefined;

  /** Installs the hook (idempotent); returns the remover. */
  install(): () => void {
    this.#remove ??= addDbHook('fault-injector', async (call, send) => {
      const unit = this.#units.getStore();
      if (!unit) return send({ ...call.input });
      if (unit.crashed) throw new ProcessCrashed();
      const index = unit.calls.length;
      unit.calls.push({ index, command: call.command, write: WRITES.has(call.command) });
      if (unit.fault && 'outage' in unit.fault) throw unit.fault.outage === 'throttle' ? throttleError(call) : unreachableError();
      const fault = unit.fault?.at === index ? unit.fault : undefined;
      if (fault?.mode === 'throttle') throw throttleError(call);
      const output = await send({ ...call.input });
      if (fault?.mode === 'timeout') throw timeoutError();
      if (fault?.mode === 'crash') {
        unit.crashed = true;
        throw new ProcessCrashed();
      }
      return output;
    });
    return () => this.uninstall();
  }

  uninstall(): void {
    this.#remove?.();
    this.#remove = undefined;
  }

  /**
   * Runs one unit of work (a request, an event delivery, a job run), failing call `fault.at` if
   * given (or every call, during an outage).
   */
  async run<T>(work: () => Promise<T>, fault?: Fault | Outage): Promise<UnitOutcome<T>> {
    const unit: Unit = { fault, calls: [], crashed: false };
    try {
      const value = await this.#units.run(unit, work);
      return unit.crashed ? { kind: 'crashed', calls: unit.calls } : { kind: 'ok', value, calls: unit.calls };
    } catch (error) {
      return unit.crashed ? { kind: 'crashed', calls: unit.calls } : { kind: 'error', error, calls: unit.calls };
    }
  }

  /** The DynamoDB calls `work` makes (no fault). */
  async record<T>(work: () => Promise<T>): Promise<{ value: T; calls: RecordedCall[] }> {
    const outcome = await this.run(work);
    if (outcome.kind !== 'ok') throw outcome.kind === 'error' ? outcome.error : new Error('crashed without a fault');
    return { value: outcome.value, calls: outcome.calls };
  }
}
