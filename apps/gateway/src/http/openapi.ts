import { RequestMethod, Type } from '@nestjs/common';
import {
  GUARDS_METADATA,
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { OpenAPIRegistry, OpenApiGeneratorV31, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { ERROR_STATUS } from '@atrium/contracts';
import { z, ZodTypeAny } from 'zod';
import { AUTHORIZATION_KEY } from '../authorization/authorization-key';
import type { AuthorizationRule } from '../authorization/authorize.decorator';
import { lastRunQuery } from '../runs/run-references';
import {
  API_OPERATION,
  BODY_SCHEMA,
  BodySchema,
  QUERY_SCHEMA,
  RESPONSE_SCHEMA,
  ResponseSchema,
} from './validated';
import { named } from './zod-openapi';

/** Apify's error body, the one every error answer has (api-exception.filter.ts). */
export const apiErrorSchema = named(
  'Error',
  z.object({
    error: z.object({
      type: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS]),
      message: z.string(),
    }),
  }),
);

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const METHODS: Partial<Record<RequestMethod, Method>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PUT]: 'put',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.DELETE]: 'delete',
};

/** One served route with the schemas its handler recorded (validated.ts). */
export interface DescribedRoute {
  method: Method;
  /** OpenAPI syntax: `/v2/datasets/{datasetId}`. */
  path: string;
  controller: string;
  handler: string;
  rule: AuthorizationRule | undefined;
  params: string[];
  body: BodySchema | undefined;
  query: ZodTypeAny | undefined;
  response: ResponseSchema | undefined;
  /** The success status: `@Returns`' own, else `@HttpCode`'s, else 201 for POST and 200 otherwise. */
  status: number;
  throttled: boolean;
  /** `@ApiOperation`'s summary and description, where the route has one. */
  operation: { summary?: string; description?: string };
  /** Whether the handler takes the raw body or query (`@Body()`, `@Query()`): unvalidated, undescribed. */
  raw: { body: boolean; query: boolean };
}

const asList = (value: unknown): string[] =>
  value === undefined ? [''] : Array.isArray(value) ? value.map(String) : [String(value)];

const join = (...parts: string[]) =>
  `/${parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/')}`;

const isThrottled = (...targets: object[]) =>
  targets.some((t) =>
    ((Reflect.getMetadata(GUARDS_METADATA, t) as { name?: string }[] | undefined) ?? []).some(
      (guard) => guard.name === 'ThrottlerGuard',
    ),
  );

