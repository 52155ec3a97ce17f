import { existsSync, readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { config } from '../shared/config.js';
import { NotFoundError } from '../shared/domain/errors.js';
import { errorResult, type HttpResult } from '../shared/http/responses.js';

/**
 * Documentation only (not one of the 89 API routes). Deployed, the document is generated at build
 * time next to the bundle (lib/constructs/http-api.ts runs bin/openapi.ts after bundling), so this
 * function only serves a file: no route table, no JSON Schema generation at run time. Run from the
 * sources (the local runtime, the tests), it is generated on the first request.
 */
const PREBUILT = new URL('./openapi.json', import.meta.url);

/** The prebuilt document carries the package version; the function reports its own (APP_VERSION). */
function withVersion(text: string): string {
  const doc = JSON.parse(text) as { info: { version: string } };
  doc.info.version = config.version;
  return JSON.stringify(doc);
}

let body: string | undefined = existsSync(PREBUILT) ? withVersion(readFileSync(PREBUILT, 'utf8')) : undefined;

async function generated(): Promise<string> {
  const [{ ROUTE_TABLE }, { buildOpenApiDocument }] = await Promise.all([import('../route-table.js'), import('../shared/http/openapi.js')]);
  return JSON.stringify(buildOpenApiDocument(ROUTE_TABLE, { version: config.version }));
}

export const handler = async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
  const requestId = event.requestContext?.requestId ?? 'local';
  if (event.routeKey && event.routeKey !== 'GET /openapi.json' && event.routeKey !== '$default') {
    return errorResult(new NotFoundError('route'), requestId);
  }
  body ??= await generated();
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
