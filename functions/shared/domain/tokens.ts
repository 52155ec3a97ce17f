import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Client tokens: 48 random bytes, base64url (64 characters; API.md requires ≥ 40). */
export const generateToken = (): string => `so_${randomBytes(48).toString('base64url')}`;

/** Only this hash is ever stored or compared. */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** Constant-time comparison of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** First 4 and last 4 characters: enough to recognise a token, useless to an attacker. */
export const tokenHint = (token: string): string => `${token.slice(0, 4)}…${token.slice(-4)}`;

export const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
