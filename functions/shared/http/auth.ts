import { hkdfSync } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { config } from '../config.js';
import { clientsRepo } from '../db/clients-repo.js';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../domain/errors.js';
import { digestsEqual, hashToken } from '../domain/tokens.js';
import type { Caller } from '../domain/types.js';
import { traced } from '../observability.js';
import type { RouteDef } from './route.js';
import type * as Sdk from './secrets-sdk.js';

/** Deployed: its own bundle beside index.mjs (AppFunction `lazyModules`); from the sources, the module. A variable, so the bundler leaves it out. */
const SDK_MODULE = import.meta.url.endsWith('.mjs') ? './secrets-sdk.mjs' : './secrets-sdk.js';

let secretsClient: SecretsManagerClient | undefined;

/**
 * A secret's string. The SDK is imported on first use: only a container that reads the admin
 * secret evaluates it (an agent-facing function never does, and its cold start does not pay for it).
 */
async function secretString(secretId: string): Promise<string | undefined> {
  const sdk = (await import(SDK_MODULE)) as typeof Sdk;
  secretsClient ??= traced(new sdk.SecretsManagerClient({}));
  return (await secretsClient.send(new sdk.GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}

/**
 * A warm container re-reads the admin token secret after this long, so a rotated secret stops being
 * accepted within minutes, not at the next cold start (one GetSecretValue per container per 5 min).
 */
export const ADMIN_SECRET_MAX_AGE_MS = 5 * 60_000;

/** What is kept of the admin token in memory: its hash, and the key page tokens are sealed with. */
export interface AdminSecret {
  hash: string;
  /** HKDF-SHA256 of the token: the key of the pagination tokens (functions/shared/http/next-token.ts). */
  pageTokenKey: Buffer;
}

let adminCache: { readAt: number; value: Promise<AdminSecret> } | undefined;

async function readAdminSecret(): Promise<AdminSecret> {
  let token = config.adminToken;
  if (!token) {
    if (!config.adminTokenSecretArn) throw new Error('neither ADMIN_TOKEN nor ADMIN_TOKEN_SECRET_ARN is set');
    const value = await secretString(config.adminTokenSecretArn);
    if (!value) throw new Error('admin token secret has no string value');
    token = value.trim();
  }
  const pageTokenKey = Buffer.from(hkdfSync('sha256', token, 'spot-optimizer', 'next-token/v1', 32));
  return { hash: hashToken(token), pageTokenKey };
}

/**
 * The admin token's hash and derived keys (env locally, Secrets Manager when deployed), cached for
 * at most {@link ADMIN_SECRET_MAX_AGE_MS} of wall-clock time (not request time: the demo replays
 * requests in the past). A failed read is not cached: the next request tries again.
 */
export function adminSecret(): Promise<AdminSecret> {
  const nowMs = Date.now();
  if (!adminCache || nowMs - adminCache.readAt >= ADMIN_SECRET_MAX_AGE_MS) {
    const value = readAdminSecret().catch((err: unknown) => {
      if (adminCache?.value === value) adminCache = undefined;
      throw err;
    });
    adminCache = { readAt: nowMs, value };
  }
  return adminCache.value;
}

/** The admin token's hash (see {@link adminSecret}). */
export const adminTokenHash = async (): Promise<string> => (await adminSecret()).hash;

function bearer(headerValue: string | undefined): string | undefined {
  if (!headerValue) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headerValue);
  return match?.[1];
}

async function callerForToken(token: string, now: Date): Promise<Caller> {
  const hash = hashToken(token);
  if (digestsEqual(hash, await adminTokenHash())) return { kind: 'admin' };
  const record = await clientsRepo.findToken(hash);
  if (!record) throw new UnauthorizedError();
  if (record.valid_until && Date.parse(record.valid_until) <= now.getTime()) throw new UnauthorizedError();
  if (record.client_status !== 'active') throw new ForbiddenError('CLIENT_INACTIVE', 'the client is not active');
  return { kind: 'client', clientId: record.client_id };
}

/**
 * API.md §1.1: auth runs in the Lambda. Register may carry `client_token` in the body; a header
 * token that differs from it is 401, unless the header is the admin token (then the body selects the client).
 */
export async function authenticate(
  route: RouteDef,
  authorization: string | undefined,
  body: unknown,
  now: Date,
): Promise<Caller | undefined> {
  if (route.auth === 'none') return undefined;
  const headerToken = bearer(authorization);
  const bodyToken =
    route.bodyToken && typeof body === 'object' && body !== null && 'client_token' in body
      ? (body as { client_token?: unknown }).client_token
      : undefined;
  const bodyTokenString = typeof bodyToken === 'string' && bodyToken.length > 0 ? bodyToken : undefined;

  let caller: Caller;
  if (headerToken) {
    caller = await callerForToken(headerToken, now);
    if (bodyTokenString && bodyTokenString !== headerToken) {
      if (caller.kind !== 'admin') throw new UnauthorizedError('the body token differs from the header token');
      caller = await callerForToken(bodyTokenString, now);
    }
  } else if (bodyTokenString) {
    caller = await callerForToken(bodyTokenString, now);
  } else {
    throw new UnauthorizedError('missing bearer token');
  }

  if (route.auth === 'admin' && caller.kind !== 'admin') {
    throw new ForbiddenError('ADMIN_REQUIRED', 'this route requires the admin token');
  }
  return caller;
}

/** `{cid}` routes: a client token may only name its own client (403, API.md §1.1). */
export function assertClientScope(caller: Caller | undefined, clientId: string | undefined): void {
  if (caller?.kind === 'client' && clientId !== undefined && clientId !== caller.clientId) {
    throw new ForbiddenError('FORBIDDEN', 'this token may not access another client');
  }
}

/** Another client's resource is reported as absent (404), never as forbidden. */
export function assertOwner(caller: Caller, ownerClientId: string, what: string): void {
  if (caller.kind === 'client' && caller.clientId !== ownerClientId) throw new NotFoundError(what);
}

/** The client a request acts for: the caller's own, or (admin) an explicit one. */
export function actingClientId(caller: Caller, requested?: string | null): string | undefined {
  return caller.kind === 'client' ? caller.clientId : (requested ?? undefined);
}
