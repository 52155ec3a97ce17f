import { ServiceUnavailableError } from '../domain/errors.js';

/**
 * DynamoDB errors that say "not now" rather than "no": throttling, service-side failures and
 * requests that never got an answer (refused, reset, timed out). The SDK has already retried them
 * (`maxAttempts`); the caller may retry later, and the HTTP API answers 503 with `Retry-After`.
 */
const UNAVAILABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
/** Cancellation codes of a TransactWriteItems that was throttled rather than refused. */
export const THROTTLED_CANCELLATIONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded']);

function unavailableItself(err: object): boolean {
  if (err instanceof ServiceUnavailableError) return true;
  const e = err as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown }; CancellationReasons?: { Code?: string }[] };
  if (typeof e.name === 'string' && UNAVAILABLE_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  return e.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => THROTTLED_CANCELLATIONS.has(r.Code ?? ''));
}

/** Whether `err` (or an error it wraps, through `cause`) means the database was unavailable. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (unavailableItself(e)) return true;
  }
  return false;
}

/** `err` as a {@link ServiceUnavailableError} when it means the database was unavailable, else unchanged. */
export function asUnavailable(err: unknown): unknown {
  if (err instanceof ServiceUnavailableError || !isDatabaseUnavailable(err)) return err;
  return new ServiceUnavailableError(undefined, undefined, { cause: err });
}
