import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ROUTE_TABLE } from '../route-table.js';
import { config } from '../shared/config.js';
import { NotFoundError } from '../shared/domain/errors.js';
import { buildOpenApiDocument } from '../shared/http/openapi.js';
import { errorResult, type HttpResult } from '../shared/http/responses.js';

/** Documentation only (not one of the 89 API routes): the document is built once per container. */
const body = JSON.stringify(buildOpenApiDocument(ROUTE_TABLE, { version: config.version }));

export const handler = async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
  const requestId = event.requestContext?.requestId ?? 'local';
  if (event.routeKey && event.routeKey !== 'GET /openapi.json' && event.routeKey !== '$default') {
    return errorResult(new NotFoundError('route'), requestId);
  }
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'public, max-age=300',
      'apigw-requestid': requestId,
    },
    body,
  };
};
