import { z } from 'zod';
import { ApiTokenScope, apiTokenScopeSchema, MembershipFacts } from './access-scope';
import { ACCOUNT_GENERAL_ACCESS, AccountGeneralAccess } from './access.enums';
import { AccountFacts } from './facts';
import { healthRequest, HealthResponse, rpc } from './rpc-route';
import { isoDateSchema, usernameSchema } from './validation';

export const passwordSchema = z.string().min(8).max(200);
export const refreshTokenSchema = z.string().min(10).max(300);
/** How long a refresh token (a session's) stays usable: its row's `expiresAt`, the cookie's Max-Age. */
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export const signupBody = z
  .object({
    email: z.string().email().max(254),
    username: usernameSchema,
    password: passwordSchema,
  })
  .strict();
export const loginBody = z
  .object({ login: z.string().min(1).max(254), password: z.string().min(1).max(200) })
  .strict();
export const refreshBody = z.object({ refreshToken: refreshTokenSchema }).strict();
/**
 * How long after its rotation a refresh token may be presented again as a retry of a lost answer
 * (a browser reload cut the request after identity rotated it), when its successor was never used.
 */
export const REFRESH_RETRY_GRACE_MS = 20_000;
/** The refresh RPC: `retryGrace` (the browser session route only) accepts such a retry. */
export const refreshRequest = refreshBody.extend({ retryGrace: z.boolean().optional() }).strict();

/** A token mailed by identity (email verification, password reset, invitation): `<id>.<secret>`. */
export const mailedTokenSchema = z.string().trim().min(1).max(100);
export const emailTokenBody = z.object({ token: mailedTokenSchema }).strict();
export const emailAddressBody = z
  .object({ email: z.string().trim().toLowerCase().email().max(254) })
  .strict();
export const changePasswordBody = z
  .object({ currentPassword: z.string().min(1).max(200), newPassword: passwordSchema })
  .strict();
export const confirmPasswordResetBody = z
  .object({ token: mailedTokenSchema, newPassword: passwordSchema })
  .strict();

export const settingsBody = z
  .object({
    generalResourceAccess: z.enum(ACCOUNT_GENERAL_ACCESS).optional(),
    shareRunsWithPublicActorCreators: z.boolean().optional(),
  })
  .strict()
  .refine((s) => Object.keys(s).length > 0, { message: 'at least one setting is required' });

export const createTokenBody = z
  .object({
    name: z.string().min(1).max(100),
    expiresAt: isoDateSchema.optional().nullable(),
    /** null or absent: full access; else a scope (rule 1 narrows to it). */
    scope: apiTokenScopeSchema.nullable().optional(),
  })
  .strict();

export interface UserSettings {
  generalResourceAccess: AccountGeneralAccess;
  shareRunsWithPublicActorCreators: boolean;
}
export interface UserView {
  id: string;
  username: string;
  email: string;
  /** Whether the owner of the address confirmed it (the token mailed at sign-up). */
  emailVerified: boolean;
  createdAt: string;
  settings: UserSettings;
}
export interface PublicUserView {
  id: string;
  username: string;
}
export interface AuthResult {
  user: UserView;
  accessToken: string;
  refreshToken: string;
}
export interface ApiTokenView {
  id: string;
  name: string;
  prefix: string;
  scope: ApiTokenScope | null;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}
export interface CreatedApiToken extends ApiTokenView {
  /** The secret, returned once at creation and never again. */
  token: string;
}
export interface VerifiedApiToken {
  userId: string;
  username: string;
  tokenId: string;
  scope: ApiTokenScope | null;
  /** When the token stops working by itself. */
  expiresAt: string | null;
}

/** Sessions (refresh-token families) that ended: their access tokens are refused from now on. */
export interface EndedSessions {
  userId: string;
  sessionIds: string[];
}
/** Answered alike whether or not the address is registered. */
export interface MailRequested {
  accepted: true;
  message: string;
}

const userIdRequest = z.object({ userId: z.string().min(1) }).strict();

/**
 * One hit on a shared rate-limit window (the gateway's per-address auth limit): counted in identity's
 * database so that every gateway replica counts the same hits.
 */
export const rateLimitHitRequest = z
  .object({
    key: z.string().min(1).max(300),
    windowMs: z
      .number()
      .int()
      .min(1000)
      .max(24 * 60 * 60 * 1000),
  })
  .strict();
