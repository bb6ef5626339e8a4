import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { ApiError, setAccessToken, setActingAccount, setRefresher } from './api';

export interface SessionUser {
  id: string;
  username: string;
  email?: string;
}

interface SessionAnswer {
  data: { user: SessionUser; accessToken: string; csrfToken: string };
}

export interface Session {
  /** undefined while the session cookie is being tried at start; null when signed out. */
  user: SessionUser | null | undefined;
  signIn(login: string, password: string): Promise<void>;
  signUp(body: { email: string; username: string; password: string }): Promise<void>;
  signOut(): Promise<void>;
  /** The organization acted as (X-Account-Id), or undefined for the user's own account. */
  accountId: string | undefined;
  switchAccount(accountId: string | undefined): void;
}

let pendingRefresh: Promise<boolean> | undefined;
const SessionContext = createContext<Session | undefined>(undefined);
const ACCOUNT_KEY = 'atrium.actingAccount';

/**
 * The CSRF token the session route wants back as a header (double submit; the cookie is not HttpOnly).
 * Over HTTPS its name is `__Host-atrium_csrf` (no other origin can set it), over HTTP `atrium_csrf`.
 */
function csrfCookie(): string {
  const cookie = (name: string) => new RegExp(`(?:^|;\\s*)${name}=([^;]*)`).exec(document.cookie)?.[1];
  return cookie('__Host-atrium_csrf') ?? cookie('atrium_csrf') ?? '';
}

async function sessionRequest(method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': decodeURIComponent(csrfCookie()) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const answer = (await response.json().catch(() => undefined)) as
      { error?: { type?: string; message?: string } } | undefined;
    throw new ApiError(
      response.status,
      answer?.error?.type ?? 'internal-error',
      answer?.error?.message ?? `Request failed (${response.status})`,
    );
  }
  return response;
}

/**
 * The signed-in user. The access token lives in memory only; the refresh token is an HttpOnly,
 * SameSite=Strict cookie (on /v2/auth/session over HTTP, `__Host-` over HTTPS), so a reload resumes
 * the session through it.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  const [accountId, setAccountId] = useState<string | undefined>(
    () => sessionStorage.getItem(ACCOUNT_KEY) ?? undefined,
  );

  const accept = useCallback(async (response: Response) => {
    const { data } = (await response.json()) as SessionAnswer;
    setAccessToken(data.accessToken);
    setUser(data.user);
  }, []);

  const refresh = useCallback(async (): Promise<boolean> => {
    try {
      // Tabs share the cookie: one refresh at a time across them (Web Locks), or two tabs opened
      // together would both spend the same refresh token, and its reuse ends the session.
      const send = () => sessionRequest('POST', '/v2/auth/session/refresh');
      const response = navigator.locks
        ? await navigator.locks.request('atrium-session-refresh', send)
        : await send();
      await accept(response);
      return true;
    } catch {
      setAccessToken(undefined);
      setUser(null);
      return false;
    }
  }, [accept]);

  useEffect(() => {
    // Concurrent callers (and StrictMode's second run of this effect) share one refresh: a refresh
    // token is single-use, and a reused one ends the session.
    const shared = () => (pendingRefresh ??= refresh().finally(() => (pendingRefresh = undefined)));
    setRefresher(shared);
    void shared();
    return () => setRefresher(undefined);
  }, [refresh]);

  useEffect(() => {
    setActingAccount(accountId);
    if (accountId) sessionStorage.setItem(ACCOUNT_KEY, accountId);
    else sessionStorage.removeItem(ACCOUNT_KEY);
  }, [accountId]);

  const value = useMemo<Session>(
    () => ({
      user,
      accountId,
      async signIn(login, password) {
        await accept(await sessionRequest('POST', '/v2/auth/session', { login, password }));
        queryClient.clear();
      },
      async signUp(body) {
        await accept(await sessionRequest('POST', '/v2/auth/session/signup', body));
        queryClient.clear();
      },
      async signOut() {
        await sessionRequest('DELETE', '/v2/auth/session').catch(() => undefined);
        setAccessToken(undefined);
        setAccountId(undefined);
        setUser(null);
        queryClient.clear();
      },
      switchAccount(next) {
        setActingAccount(next);
        setAccountId(next);
        queryClient.clear();
      },
    }),
    [user, accountId, accept, queryClient],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
