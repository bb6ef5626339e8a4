/** Access tokens: HS256 only (pinned on verification), issuer and audience checked, 15 minutes. */
export const JWT_ALGORITHM = 'HS256' as const;
export const JWT_ISSUER = 'atrium';
export const JWT_AUDIENCE = 'atrium-api';
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

export interface AccessTokenClaims {
  sub: string;
  username: string;
  typ: 'access';
  /** The session (refresh-token family) it belongs to: refused once that session ends. */
  sid: string;
}

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
