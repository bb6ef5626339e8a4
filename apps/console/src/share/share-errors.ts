import { ApiError } from '../lib/api';
import { errorMessage } from '../lib/forms';

/** Said when a change is refused because the caller cannot manage access (403). */
export const CANNOT_MANAGE =
  'You can view who has access, but only people who can manage access can change it.';

/**
 * A failed change in words: the API's message, except that a refusal (403) says what the
 * caller may and may not do; never a raw error.
 */
export function changeError(error: unknown): string {
  if (error instanceof ApiError && error.status === 403) {
    // A refusal that names a field ("You can give only permissions you hold …", "Your own access
    // … ends at …") is about what was asked, not about the caller: the API's words say what to do.
    return /\((?:body|query|params)\.[\w.]+\)$/.test(error.message)
      ? withoutFieldRef(error.message)
      : CANNOT_MANAGE;
  }
  return withoutFieldRef(errorMessage(error));
}

/** `Field "body.user" is invalid: the owner …` → `The owner …`; `… (body.permissions)` → `…`. */
export function withoutFieldRef(message: string): string {
  const text = message
    .replace(/^Field "[^"]+" (is invalid: )?/, '')
    .replace(/\s*\((?:body|query|params)\.[\w.]+\)$/, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Which field of the add-people form an API refusal is about: the one it names, else the person
 * (404: no such user; 409: already shared with them), else none (shown above the form).
 */
export function grantErrorField(error: unknown): 'user' | 'permissions' | 'expiresAt' | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const named = error.field ?? /\((?:body)\.(\w+)\)$/.exec(error.message)?.[1];
  if (named === 'user' || named === 'permissions' || named === 'expiresAt') return named;
  if (named === 'notBefore') return 'expiresAt';
  if (error.status === 404 || error.status === 409) return 'user';
  return undefined;
}
