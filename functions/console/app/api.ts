/**
 * The console's only way to the API: same origin, `Authorization: Bearer` from the session, JSON
 * in and out. The token lives in sessionStorage (gone when the tab closes), never in a URL or a log.
 */
const TOKEN_KEY = 'spot-optimizer.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<Record<string, unknown>> = [],
  ) {
    super(message);
  }
}

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** Called when the API refuses the token (401): the app returns to sign-in with this message. */
let onUnauthorized: (message: string) => void = () => {};
export const setUnauthorizedHandler = (fn: (message: string) => void) => {
  onUnauthorized = fn;
};

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function request<T>(method: string, path: string, options: { query?: Query; body?: unknown; headers?: Record<string, string>; raw?: boolean } = {}): Promise<T> {
  const token = session.token();
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(withQuery(path, options.query), {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The control plane cannot be reached. Check your connection; the console retries on its own.');
  }
  if (options.raw && res.ok) return (await res.blob()) as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; details?: Array<Record<string, unknown>> }; message?: string } | undefined) ?? {};
    const apiError = new ApiError(res.status, err.error?.code ?? `HTTP_${res.status}`, err.error?.message ?? err.message ?? res.statusText, err.error?.details ?? []);
    if (res.status === 401 && token) {
      session.clear();
      onUnauthorized('Your token was not accepted: it is wrong, or it was revoked or regenerated. Sign in again.');
    }
    throw apiError;
  }
  return json as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, query ? { query } : {}),
  post: <T>(path: string, body: unknown = {}, headers?: Record<string, string>) => request<T>('POST', path, { body, ...(headers ? { headers } : {}) }),
  delete: <T>(path: string) => request<T>('DELETE', path),
  blob: (path: string, query?: Query) => request<Blob>('GET', path, { raw: true, ...(query ? { query } : {}) }),
};

/** Who the token belongs to (GET /api/client/validate). */
export interface Identity {
  role: 'client' | 'admin';
  client_id: string | null;
  name: string | null;
}

export const validate = () => api.get<Identity>('/api/client/validate');

/** A short, human reason for an error box. */
export const errorText = (err: unknown): string =>
  err instanceof ApiError ? `${err.message}${err.code && err.status ? ` (${err.code})` : ''}` : err instanceof Error ? err.message : String(err);