/** The window's hits so far, this one included, and how long until the window ends. */
export interface RateLimitHit {
  hits: number;
  windowEndsInMs: number;
}

export const IdentityRpc = {
  health: rpc<HealthResponse>()('identity', 'identity.health', healthRequest),
  signup: rpc<AuthResult>()('identity', 'identity.auth.signup', signupBody),
  login: rpc<AuthResult>()('identity', 'identity.auth.login', loginBody),
  hitRateLimit: rpc<RateLimitHit>()('identity', 'identity.auth.hit-rate-limit', rateLimitHitRequest),
  refresh: rpc<AuthResult>()('identity', 'identity.auth.refresh', refreshRequest),
  logout: rpc<EndedSessions>()('identity', 'identity.auth.logout', refreshBody),
  /** Whether the session of an access token (its `sid`) is still open: token-not-valid once ended. */
  verifySession: rpc<{ ok: true }>()(
    'identity',
    'identity.auth.verify-session',
    z.object({ userId: z.string().min(1), sessionId: z.string().min(1).max(17) }).strict(),
  ),
  verifyEmail: rpc<{ emailVerified: true }>()('identity', 'identity.auth.verify-email', emailTokenBody),
  resendVerification: rpc<MailRequested>()('identity', 'identity.auth.resend-verification', emailAddressBody),
  /** Ends every other session of the user (all of them when `sessionId` is null: an API token). */
  changePassword: rpc<EndedSessions>()(
    'identity',
    'identity.auth.change-password',
    z
      .object({
        userId: z.string().min(1),
        sessionId: z.string().min(1).max(17).nullable(),
        change: changePasswordBody,
      })
      .strict(),
  ),
  requestPasswordReset: rpc<MailRequested>()('identity', 'identity.auth.password-reset', emailAddressBody),
  /** Ends every session of the user. */
  confirmPasswordReset: rpc<EndedSessions>()(
    'identity',
    'identity.auth.password-reset-confirm',
    confirmPasswordResetBody,
  ),
  getUser: rpc<UserView>()('identity', 'identity.users.get', userIdRequest),
  updateSettings: rpc<UserView>()(
    'identity',
    'identity.users.update-settings',
    z.object({ userId: z.string().min(1), settings: settingsBody }).strict(),
  ),
  /** Finds a user by id, username or email. */
  resolveUser: rpc<PublicUserView>()(
    'identity',
    'identity.users.resolve',
    z.object({ ref: z.string().min(1).max(254) }).strict(),
  ),
  getAccountFacts: rpc<AccountFacts>()(
    'identity',
    'identity.accounts.get-facts',
    z.union([
      z.object({ id: z.string().min(1) }).strict(),
      z.object({ username: z.string().min(1) }).strict(),
    ]),
  ),
  createToken: rpc<CreatedApiToken>()(
    'identity',
    'identity.tokens.create',
    z.object({ userId: z.string().min(1), token: createTokenBody }).strict(),
  ),
  listTokens: rpc<ApiTokenView[]>()('identity', 'identity.tokens.list', userIdRequest),
  revokeToken: rpc<{ ok: true }>()(
    'identity',
    'identity.tokens.revoke',
    z.object({ userId: z.string().min(1), tokenId: z.string().min(1) }).strict(),
  ),
  /** A new secret for one of the user's tokens, shown once; the old secret stops working. */
  rotateToken: rpc<CreatedApiToken>()(
    'identity',
    'identity.tokens.rotate',
    z.object({ userId: z.string().min(1), tokenId: z.string().min(1) }).strict(),
  ),
  /** Replaces a token's scope (an app collaborator's token follows the collaborator's scopes). */
  setTokenScope: rpc<ApiTokenView>()(
    'identity',
    'identity.tokens.set-scope',
    z.object({ userId: z.string().min(1), tokenId: z.string().min(1), scope: apiTokenScopeSchema }).strict(),
  ),
  /** Both memberships (organization, collaboration) of a user in an account, for read-through. */
  getMembershipFacts: rpc<MembershipFacts[]>()(
    'identity',
    'identity.memberships.get-facts',
    z.object({ accountId: z.string().min(1), userId: z.string().min(1) }).strict(),
  ),
  verifyToken: rpc<VerifiedApiToken>()(
    'identity',
    'identity.tokens.verify',
    z.object({ token: z.string().min(1).max(300) }).strict(),
  ),
} as const;
