import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  RequestMethod,
  Type,
} from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { AppError } from '@atrium/contracts';
import { calledPatterns, isValidIdempotencyKey, withIdempotency } from '@atrium/messaging';
import { createHash, randomUUID } from 'node:crypto';
import { catchError, concatMap, Observable } from 'rxjs';
import type { Principal } from '../auth/principal';
import { AccessDecisions } from '../authorization/access-decisions';
import { reachesKeptReads } from './cached-views';

export const IDEMPOTENCY_KEY_HTTP_HEADER = 'idempotency-key';

interface KeyedRequest {
  method: string;
  url: string;
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
  user?: Principal;
}

/**
 * Makes every non-GET request a keyed request (libs/messaging idempotency.ts): the RPCs its
 * handler sends carry keys derived from it, so that a request delivered twice to the services
 * writes once. The key is new per request, or the client's `Idempotency-Key`, scoped to who
 * asks, the method, path and a hash of the body: the same key with another body, or from
 * another principal, is another request and never replays someone else's answer.
 * Runs after the guards, so authorization's own calls are not counted in the derivation.
 *
 * A write that sent a call to a service answers — with its result or its error — no sooner than
 * `AccessDecisions.settle` after its work: by then no replica serves a decision (that a change of
 * access could widen) or a resource's view (`CachedViews`) that was read before it. Read-your-writes
 * on every replica, with no message between them. Calls that reach nothing kept (a request queue's
 * operations: `reachesKeptReads`) do not make it wait.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly access: AccessDecisions) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<KeyedRequest>();
    const key = requestKey(request);
    if (!key) return next.handle();
    const calls = new Map<string, number>();
    const settled = async () => {
      if (calledPatterns(calls).some(reachesKeptReads)) await this.access.settle();
    };
    // The handler is called on subscription: run it, and all it awaits, under the key.
    return new Observable((subscriber) =>
      withIdempotency(
        key,
        undefined,
        () =>
          next
            .handle()
            .pipe(
              catchError(async (err: unknown) => {
                await settled();
                throw err;
              }),
              concatMap(async (body: unknown) => {
                await settled();
                return body;
              }),
            )
            .subscribe(subscriber),
        calls,
      ),
    );
  }
}

/**
 * Puts IdempotencyInterceptor first on every route of these controllers but GET ones (and so
 * HEAD), which it has nothing to do for: Nest runs a route with no interceptor without its
 * interceptor chain, whose rxjs `defer`s and `AsyncResource.bind`s cost ~4 % of the gateway's
 * CPU on a read. Called on the controller classes before the module is built.
 */
export function keyWrites(controllers: readonly Type<unknown>[]): void {
  for (const controller of controllers) {
    for (
      let proto = controller.prototype;
      proto && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler: unknown = Object.getOwnPropertyDescriptor(proto, name)?.value;
        if (typeof handler !== 'function') continue;
        const method: RequestMethod | undefined = Reflect.getMetadata(METHOD_METADATA, handler);
        if (method === undefined || method === RequestMethod.GET) continue;
        const interceptors: unknown[] = Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? [];
        if (interceptors.includes(IdempotencyInterceptor)) continue;
        Reflect.defineMetadata(INTERCEPTORS_METADATA, [IdempotencyInterceptor, ...interceptors], handler);
      }
    }
  }
}

/** The request's key, or none for a read. Throws 400 for a malformed `Idempotency-Key`. */
export function requestKey(request: KeyedRequest): string | undefined {
  const given = request.headers[IDEMPOTENCY_KEY_HTTP_HEADER];
  if (given !== undefined && !isValidIdempotencyKey(given))
    throw new AppError(
      'invalid-input',
      'The Idempotency-Key header must be 1 to 255 printable ASCII characters',
    );
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return undefined;
  if (given === undefined) return randomUUID();
  const principal = request.user?.kind === 'user' ? request.user.userId : 'anonymous';
  const scope = createHash('sha256')
    .update(`${principal}\n${request.method}\n${request.url}\n`)
    .update(bodyBytes(request.body))
    .update(`\n${given}`)
    .digest('base64url');
  return `k-${scope}`;
}

function bodyBytes(body: unknown): Buffer | string {
  if (body === undefined || body === null) return '';
  if (Buffer.isBuffer(body) || typeof body === 'string') return body;
  return JSON.stringify(body);
}
