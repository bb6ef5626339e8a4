import { API_TOKEN_PREFIX, generateApiToken, parseApiToken, secretMatches } from './api-token';
import { newId } from './random-id';

describe('API tokens', () => {
  it('round-trips: the token parses back to its id, and only its own secret matches the hash', () => {
    const id = newId();
    const { token, secretHash } = generateApiToken(id);
    expect(token.startsWith(API_TOKEN_PREFIX)).toBe(true);
    const parsed = parseApiToken(token);
    expect(parsed?.tokenId).toBe(id);
    expect(secretMatches(parsed!.secret, secretHash)).toBe(true);
    expect(
      secretMatches(
        parsed!.secret.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')),
        secretHash,
      ),
    ).toBe(false);
    expect(secretHash).not.toContain(parsed!.secret);
  });

  it('rejects anything not shaped like a token', () => {
    for (const bad of [
      '',
      'atrium_api_',
      `${API_TOKEN_PREFIX}short`,
      'eyJhbGciOi.x.y',
      `${API_TOKEN_PREFIX}${'a'.repeat(58)}`,
    ]) {
      expect(parseApiToken(bad)).toBeNull();
    }
  });
});
