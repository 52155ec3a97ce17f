import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { config } from '../config.js';
import { clientsRepo } from '../db/clients-repo.js';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../domain/errors.js';
import { digestsEqual, hashToken } from '../domain/tokens.js';
import type { Caller } from '../domain/types.js';
import { traced } from '../observability.js';
import type { RouteDef } from './route.js';

export const secretsClient = traced(new SecretsManagerClient({}));

let adminHash: Promise<string> | undefined;

/** The admin token's hash, read once per container (env locally, Secrets Manager when deployed). */
export function adminTokenHash(): Promise<string> {
  adminHash ??= (async () => {
    if (config.adminToken) return hashToken(config.adminToken);
    if (!config.adminTokenSecretArn) throw new Error('neither ADMIN_TOKEN nor ADMIN_TOKEN_SECRET_ARN is set');
    const out = await secretsClient.send(new GetSecretValueCommand({ SecretId: config.adminTokenSecretArn }));
    if (!out.SecretString) throw new Error('admin token secret has no string value');
    return hashToken(out.SecretString.trim());
  })().catch((err: unknown) => {
    adminHash = undefined; // do not cache a failure: the next request tries again
    throw err;
  });
  return adminHash;
}

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
