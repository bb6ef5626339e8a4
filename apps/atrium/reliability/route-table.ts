import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * The key under which the gateway's `@Public`, `@SignedIn`, `@InAccount` and `@Authorize`
 * decorators store a route's rule (apps/gateway/src/authorization/authorize.decorator.ts). The
 * gateway exports only its app factory, so the key is repeated here; `readRouteTable` fails if
 * no route carries it, so a rename cannot make every route look unguarded-but-passing.
 */
export const AUTHORIZATION_KEY = 'atrium:authorization';

export type AuthorizationRule =
  | { kind: 'public' }
  | { kind: 'signed-in' }
  /** Any credential; the handler decides on what the request names (webhooks). */
  | { kind: 'any-credential' }
  | { kind: 'in-account'; type: string; permission: 'CREATE' | 'READ' }
  | {
      kind: 'resource';
      permission: string;
      param: string;
      type: string | { collectionParam: string };
      signed?: 'content' | 'record';
    };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Route {
  method: HttpMethod;
  /** Fastify syntax: `/v2/datasets/:datasetId`. */
  path: string;
  controller: string;
  handler: string;
  /** Undefined when neither the handler nor its controller carries a rule. */
  rule: AuthorizationRule | undefined;
  params: string[];
}

const METHODS: Partial<Record<RequestMethod, HttpMethod>> = {
  [RequestMethod.GET]: 'GET',
  [RequestMethod.POST]: 'POST',
  [RequestMethod.PUT]: 'PUT',
  [RequestMethod.PATCH]: 'PATCH',
  [RequestMethod.DELETE]: 'DELETE',
};

const asList = (value: unknown): string[] =>
  value === undefined ? [''] : Array.isArray(value) ? value.map(String) : [String(value)];

const join = (...parts: string[]) =>
  `/${parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/')}`;

/**
 * Every HTTP route of the running gateway, read from Nest's own registry (the controllers it
 * instantiated and the route metadata on their handlers), each with the authorization rule the
 * guard will apply: the handler's, else its controller's — as `Reflector.getAllAndOverride`
 * resolves it in the guard. Each route is then confirmed in Fastify's router, so the table is
 * what is served, not what the source claims.
 */
export function readRouteTable(app: NestFastifyApplication): Route[] {
  const scanner = new MetadataScanner();
  const routes: Route[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller || typeof controller !== 'function') continue;
      const prefixes = asList(Reflect.getMetadata(PATH_METADATA, controller));
      const classRule = Reflect.getMetadata(AUTHORIZATION_KEY, controller) as AuthorizationRule | undefined;
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name] as object;
        const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as unknown;
        if (requestMethod === undefined || paths === undefined) continue;
        const method = METHODS[requestMethod];
        if (!method) throw new Error(`${controller.name}.${name}: unexpected method ${requestMethod}`);
        const rule =
          (Reflect.getMetadata(AUTHORIZATION_KEY, handler) as AuthorizationRule | undefined) ?? classRule;
        for (const prefix of prefixes) {
          for (const sub of asList(paths)) {
            const path = join(prefix, sub);
            routes.push({
              method,
              path,
              controller: controller.name,
              handler: name,
              rule,
              params: [...path.matchAll(/:(\w+)/g)].map((m) => m[1]),
            });
          }
        }
      }
    }
  }
  if (!routes.some((r) => r.rule)) throw new Error(`No route carries "${AUTHORIZATION_KEY}" metadata`);
  const fastify = app.getHttpAdapter().getInstance();
  for (const route of routes) {
    if (!fastify.hasRoute({ method: route.method, url: route.path }))
      throw new Error(`${route.method} ${route.path} is in Nest's table but not served by Fastify`);
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

/**
 * Routes registered on Fastify directly, outside Nest (and so outside its guards): every
 * path in Fastify's router that no Nest route explains. The caller compares them with the few
 * it expects (the OpenAPI document).
 */
export function routesOutsideNest(app: NestFastifyApplication, routes: Route[]): string[] {
  const printed = app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  // Fastify prints routes that differ only in parameter names as `:modelId|:itemId`.
  const shape = (path: string) => path.replace(/:\w+(\|:\w+)*/g, ':');
  const known = new Set(routes.map((r) => shape(r.path)));
  return parsePrintedRoutes(printed).filter((path) => !known.has(shape(path)));
}

/** Fastify's `printRoutes({ commonPrefix: false })` tree, flattened to full paths. */
function parsePrintedRoutes(printed: string): string[] {
  const paths: string[] = [];
  const stack: string[] = [];
  for (const line of printed.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \((.+)\))?/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 4;
    stack.length = depth;
    stack.push(match[2]);
    if (match[3]) paths.push(stack.join('').replace(/\/+/g, '/'));
  }
  return paths;
}
