import { createContext, Script } from 'node:vm';

/**
 * Apify's Actor input schema (https://docs.apify.com/actors/development/actor-definition/input-schema):
 * an object schema whose properties are strings, integers, numbers, booleans, arrays or objects,
 * with `required`, `default`, `enum`, bounds and `nullable`. Validated here as the API's
 * `validate-input` does, defaults filled in first.
 */
/**
 * How long one pattern may take to match one value. Patterns come from an Actor's author and
 * input from whoever runs it: a pattern that backtracks catastrophically (`(a+)+$`) must not hold
 * the service's event loop, so matching runs in a VM context with a deadline.
 */
export const PATTERN_TIMEOUT_MS = 50;
const patternContext = createContext({ pattern: '', value: '' });
const patternTest = new Script('new RegExp(pattern, "u").test(value)');

/** Whether `value` matches; true for a pattern JavaScript cannot compile (Apify checks it at build time). */
function matchesPattern(pattern: string, value: string): boolean | 'too-slow' {
  Object.assign(patternContext, { pattern, value });
  try {
    return patternTest.runInContext(patternContext, { timeout: PATTERN_TIMEOUT_MS }) === true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'too-slow';
    return true;
  }
}

export interface InputSchemaProperty {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  items?: unknown;
  properties?: unknown;
  required?: unknown;
}

export interface ActorInputSchema {
  title?: string;
  type: 'object';
  properties: Record<string, InputSchemaProperty>;
  required?: string[];
}

const PROPERTY_TYPES = ['string', 'integer', 'number', 'boolean', 'array', 'object'];

/** The schema when it has the shape of one (an object schema with properties), else null. */
export function asInputSchema(value: unknown): ActorInputSchema | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const schema = value as Record<string, unknown>;
  if (schema.type !== 'object') return null;
  const properties = schema.properties;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return null;
  const required = Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : [];
  return {
    ...(typeof schema.title === 'string' ? { title: schema.title } : {}),
    type: 'object',
    properties: properties as Record<string, InputSchemaProperty>,
    required,
  };
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function checkProperty(property: InputSchemaProperty, value: unknown): string | null {
  if (value === null) return property.nullable ? null : 'must not be null';
  const type = property.type;
  if (type && PROPERTY_TYPES.includes(type)) {
    const actual = typeOf(value);
    const ok = actual === type || (type === 'number' && actual === 'integer');
    if (!ok)
      return `must be ${type === 'integer' || type === 'array' || type === 'object' ? 'an' : 'a'} ${type}`;
  }
  if (Array.isArray(property.enum) && !property.enum.some((e) => e === value))
    return `must be one of ${property.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  if (typeof value === 'number') {
    if (typeof property.minimum === 'number' && value < property.minimum)
      return `must be ≥ ${property.minimum}`;
    if (typeof property.maximum === 'number' && value > property.maximum)
      return `must be ≤ ${property.maximum}`;
  }
  if (typeof value === 'string') {
    if (typeof property.minLength === 'number' && value.length < property.minLength)
      return `must have at least ${property.minLength} characters`;
    if (typeof property.maxLength === 'number' && value.length > property.maxLength)
      return `must have at most ${property.maxLength} characters`;
    if (typeof property.pattern === 'string') {
      const matched = matchesPattern(property.pattern, value);
      if (matched === 'too-slow')
        return `could not be checked against ${property.pattern} within ${PATTERN_TIMEOUT_MS} ms (the pattern backtracks too much)`;
      if (matched === false) return `must match ${property.pattern}`;
    }
  }
  if (Array.isArray(value)) {
    if (typeof property.minItems === 'number' && value.length < property.minItems)
      return `must have at least ${property.minItems} items`;
    if (typeof property.maxItems === 'number' && value.length > property.maxItems)
      return `must have at most ${property.maxItems} items`;
  }
  return null;
}

/**
 * The input checked against the schema after its defaults are filled in: null when valid, else
 * the failing field (`input.<name>`) and why.
 */
export function validateActorInput(
  schema: ActorInputSchema,
  input: unknown,
): { field: string; message: string } | null {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { field: 'input', message: 'must be a JSON object' };
  const filled: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const [name, property] of Object.entries(schema.properties))
    if (filled[name] === undefined && property && property.default !== undefined)
      filled[name] = property.default;
  for (const name of schema.required ?? [])
    if (filled[name] === undefined) return { field: `input.${name}`, message: 'is required' };
  for (const [name, property] of Object.entries(schema.properties)) {
    if (filled[name] === undefined || !property || typeof property !== 'object') continue;
    const problem = checkProperty(property, filled[name]);
    if (problem) return { field: `input.${name}`, message: problem };
  }
  return null;
}

/** Apify's editor keys left out: what stays is plain JSON Schema, for an OpenAPI document. */
const EDITOR_KEYS = new Set([
  'editor',
  'sectionCaption',
  'sectionDescription',
  'prefill',
  'example',
  'isSecret',
]);

export function inputSchemaAsJsonSchema(schema: ActorInputSchema): Record<string, unknown> {
  const properties = Object.fromEntries(
    Object.entries(schema.properties).map(([name, property]) => [
      name,
      Object.fromEntries(Object.entries(property ?? {}).filter(([key]) => !EDITOR_KEYS.has(key))),
    ]),
  );
  return { type: 'object', properties, ...(schema.required?.length ? { required: schema.required } : {}) };
}
