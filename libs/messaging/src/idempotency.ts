import { AppError } from '@atrium/contracts';
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Effectively-once write RPCs. A write request (an HTTP request at the gateway, or an RPC taken by
 * a service) has a key; every RPC made while serving it carries a key derived from it,
 * `<key>:<pattern>:<n>` for the n-th call of that pattern, and so does every call those handlers
 * make in turn. A redelivered or retried request derives the same keys, and the service's keyed
 * transactions (libs/persistence `ServiceDataSource`) answer a key already committed from its
 * record instead of writing twice. Each RPC also carries its caller's deadline: a handler is not
 * started past it, and a keyed transaction does not commit past it.
 */
interface IdempotencyContext {
  /** The key of the request being served; absent: deadline only. */
  readonly key?: string;
  /** Epoch ms after which the caller no longer waits for the answer. */
  readonly deadline?: number;
  /** Calls made so far per pattern and top-level transactions run, shared by the whole request. */
  readonly counters: Map<string, number>;
  /** Set inside a keyed transaction: transactions started within it are not keyed again. */
  readonly inTransaction?: boolean;
}

const storage = new AsyncLocalStorage<IdempotencyContext | undefined>();

export const IDEMPOTENCY_KEY_HEADER = 'x-idempotency-key';
export const DEADLINE_HEADER = 'x-deadline';
/** How long a key's recorded result answers repeats: rows older are swept (see README). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Derived keys grow with the call depth; a key longer than this is not recorded. */
const MAX_KEY_LENGTH = 1000;

/**
 * Runs `work` as the handling of a request with this key and deadline. `counters`, when given, is
 * where the calls it makes are counted (`call:<pattern>` → how many): the caller can see them after.
 */
export function withIdempotency<T>(
  key: string | undefined,
  deadline: number | undefined,
  work: () => T,
  counters = new Map<string, number>(),
): T {
  return storage.run({ key, deadline, counters }, work);
}

/** The patterns of the calls counted in `counters` (see `withIdempotency`). */
export function calledPatterns(counters: ReadonlyMap<string, number>): string[] {
  return [...counters.keys()].filter((c) => c.startsWith('call:')).map((c) => c.slice('call:'.length));
}

/** Runs `work` outside any request (event consumers, polling workers): nothing in it is keyed. */
export function withoutIdempotency<T>(work: () => T): T {
  return storage.run(undefined, work);
}

function next(context: IdempotencyContext, counter: string): number {
  const n = (context.counters.get(counter) ?? 0) + 1;
  context.counters.set(counter, n);
  return n;
}

/** The headers of an RPC sent now with this pattern and timeout: derived key and deadline. */
export function rpcCallHeaders(pattern: string, timeoutMs: number): Record<string, string> {
  const context = storage.getStore();
  const own = Date.now() + timeoutMs;
  const deadline = context?.deadline ? Math.min(own, context.deadline) : own;
  const headers: Record<string, string> = { [DEADLINE_HEADER]: String(deadline) };
  if (context?.key) {
    const key = `${context.key}:${pattern}:${next(context, `call:${pattern}`)}`;
    if (key.length <= MAX_KEY_LENGTH) headers[IDEMPOTENCY_KEY_HEADER] = key;
  }
  return headers;
}

/** Runs a handler under the key and deadline its request arrived with. */
export function withRpcHeaders<T>(headers: Record<string, unknown> | undefined, work: () => T): T {
  const key = headers?.[IDEMPOTENCY_KEY_HEADER];
  const deadline = Number(headers?.[DEADLINE_HEADER]);
  return withIdempotency(
    typeof key === 'string' && key ? key : undefined,
    Number.isFinite(deadline) && deadline > 0 ? deadline : undefined,
    work,
  );
}

/** Whether the caller of the request served has already given up on it. */
export function deadlinePassed(deadline = storage.getStore()?.deadline): boolean {
  return deadline !== undefined && Date.now() > deadline;
}

export function deadlineError(): AppError {
  return new AppError('service-unavailable', 'The request passed its deadline before it was done');
}

/**
 * Called by a data source starting a top-level transaction: the key to record it under (the
 * n-th transaction of the keyed request) and the deadline to check before COMMIT, or undefined
 * when the transaction is not part of a keyed request or is nested in a keyed one.
 */
export function enterKeyedTransaction(): { key?: string; deadline?: number } | undefined {
  const context = storage.getStore();
  if (!context || context.inTransaction) return undefined;
  const key = context.key ? `${context.key}#${next(context, 'transaction')}` : undefined;
  return { key: key && key.length <= MAX_KEY_LENGTH ? key : undefined, deadline: context.deadline };
}

/** The key a transaction started here would be recorded under (without its `#n`), if any. */
export function currentIdempotencyKey(): string | undefined {
  const context = storage.getStore();
  return context && !context.inTransaction ? context.key : undefined;
}

/** Runs a keyed transaction's work: what it starts joins it rather than being keyed itself. */
export function insideKeyedTransaction<T>(work: () => T): T {
  const context = storage.getStore();
  return context ? storage.run({ ...context, inTransaction: true }, work) : work();
}

/**
 * Fields never kept in a recorded result (it is stored for 24 hours and goes into backups):
 * secrets a transaction minted (an API token's or a session's, a run's token, a mailed token) and
 * the hashes that stand for one. A result that held one is recorded with a marker instead, and
 * its replay is refused (409): the secret cannot be shown again, and a new one would not match
 * what was stored. A password hash is dropped (a replay does not need it).
 */
const SECRET_FIELDS =
  /^(token|accessToken|refreshToken|runToken|secret|tokenHash|secretHash|leaseTokenHash)$/;
const DROPPED_FIELDS = /^passwordHash$/;
const SECRET_MARKER = '$secret';

/** JSON that keeps Dates (a handler's result is often an entity with timestamps), without secrets. */
export function serializeResult(value: unknown): string {
  return JSON.stringify({ value }, function (this: Record<string, unknown>, key, replaced) {
    const raw = this[key];
    if (raw !== null && raw !== undefined && !Array.isArray(this)) {
      if (DROPPED_FIELDS.test(key)) return undefined;
      if (SECRET_FIELDS.test(key) && typeof raw === 'string') return { [SECRET_MARKER]: true };
    }
    return raw instanceof Date ? { $date: raw.toISOString() } : replaced;
  });
}

export function deserializeResult(text: string): unknown {
  return (
    JSON.parse(text, (_key, value) => {
      if (value && typeof value === 'object' && Object.keys(value).length === 1) {
        if (value[SECRET_MARKER] === true) {
          throw new AppError(
            'conflict',
            'This request was already made (the same Idempotency-Key and body): its answer held a secret, which Atrium does not keep, so it cannot be answered again. Make a new request without this key',
          );
        }
        if (typeof value.$date === 'string') return new Date(value.$date);
      }
      return value;
    }) as { value: unknown }
  ).value;
}

/** A client's `Idempotency-Key`: 1–255 printable ASCII characters. */
export function isValidIdempotencyKey(value: unknown): value is string {
  return typeof value === 'string' && /^[\x20-\x7e]{1,255}$/.test(value);
}
