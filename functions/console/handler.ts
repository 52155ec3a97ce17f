import { AppError, NotFoundError } from '../shared/domain/errors.js';
import { createGroupHandler } from '../shared/http/create-handler.js';
import { reply } from '../shared/http/route.js';
import { CONSOLE_CSP, loadConsole, pickEncoding } from './assets.js';
import { consoleRoutes } from './routes.js';

/** Hashed names never change content: browsers and caches keep them a year without asking again. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function built() {
  const loaded = loadConsole();
  if (!loaded) throw new AppError(503, 'CONSOLE_NOT_BUILT', 'the console assets are not built (functions/console/build.ts)');
  return loaded;
}

export const handler = createGroupHandler(consoleRoutes, {
  getConsole: async ({ headers }) => {
    const { html, etag } = built();
    // no-cache = revalidate every load, so a deploy is seen at once; the ETag makes that a 304.
    const common = { 'cache-control': 'no-cache', 'etag': etag, 'vary': 'accept-encoding' };
    if (headers['if-none-match'] === etag) return reply(304, '', common);
    return reply(200, html, {
      ...common,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
  },
  getConsoleAsset: async ({ params, headers }) => {
    const asset = built().assets.get(params.file);
    if (!asset) throw new NotFoundError('asset');
    const encodings = (['br', 'gzip'] as const).filter((e) => asset[e]);
    const encoding = pickEncoding(headers['accept-encoding'], encodings);
    const body = (encoding && asset[encoding]) || asset.identity;
    return reply(200, body, {
      'content-type': asset.type,
      'cache-control': IMMUTABLE,
      'vary': 'accept-encoding',
      'x-content-type-options': 'nosniff',
      ...(encoding ? { 'content-encoding': encoding } : {}),
    });
  },
});
