import { createAtriumClient, type AtriumSchema } from '@atrium/client';

export type { AtriumSchema };

/**
 * The console's one way to the API: the typed client (`api.GET('/v2/datasets/{datasetId}', …)`),
 * with the session's access token (kept in memory only, never in storage), the account acted as
 * (`X-Account-Id`), and one silent refresh through the session cookie when the token has expired.
 */

let accessToken: string | undefined;
let actingAccountId: string | undefined;
let refresher: (() => Promise<boolean>) | undefined;

export function setAccessToken(token: string | undefined): void {
  accessToken = token;
}
/** The organization acted as; undefined acts as the signed-in user. */
export function setActingAccount(accountId: string | undefined): void {
  actingAccountId = accountId;
}
export function setRefresher(refresh: (() => Promise<boolean>) | undefined): void {
  refresher = refresh;
}

function send(request: Request): Promise<Response> {
  const attempt = request.clone();
  if (accessToken) attempt.headers.set('authorization', `Bearer ${accessToken}`);
  // What is shared with me is the user's, not the organization's: the API refuses X-Account-Id there.
  const sharedWithMe = new URL(attempt.url).searchParams.get('ownership') === 'sharedWithMe';
  if (actingAccountId && !sharedWithMe && !attempt.headers.has('x-account-id'))
    attempt.headers.set('x-account-id', actingAccountId);
  return fetch(attempt);
}

/** fetch with the session: retries once after a refresh when the access token has expired. */
export async function sessionFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = input instanceof Request ? input : new Request(input, init);
  const response = await send(request);
  if (response.status === 401 && accessToken && refresher && (await refresher())) return send(request);
  return response;
}

export const api = createAtriumClient({ baseUrl: window.location.origin, fetch: sessionFetch });

/** An answer of the API that is not a success, with the API's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
  /** The field the API named (`Field "body.name" is invalid: …` → `name`), if any. */
  get field(): string | undefined {
    return /^Field "(?:body|query|params)\.([^"]+)"/.exec(this.message)?.[1];
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function toError(answer: { error?: unknown; response: Response }): ApiError {
  const body = answer.error as { error?: { type?: string; message?: string } } | undefined;
  const status = answer.response.status;
  return new ApiError(
    status,
    body?.error?.type ?? 'internal-error',
    body?.error?.message ??
      (status >= 500 ? 'The server could not answer; try again shortly' : `Request failed (${status})`),
  );
}

/** The answer's body, or an ApiError. */
export async function call<T>(request: Promise<Answer<T>>): Promise<T> {
  const answer = await request;
  if (!answer.response.ok) throw toError(answer);
  return answer.data as T;
}

/** The `data` of the answer's `{ data }` envelope (undefined for a 204), or an ApiError. */
export async function data<T>(request: Promise<Answer<T>>): Promise<T extends { data: infer D } ? D : never> {
  const body = await call(request);
  return (body as { data: T extends { data: infer D } ? D : never } | undefined)?.data as T extends {
    data: infer D;
  }
    ? D
    : never;
}

/** A raw request (logs, records, exports): the Response, or an ApiError for a failure. */
export async function rawFetch(path: string, init?: RequestInit): Promise<Response> {
  const response = await sessionFetch(new URL(path, window.location.origin).toString(), init);
  if (response.ok) return response;
  let error: unknown;
  try {
    error = await response.json();
  } catch {
    error = undefined;
  }
  throw toError({ error, response });
}
