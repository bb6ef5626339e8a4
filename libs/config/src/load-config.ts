import { z, ZodTypeAny } from 'zod';

/** Reads and validates configuration once at start-up; fails fast naming the variable. */
export function loadConfig<S extends ZodTypeAny>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`).join('; ');
  throw new Error(`Invalid configuration: ${problems}`);
}
