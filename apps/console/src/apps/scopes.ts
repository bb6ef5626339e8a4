/**
 * Clarifai's app scopes as the API knows them, from the contracts (access.enums.ts has no
 * dependencies, so only these lists are bundled).
 */
import {
  APP_SCOPES,
  BASIC_APP_SCOPES as BASIC_SCOPES,
  type AppScope,
} from '../../../../libs/contracts/src/access.enums';

export { APP_SCOPES, BASIC_SCOPES, type AppScope };

/** Everything the caller may hold on an app: the app itself and the scopes on its contents. */
export const APP_PERMISSIONS = ['READ', 'WRITE', 'MANAGE_ACCESS', ...APP_SCOPES] as const;
export type AppPermission = (typeof APP_PERMISSIONS)[number];

/** The fine scopes grouped by what they act on, for the advanced picker. */
export function scopeGroups(): [string, AppScope[]][] {
  const groups = new Map<string, AppScope[]>();
  for (const scope of APP_SCOPES) {
    const group = scope.split(':')[0];
    groups.set(group, [...(groups.get(group) ?? []), scope]);
  }
  return [...groups];
}

/** Scopes as a person reads them: a basic scope where all of its fine ones are held, else the fine ones. */
export function summarizeScopes(scopes: readonly string[]): string[] {
  const held = new Set(scopes);
  const shown: string[] = [];
  for (const [basic, fine] of Object.entries(BASIC_SCOPES)) {
    if (fine.length > 1 && fine.every((s) => held.has(s))) {
      shown.push(`${basic} (all)`);
      fine.forEach((s) => held.delete(s));
    }
  }
  return [...shown, ...APP_SCOPES.filter((s) => held.has(s))];
}
