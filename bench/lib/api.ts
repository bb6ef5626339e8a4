import { progress, sleep } from './log';

/** Setup calls retried after a 429/5xx or network error (reported with the results). */
export const retries: string[] = [];

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** A JSON client of one gateway for setup and probes; every call has a deadline. */
export class Api {
  constructor(readonly port: number) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async request(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; timeoutMs?: number } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body };
  }

  /**
   * A setup call that must answer `expected` (its `data`; `undefined` for a 409 after a retry
   * when `conflictAfterRetryIsDone`); retried (bounded) on 429/5xx and network errors,
   * which a loaded 2-core machine can produce, and failing the harness otherwise.
   */
  async expect<T = Record<string, unknown>>(
    expected: number,
    method: string,
    path: string,
    options: { token?: string; body?: unknown; conflictAfterRetryIsDone?: boolean } = {},
  ): Promise<T> {
    let last = '';
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt) {
        retries.push(`${method} ${path.replace(/[A-Za-z0-9]{17}/g, ':id')}: ${last.slice(0, 120)}`);
        progress(`retrying ${method} ${path} after: ${last.slice(0, 200)}`);
        await sleep(200 * 2 ** attempt);
      }
      try {
        const res = await this.request(method, path, options);
        if (res.status === expected) return (res.body as { data: T } | undefined)?.data as T;
        // The earlier attempt did take effect (its answer was lost): the caller looks it up.
        if (attempt && res.status === 409 && options.conflictAfterRetryIsDone) return undefined as T;
        last = `${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
        if (res.status !== 429 && res.status < 500) break;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
    }
    throw new Error(`${method} ${path} on :${this.port} expected ${expected}, got ${last}`);
  }
}
