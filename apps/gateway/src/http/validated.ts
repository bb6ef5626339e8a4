import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { z, ZodTypeAny } from 'zod';
import { parseBody, parseQuery } from './api-query';

/**
 * Validation bound at the edge: a route names its schemas once, in its signature, and the same
 * schemas describe it in the OpenAPI document (`/docs`). A handler never sees unvalidated input.
 *
 * Metadata keys under which the schemas are recorded on the handler (read by the document).
 */
export const BODY_SCHEMA = 'atrium:body-schema';
export const QUERY_SCHEMA = 'atrium:query-schema';
export const RESPONSE_SCHEMA = 'atrium:response-schema';
export const API_OPERATION = 'atrium:api-operation';

export interface BodyOptions {
  /** A missing body is an error (default: it is read as `{}`, so an all-optional body may be left out). */
  required?: boolean;
  /** A body that is not JSON (records, run inputs of any content type): its media type. */
  contentType?: string;
}

export interface BodySchema {
  schema: ZodTypeAny;
  options: BodyOptions;
}

const bodyParam = createParamDecorator((data: BodySchema, ctx: ExecutionContext) => {
  const body: unknown = ctx.switchToHttp().getRequest<{ body?: unknown }>().body;
  return parseBody(data.schema, data.options.required ? body : (body ?? {}));
});

// The schema is wrapped: Nest takes a decorator argument with a `transform` method (as every zod
// schema has) for a pipe, not for the decorator's data.
const queryParam = createParamDecorator((data: { schema: ZodTypeAny }, ctx: ExecutionContext) =>
  parseQuery(data.schema, ctx.switchToHttp().getRequest<{ query?: unknown }>().query),
);

function recordOnHandler(key: string, value: unknown): ParameterDecorator {
  return (target, property) => {
    if (property === undefined) return;
    const handler = (target as Record<string | symbol, unknown>)[property] as object;
    Reflect.defineMetadata(key, value, handler);
  };
}

/** The request body, validated by `schema` (400 naming the failing field otherwise). */
export function ValidBody(schema: ZodTypeAny, options: BodyOptions = {}): ParameterDecorator {
  const data: BodySchema = { schema, options };
  return (target, property, index) => {
    recordOnHandler(BODY_SCHEMA, data)(target, property, index);
    bodyParam(data)(target, property, index);
  };
}

/** The query parameters the route knows, validated by `schema`; others pass untouched. */
export function ValidQuery(schema: ZodTypeAny): ParameterDecorator {
  return (target, property, index) => {
    recordOnHandler(QUERY_SCHEMA, schema)(target, property, index);
    queryParam({ schema })(target, property, index);
  };
}

export interface ResponseOptions {
  /** The success status (default: the route's `@HttpCode`, else 201 for POST and 200 otherwise). */
  status?: number;
  /** The body is `{ data: schema }`, as most Apify responses (default), or `schema` itself. */
  envelope?: boolean;
  /** A body other than JSON (records, exports): its media type. */
  contentType?: string;
  /** Error statuses the route may answer beyond those its rule and schemas imply (openapi.ts `errorStatuses`). */
  errors?: number[];
  /** The route never succeeds: once authorized, it always answers this error status. */
  fails?: number;
}

export interface ResponseSchema {
  /** Null: no body (204, redirects). */
  schema: ZodTypeAny | null;
  options: ResponseOptions;
}

/** What the route answers on success; its error answers follow from its rule and its schemas. */
export const Returns = (schema: ZodTypeAny | null, options: ResponseOptions = {}) =>
  SetMetadata(RESPONSE_SCHEMA, { schema, options } satisfies ResponseSchema);

/** A route answering no body (its `@HttpCode`, usually 204). */
export const ReturnsNothing = (options: Pick<ResponseOptions, 'status'> = {}) => Returns(null, options);

/** A route that, once authorized, always answers this error status (what Atrium does not do). */
export const Fails = (status: number) => Returns(null, { fails: status });

/**
 * The route reads its body itself, of any content type (records, run inputs): documented as such,
 * with no JSON schema to bind.
 */
export const AnyBody = () =>
  SetMetadata(BODY_SCHEMA, { schema: z.unknown(), options: { contentType: '*/*' } } satisfies BodySchema);

/** A route's summary and description in the OpenAPI document (`/docs/openapi.json`). */
export const ApiOperation = (operation: { summary?: string; description?: string }) =>
  SetMetadata(API_OPERATION, operation);