/** Every route of the controllers with its recorded schemas, read from their decorators. */
export function describeRoutes(controllers: readonly Type[]): DescribedRoute[] {
  const routes: DescribedRoute[] = [];
  for (const controller of controllers) {
    const prefixes = asList(Reflect.getMetadata(PATH_METADATA, controller));
    const classRule = Reflect.getMetadata(AUTHORIZATION_KEY, controller) as AuthorizationRule | undefined;
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const paths = Reflect.getMetadata(PATH_METADATA, handler) as unknown;
      if (requestMethod === undefined || paths === undefined) continue;
      const method = METHODS[requestMethod];
      if (!method) throw new Error(`${controller.name}.${name}: unexpected method ${requestMethod}`);
      const response = Reflect.getMetadata(RESPONSE_SCHEMA, handler) as ResponseSchema | undefined;
      const status =
        response?.options.status ??
        (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ??
        (method === 'post' ? 201 : 200);
      const args = Object.keys(
        (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) as object | undefined) ?? {},
      );
      const raw = {
        body: args.some((key) => key.startsWith(`${RouteParamtypes.BODY}:`)),
        query: args.some((key) => key.startsWith(`${RouteParamtypes.QUERY}:`)),
      };
      for (const prefix of prefixes) {
        for (const sub of asList(paths)) {
          const path = join(prefix, sub);
          routes.push({
            method,
            path: path.replace(/:(\w+)/g, '{$1}'),
            controller: controller.name,
            handler: name,
            rule:
              (Reflect.getMetadata(AUTHORIZATION_KEY, handler) as AuthorizationRule | undefined) ?? classRule,
            params: [...path.matchAll(/:(\w+)/g)].map((m) => m[1]),
            body: Reflect.getMetadata(BODY_SCHEMA, handler) as BodySchema | undefined,
            query: Reflect.getMetadata(QUERY_SCHEMA, handler) as ZodTypeAny | undefined,
            response,
            status,
            throttled: isThrottled(controller, handler as object),
            operation: (Reflect.getMetadata(API_OPERATION, handler) as object | undefined) ?? {},
            raw,
          });
        }
      }
    }
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

/** The statuses a route may fail with, from what it validates and the rule it is authorized by. */
export function errorStatuses(route: DescribedRoute): number[] {
  const statuses = new Set<number>();
  if (route.body || route.query) statuses.add(400);
  if (route.body) statuses.add(413);
  if (route.rule && route.rule.kind !== 'public') {
    statuses.add(401);
    statuses.add(403);
  }
  if (route.params.length > 0) statuses.add(404);
  if (route.throttled) statuses.add(429);
  if (route.rule?.kind === 'in-account' && route.rule.permission === 'CREATE') statuses.add(402);
  const fails = route.response?.options.fails;
  // Writes may conflict (a name taken, a run not finished, a version that exists); a route that always fails does not get so far.
  if (fails === undefined && route.method !== 'get' && route.rule && route.rule.kind !== 'public') {
    statuses.add(409);
  }
  for (const status of route.response?.options.errors ?? []) statuses.add(status);
  if (fails !== undefined) statuses.add(fails);
  statuses.add(503);
  return [...statuses].sort((a, b) => a - b);
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (the message names the field)',
  401: 'No valid credential',
  402: 'A quota of the account is exceeded',
  403: 'The credential does not allow this',
  404: 'Not found, or not visible to the caller',
  405: 'Not done on Atrium (the message says why)',
  409: 'Conflicts with the current state (a name taken, a run not finished, a version that exists)',
  413: 'Body too large',
  429: 'Too many attempts',
  503: 'A service the route needs is unavailable',
};

/** The query schema as an object of parameters (refinements wrap it; their object is what is read). */
function queryObject(schema: ZodTypeAny): z.AnyZodObject | undefined {
  let inner: ZodTypeAny = schema;
  while (inner instanceof z.ZodEffects) inner = inner.innerType() as ZodTypeAny;
  if (!(inner instanceof z.ZodObject)) return undefined;
  // Parameters a route refuses by name (`z.never()`: Apify's, not Atrium's) are not offered.
  const refused = Object.entries(inner.shape as Record<string, ZodTypeAny>)
    .filter(([, field]) => (field instanceof z.ZodOptional ? field.unwrap() : field) instanceof z.ZodNever)
    .map(([key]) => [key, true] as const);
  return refused.length ? inner.omit(Object.fromEntries(refused)) : inner;
}

function toRouteConfig(route: DescribedRoute, index: number): RouteConfig {
  const response = route.response;
  const success = response?.schema
    ? {
        description: 'Success',
        content: {
          [response.options.contentType ?? 'application/json']: {
            schema:
              response.options.envelope === false ? response.schema : z.object({ data: response.schema }),
          },
        },
      }
    : { description: response ? 'Success, no body' : 'Success (not described)' };
  const errors = Object.fromEntries(
    errorStatuses(route).map((status) => [String(status), { $ref: `#/components/responses/Error${status}` }]),
  );
  const own = route.query && queryObject(route.query);
  // A `…/runs/last` path names the run by the query too (the guard reads it: run-references.ts).
  const query = route.path.includes('/runs/last') ? (own ?? z.object({})).merge(lastRunQuery) : own;
  return {
    method: route.method,
    path: route.path,
    summary: route.operation.summary,
    description: route.operation.description,
    operationId: `${route.controller.replace(/Controller$/, '')}_${route.handler}${index ? `_${index}` : ''}`,
    tags: [route.path.split('/')[2] ?? route.path],
    security: route.rule?.kind === 'public' ? [] : [{ bearer: [] }],
    request: {
      params: route.params.length
        ? z.object(Object.fromEntries(route.params.map((p) => [p, z.string()])))
        : undefined,
      query,
      body: route.body && {
        required: route.body.options.required ?? false,
        content: {
          [route.body.options.contentType ?? 'application/json']: { schema: route.body.schema },
        },
      },
    },
    // A route that always fails documents no success.
    responses:
      response?.options.fails === undefined ? { [String(route.status)]: success, ...errors } : errors,
  };
}

/** The OpenAPI 3.1 document of the controllers, generated from the schemas their routes bind. */
export function buildOpenApiDocument(controllers: readonly Type[]) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token, a session access token, or a run token (also accepted as `?token=`)',
  });
  for (const [status, description] of Object.entries(ERROR_DESCRIPTIONS)) {
    registry.registerComponent('responses', `Error${status}`, {
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
  }
  registry.register('Error', apiErrorSchema);
  const seen = new Map<string, number>();
  for (const route of describeRoutes(controllers)) {
    const key = `${route.controller}.${route.handler}`;
    const index = seen.get(key) ?? 0;
    seen.set(key, index + 1);
    registry.registerPath(toRouteConfig(route, index));
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Atrium API',
      version: '2',
      description:
        'Collaboration and access control; Apify API v2 compatible where paths overlap. ' +
        'Errors are `{ "error": { "type", "message" } }`.',
    },
  });
}
