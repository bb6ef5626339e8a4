import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z, ZodTypeAny } from 'zod';

// Lets a schema carry its OpenAPI name (`.openapi('Dataset')`), so the document refers to one
// component instead of repeating the shape, and the generated client names the type.
extendZodWithOpenApi(z);

/** The schema, named in the OpenAPI document's components. */
export function named<S extends ZodTypeAny>(name: string, schema: S): S {
  return schema.openapi(name);
}
