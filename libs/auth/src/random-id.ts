import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Largest multiple of 62 below 256: bytes at or above it are discarded, so no modulo bias. */
const UNBIASED_LIMIT = 248;

/** `length` characters of base62 from the CSPRNG. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(Math.ceil((length - out.length) * 1.1) + 4)) {
      if (byte < UNBIASED_LIMIT) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export const ID_LENGTH = 17;

/** A resource or account id: 17 base62 characters (about 101 bits). */
export function newId(): string {
  return randomBase62(ID_LENGTH);
}
