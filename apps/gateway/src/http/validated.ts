import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ZodTypeAny } from 'zod';
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

export interface BodyOptions {
  /** A missing body is an error (default: it is read as `{}`, so an all-optional body may be left out). */
  required?: boolean;
}

export interface BodySchema {
  schema: ZodTypeAny;
  options: BodyOptions;
}

const bodyParam = createParamDecorator((data: BodySchema, ctx: ExecutionContext) => {
  const body: unknown = ctx.switchToHttp().getRequest<{ body?: unknown }>().body;
  return parseBody(data.schema, data.options.required ? body : (body ?? {}));
});

// The schema rides wrapped: Nest takes a bare argument with a `transform` method (every zod schema
// has one) for a pipe, and would pass the decorator no data.
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
