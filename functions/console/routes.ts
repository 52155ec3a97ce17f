import * as z from 'zod';
import { defineRoute } from '../shared/http/route.js';

/** A built asset's file name: `<name>-<hash>.<ext>` (no path, nothing to traverse). */
export const ASSET_FILE = /^[\w-]{1,100}\.(?:js|css)$/;

/**
 * The web console, served by its own Lambda from the API's origin (no CORS, no second domain):
 * the HTML shell (revalidated on every load) and the content-hashed bundles it names (cached for a
 * year, immutable). `GET /` sends browsers here (health group); API clients keep the JSON banner.
 */
export const consoleRoutes = {
  getConsole: defineRoute({
    operationId: 'getConsole',
    method: 'GET',
    path: '/console',
    group: 'console',
    auth: 'none',
    summary: 'The web console: HTML shell (Cache-Control: no-cache, Content-Security-Policy)',
    response: z.string(),
    responseKind: 'html',
  }),
  getConsoleAsset: defineRoute({
    operationId: 'getConsoleAsset',
    method: 'GET',
    path: '/console/assets/{file}',
    group: 'console',
    auth: 'none',
    summary: 'A content-hashed console bundle (JS or CSS; br/gzip by Accept-Encoding; immutable, cached a year)',
    params: z.object({ file: z.string().regex(ASSET_FILE, 'an asset file name') }),
    response: z.string(),
    responseKind: 'asset',
  }),
};
