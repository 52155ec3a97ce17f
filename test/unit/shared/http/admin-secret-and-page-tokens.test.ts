import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashToken } from '../../../../functions/shared/domain/tokens.js';
import { ADMIN_SECRET_MAX_AGE_MS, adminTokenHash } from '../../../../functions/shared/http/auth.js';
import { openNextToken, pageBinding, sealNextToken } from '../../../../functions/shared/http/next-token.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:AdminToken-abc';
// Every client of the class: auth.ts creates its own on first use (the SDK is imported lazily).
const secrets = mockClient(SecretsManagerClient);

/** The deployed setting: the admin token comes from Secrets Manager, not from ADMIN_TOKEN. */
function deployed(): () => void {
  const saved = { token: process.env.ADMIN_TOKEN, arn: process.env.ADMIN_TOKEN_SECRET_ARN };
  delete process.env.ADMIN_TOKEN;
  process.env.ADMIN_TOKEN_SECRET_ARN = ARN;
  return () => {
    process.env.ADMIN_TOKEN = saved.token;
    if (saved.arn === undefined) delete process.env.ADMIN_TOKEN_SECRET_ARN;
    else process.env.ADMIN_TOKEN_SECRET_ARN = saved.arn;
  };
}

describe('admin token cache honours rotation', () => {
  let restore: () => void;
  let clock = 1_900_000_000_000;
  beforeEach(() => {
    restore = deployed();
    secrets.reset();
    // Far ahead of any earlier read in this process, so the first call below reads the secret.
    clock += 10 * ADMIN_SECRET_MAX_AGE_MS;
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    restore();
  });

  it('re-reads the secret after at most 5 minutes, and not before', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolvesOnce({ SecretString: 'old-token\n' }).resolves({ SecretString: 'new-token' });
    expect(await adminTokenHash()).toBe(hashToken('old-token'));
    clock += ADMIN_SECRET_MAX_AGE_MS - 1;
    expect(await adminTokenHash()).toBe(hashToken('old-token'));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    clock += 1;
    expect(await adminTokenHash()).toBe(hashToken('new-token'));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(secrets.commandCalls(GetSecretValueCommand)[1]?.args[0].input).toEqual({ SecretId: ARN });
  });

  it('does not cache a failed read', async () => {
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: 'token-2' });
    await expect(adminTokenHash()).rejects.toThrow('throttled');
    expect(await adminTokenHash()).toBe(hashToken('token-2'));
  });

  it('page tokens sealed with a rotated secret are refused', async () => {
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'key-one' }).resolves({ SecretString: 'key-two' });
    const binding = pageBinding({ operationId: 'listClients' }, { kind: 'admin' }, {}, { status: 'active' });
    const sealed = await sealNextToken('{"PK":"CLIENTS"}', binding);
    expect(await openNextToken(sealed, binding)).toBe('{"PK":"CLIENTS"}');
    clock += ADMIN_SECRET_MAX_AGE_MS;
    await expect(openNextToken(sealed, binding)).rejects.toMatchObject({ status: 400, code: 'INVALID_NEXT_TOKEN' });
  });
});

describe('page tokens', () => {
  const admin = { kind: 'admin' } as const;
  const clientA = { kind: 'client', clientId: 'a' } as const;
  const binding = (caller: typeof admin | typeof clientA, query: Record<string, unknown>, op = 'listAgents') =>
    pageBinding({ operationId: op }, caller, { cid: 'a' }, query);

  it('are opaque: the inner token is not readable', async () => {
    const sealed = await sealNextToken('{"PK":"CLIENT#a#AGENTS","SK":"x"}', binding(clientA, {}));
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('CLIENT#');
  });

  it('are bound to the caller and the listing, not to the page size or the order of the query', async () => {
    const sealed = await sealNextToken('inner', binding(clientA, { status: 'online', limit: 5, agent_id: 'x' }));
    expect(await openNextToken(sealed, binding(clientA, { agent_id: 'x', limit: 50, status: 'online' }))).toBe('inner');
    for (const other of [binding(admin, { status: 'online', agent_id: 'x' }), binding(clientA, { status: 'offline', agent_id: 'x' }), binding(clientA, { status: 'online', agent_id: 'x' }, 'listInstances')]) {
      await expect(openNextToken(sealed, other)).rejects.toMatchObject({ code: 'INVALID_NEXT_TOKEN' });
    }
  });

  it('refuse any altered byte', async () => {
    const b = binding(clientA, {});
    const raw = Buffer.from(await sealNextToken('inner', b), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const copy = Buffer.from(raw);
      copy[i] = (copy[i] as number) ^ 0x80;
      await expect(openNextToken(copy.toString('base64url'), b)).rejects.toMatchObject({ code: 'INVALID_NEXT_TOKEN' });
    }
  });
});
