/**
 * CORS for other origins' browser clients (a customer's own frontend): none by default; the
 * operator lists origins (CDK prop/context `corsOrigins`, locally `CORS_ORIGINS`). The console
 * itself is same-origin and needs none. One definition for the HttpApi's corsPreflight and the
 * local gateway's emulation of it.
 */
export const CORS_ALLOW_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'x-request-id', 'if-match', 'last-event-id'];
export const CORS_ALLOW_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'] as const;
export const CORS_EXPOSE_HEADERS = ['etag', 'apigw-requestid', 'idempotent-replayed', 'idempotent-redacted', 'content-disposition'];
export const CORS_MAX_AGE_SECONDS = 3600;

/** Parses a comma-separated (or array) origin list; each must be an exact `scheme://host[:port]`. */
export function parseCorsOrigins(value: unknown): string[] {
  const list = (Array.isArray(value) ? value.map(String) : String(value ?? '').split(',')).map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
      throw new Error(`CORS origin ${JSON.stringify(origin)} must be an exact origin such as https://app.example.com (no path, no wildcard)`);
    }
  }
  return [...new Set(list)];
}

/**
 * The CORS response headers API Gateway adds for `origin` (empty when it is not allowed).
 * `preflight` adds the Allow-* headers of an OPTIONS answer.
 */
export function corsHeaders(origin: string | undefined, allowed: readonly string[], preflight: boolean): Record<string, string> {
  if (!origin || !allowed.includes(origin)) return {};
  return preflight
    ? {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': CORS_ALLOW_METHODS.join(','),
        'access-control-allow-headers': CORS_ALLOW_HEADERS.join(','),
        'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
        'vary': 'Origin',
      }
    : { 'access-control-allow-origin': origin, 'access-control-expose-headers': CORS_EXPOSE_HEADERS.join(','), 'vary': 'Origin' };
}
