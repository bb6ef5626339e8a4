import { createHash, timingSafeEqual } from 'node:crypto';
import { ID_LENGTH, randomBase62 } from './random-id';

/** API tokens read `atrium_api_<17-char token id><40-char secret>`; only a hash of the secret is kept. */
export const API_TOKEN_PREFIX = 'atrium_api_';
const SECRET_LENGTH = 40;
const API_TOKEN_PATTERN = new RegExp(
  `^${API_TOKEN_PREFIX}([A-Za-z0-9]{${ID_LENGTH}})([A-Za-z0-9]{${SECRET_LENGTH}})$`,
);

export function generateApiToken(
  tokenId: string,
  prefix = API_TOKEN_PREFIX,
): { token: string; secretHash: string } {
  const secret = randomBase62(SECRET_LENGTH);
  return { token: `${prefix}${tokenId}${secret}`, secretHash: hashTokenSecret(secret) };
}

export function parseApiToken(token: string): { tokenId: string; secret: string } | null {
  const match = API_TOKEN_PATTERN.exec(token);
  return match ? { tokenId: match[1], secret: match[2] } : null;
}

/** Run tokens read `atrium_run_<17-char run id><40-char secret>`: a run acts as its starter. */
export const RUN_TOKEN_PREFIX = 'atrium_run_';
const RUN_TOKEN_PATTERN = new RegExp(
  `^${RUN_TOKEN_PREFIX}([A-Za-z0-9]{${ID_LENGTH}})([A-Za-z0-9]{${SECRET_LENGTH}})$`,
);

export function generateRunToken(runId: string): { token: string; secretHash: string } {
  return generateApiToken(runId, RUN_TOKEN_PREFIX);
}

export function parseRunToken(token: string): { runId: string; secret: string } | null {
  const match = RUN_TOKEN_PATTERN.exec(token);
  return match ? { runId: match[1], secret: match[2] } : null;
}

/** Secrets are high-entropy random strings, so a fast hash is enough (no password stretching). */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashTokenSecret(secret), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
