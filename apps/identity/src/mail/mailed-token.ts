import { hashTokenSecret, randomBase62, secretMatches } from '@atrium/auth';

const MAILED_TOKEN_PATTERN = /^([A-Za-z0-9]{17})\.([A-Za-z0-9]{40})$/;

/**
 * A one-time token sent by mail: `<record id>.<secret>`. The record keeps only the secret's
 * SHA-256 (the secret has 238 bits, so a fast hash suffices), the id finds it without a scan.
 */
export function newMailedToken(id: string): { token: string; secretHash: string } {
  const secret = randomBase62(40);
  return { token: `${id}.${secret}`, secretHash: hashTokenSecret(secret) };
}

export function parseMailedToken(token: string): { id: string; secret: string } | null {
  const match = MAILED_TOKEN_PATTERN.exec(token.trim());
  return match ? { id: match[1], secret: match[2] } : null;
}

export function mailedTokenMatches(secret: string, secretHash: string | null): boolean {
  return secretHash !== null && secretMatches(secret, secretHash);
}
