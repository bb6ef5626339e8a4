/** Why `text` is not a JSON object, for a form's validation; null when it is one. */
export function jsonObjectProblem(text: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `Must be valid JSON: ${error instanceof SyntaxError ? error.message : 'it cannot be read'}`;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? null
    : 'Must be a JSON object, e.g. { "url": "https://example.com" }';
}

/** Pretty JSON for showing and editing. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value ?? {}, null, 2);
}
