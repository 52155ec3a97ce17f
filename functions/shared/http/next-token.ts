import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ValidationError } from '../domain/errors.js';
import type { Caller } from '../domain/types.js';
import { adminSecret } from './auth.js';
import type { RouteDef } from './route.js';

/**
 * Pagination tokens as callers see them (API.md §1.2: "nextToken is opaque; a bad one gets 400
 * INVALID_NEXT_TOKEN"). The repositories' own tokens (a LastEvaluatedKey, the admin lists' role
 * position…) never leave the server in the clear: the request pipeline seals each outgoing
 * `nextToken` with AES-256-GCM and opens each incoming one before the implementation sees it.
 *
 * - Opaque: the key names and values of the table are encrypted, not base64 JSON.
 * - Tamper-evident: GCM's authentication tag (a MAC) fails on any changed byte.
 * - Bound: the additional authenticated data is the caller (admin, or the client id) and the listing
 *   (canonical operation, path parameters, query without `nextToken`/`limit`), so a token taken from
 *   another listing, another caller or another client is refused like a forged one.
 * - Keyed from the stack's secret: HKDF of the admin token (Secrets Manager deployed, ADMIN_TOKEN
 *   locally; see auth.ts `adminSecret`). Rotating the admin token invalidates outstanding page
 *   tokens: a caller then gets 400 and starts the listing again.
 */

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const invalid = () =>
  new ValidationError('nextToken is not valid', [{ field: 'query.nextToken', issue: 'invalid' }], 'INVALID_NEXT_TOKEN');

/** JSON with sorted keys, so the binding does not depend on the order query parameters arrived in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What a page token is bound to: who asks, and which listing (page size excluded: it may change between pages). */
export function pageBinding(
  route: Pick<RouteDef, 'operationId' | 'aliasOf'>,
  caller: Caller | undefined,
  params: Record<string, unknown>,
  query: Record<string, unknown>,
): string {
  const who = !caller ? 'anonymous' : caller.kind === 'admin' ? 'admin' : `client:${caller.clientId}`;
  const { nextToken: _token, limit: _limit, ...listing } = query;
  return `v${VERSION}\n${who}\n${route.aliasOf ?? route.operationId}\n${canonical(params)}\n${canonical(listing)}`;
}

export async function sealNextToken(inner: string, binding: string): Promise<string> {
  const { pageTokenKey } = await adminSecret();
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', pageTokenKey, iv);
  cipher.setAAD(Buffer.from(binding, 'utf8'));
  const sealed = Buffer.concat([cipher.update(inner, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** The repository token inside a sealed one, or 400 INVALID_NEXT_TOKEN (forged, altered, another listing or caller). */
export async function openNextToken(token: string, binding: string): Promise<string> {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid();
  const raw = Buffer.from(token, 'base64url');
  if (raw.length < 1 + IV_BYTES + TAG_BYTES + 1 || raw[0] !== VERSION) throw invalid();
  const { pageTokenKey } = await adminSecret();
  try {
    const decipher = createDecipheriv('aes-256-gcm', pageTokenKey, raw.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(Buffer.from(binding, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw invalid();
  }
}

/** The response with its `nextToken` (when a string) sealed for the same binding. */
export async function sealPage(out: unknown, binding: string): Promise<unknown> {
  if (!out || typeof out !== 'object' || Array.isArray(out)) return out;
  const page = out as { nextToken?: unknown };
  if (typeof page.nextToken !== 'string' || page.nextToken === '') return out;
  return { ...page, nextToken: await sealNextToken(page.nextToken, binding) };
}
