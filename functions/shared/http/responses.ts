import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { AppError, ServiceUnavailableError } from '../domain/errors.js';

export type HttpResult = APIGatewayProxyResultV2 & {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
};

export function jsonResult(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** A typed error as the caller sees it: the database being unavailable is a 503, whatever wrapped it. */
export function typedError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  return isDatabaseUnavailable(err) ? new ServiceUnavailableError(undefined, undefined, { cause: err }) : undefined;
}

/**
 * The one error mapper: typed errors keep their status and code; a database that throttles or is
 * unreachable is 503 SERVICE_UNAVAILABLE with `Retry-After`; anything else is a generic 500.
 */
export function errorResult(err: unknown, requestId: string): HttpResult {
  const typed = typedError(err);
  if (typed) {
    return jsonResult(
      typed.status,
      { error: { code: typed.code, message: typed.message, details: typed.details, request_id: requestId } },
      {
        'apigw-requestid': requestId,
        ...(typed instanceof ServiceUnavailableError ? { 'retry-after': String(typed.retryAfterSeconds) } : {}),
      },
    );
  }
  return jsonResult(
    500,
    { error: { code: 'INTERNAL_ERROR', message: 'internal error', details: [], request_id: requestId } },
    { 'apigw-requestid': requestId },
  );
}
