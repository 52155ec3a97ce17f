import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { AppError } from '../domain/errors.js';

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

/** The one error mapper: typed errors keep their status and code; anything else is a generic 500. */
export function errorResult(err: unknown, requestId: string): HttpResult {
  if (err instanceof AppError) {
    return jsonResult(
      err.status,
      { error: { code: err.code, message: err.message, details: err.details, request_id: requestId } },
      { 'apigw-requestid': requestId },
    );
  }
  return jsonResult(
    500,
    { error: { code: 'INTERNAL_ERROR', message: 'internal error', details: [], request_id: requestId } },
    { 'apigw-requestid': requestId },
  );
}
