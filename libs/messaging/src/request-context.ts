import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * The request a piece of work serves, carried from the gateway through RPC (a message header) and
 * events (the envelope), so that one request can be followed across services in their logs.
 */
interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The header that carries it: on HTTP requests and responses, and on RPC messages. */
export const REQUEST_ID_HEADER = 'x-request-id';

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** Runs `work` as part of a request (or as it is, without one). */
export function withRequestId<T>(requestId: string | undefined, work: () => T): T {
  return requestId ? storage.run({ requestId }, work) : work();
}

/** A caller's request id when it is one to keep (≤ 64 of letters, digits, `.`, `_`, `-`), else a new one. */
export function requestIdFrom(value: unknown): string {
  return typeof value === 'string' && /^[\w.-]{1,64}$/.test(value) ? value : randomUUID();
}
