import { ConsoleLogger, INestApplicationContext, Logger } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { RpcParamtype } from '@nestjs/microservices/enums/rpc-paramtype.enum';
import { parseInternal, RpcRoute, SerializedAppError } from '@atrium/contracts';
import { RPC_ROUTE_METADATA } from './rpc-handler.decorator';
import { serializeRpcError } from './rpc-error.filter';
import { noteSchemaVersion, SCHEMA_VERSION_HEADER } from './schema-version';
import { remoteContext, rpcSpan, TRACEPARENT } from './tracing';

/** A request's outcome as Nest's RPC clients read it: the handler's value, or its error. */
export type RpcAnswer =
  { response: unknown; err?: undefined } | { err: SerializedAppError; response?: undefined };

interface Handler {
  /** `Controller.method`, for the log. */
  name: string;
  route: RpcRoute;
  call(payload: unknown): unknown;
}

const logger = new Logger('RPC');

/**
 * The handlers of one service's app (controller methods marked `@RpcHandler`), called directly
 * by its server, RabbitMQ's or the in-process one. Around each call, as plain code: the payload
 * validated against the route's schema (read tolerantly: a caller may be of another release),
 * the request's schema version noted, its latency observed (`atrium_rpc_duration_seconds`,
 * server side) and, with tracing on, a server span continuing the caller's trace; a debug line;
 * and a failure turned into the `{ type, message }` the caller gets (`serializeRpcError`).
 *
 * Nest's own RPC pipeline (pipes, interceptors and filters as rxjs streams around each call) did
 * the same at about a quarter of a service's CPU per request; the handlers are plain methods
 * taking one payload, so none of it is needed (issue 18).
 */
export class RpcDispatcher {
  private readonly handlers = new Map<string, Handler>();

  constructor(private readonly service: string) {}

  /** Finds every `@RpcHandler` method of the app's controllers; a pattern handled twice is an error. */
  static fromApp(app: INestApplicationContext, service: string): RpcDispatcher {
    const dispatcher = new RpcDispatcher(service);
    for (const module of app.get(ModulesContainer).values()) {
      for (const { instance, metatype } of module.controllers.values()) {
        if (!instance || typeof metatype !== 'function') continue;
        for (const key of methodNames(metatype.prototype as object)) {
          const method = (instance as Record<string, unknown>)[key] as (payload: unknown) => unknown;
          const route = Reflect.getMetadata(RPC_ROUTE_METADATA, method) as RpcRoute | undefined;
          if (!route) continue;
          assertPayloadOnly(metatype, key);
          dispatcher.add(`${metatype.name}.${key}`, route, method, instance);
        }
      }
    }
    return dispatcher;
  }

  add(name: string, route: RpcRoute, method: (payload: unknown) => unknown, instance?: unknown): void {
    const existing = this.handlers.get(route.pattern);
    if (existing) throw new Error(`${route.pattern} is handled twice: by ${existing.name} and ${name}`);
    this.handlers.set(route.pattern, { name, route, call: (payload) => method.call(instance, payload) });
  }

  handles(pattern: string): boolean {
    return this.handlers.has(pattern);
  }

  get patterns(): string[] {
    return [...this.handlers.keys()];
  }

  /**
   * Runs the handler of `pattern` (which must be `handles`d) on `payload`. `headers` are the
   * RabbitMQ request's (schema version, trace); a request in process has none.
   */
  async handle(pattern: string, payload: unknown, headers?: Record<string, unknown>): Promise<RpcAnswer> {
    const handler = this.handlers.get(pattern)!;
    if (headers) noteSchemaVersion('RPC', pattern, headers[SCHEMA_VERSION_HEADER]);
    const started = performance.now();
    // The line is only made when the process logs at debug (the app's logger decides; Nest's
    // static level is not set by it).
    const line = (outcome: string) =>
      ((logger.localInstance as Partial<ConsoleLogger> | undefined)?.isLevelEnabled?.('debug') ?? true) &&
      logger.debug(`${handler.name} ${outcome} in ${(performance.now() - started).toFixed(1)} ms`);
    try {
      const response = await rpcSpan(
        'server',
        this.service,
        pattern,
        async () => handler.call(parseInternal(handler.route.request, payload, 'payload')),
        headers ? remoteContext(headers[TRACEPARENT]) : undefined,
      );
      line('answered');
      return { response };
    } catch (exception) {
      const err = serializeRpcError(exception);
      line(`failed (${err.type})`);
      return { err };
    }
  }
}

/** A prototype's own and inherited method names, up to Object's. */
function methodNames(prototype: object): string[] {
  const names = new Set<string>();
  for (let p = prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(p, name)?.value === 'function')
        names.add(name);
    }
  }
  return [...names];
}

/** Checks that a handler takes the payload alone (`@Payload()` first, no other parameter decorator). */
function assertPayloadOnly(metatype: { name: string }, key: string): void {
  const params = (Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, key) ?? {}) as Record<
    string,
    { data?: unknown; pipes?: unknown[] }
  >;
  const entries = Object.entries(params);
  const payloadOnly =
    entries.length === 0 ||
    (entries.length === 1 &&
      entries[0][0] === `${RpcParamtype.PAYLOAD}:0` &&
      entries[0][1].data === undefined &&
      !entries[0][1].pipes?.length);
  if (!payloadOnly)
    throw new Error(
      `${metatype.name}.${key}: an RPC handler takes its payload as its only parameter (@Payload())`,
    );
}
