/**
 * Clarifai's app scopes as the API knows them (libs/contracts access.enums: APP_SCOPES and
 * BASIC_APP_SCOPES), kept here so that the console's bundle carries no server code.
 */
export const APP_SCOPES = [
  'Inputs:Add',
  'Inputs:Get',
  'Inputs:Patch',
  'Inputs:Delete',
  'Annotations:Add',
  'Annotations:Get',
  'Annotations:Delete',
  'Concepts:Add',
  'Concepts:Get',
  'Models:Add',
  'Models:Get',
  'Models:Delete',
  'Models:Train',
  'Workflows:Add',
  'Workflows:Get',
  'Workflows:Delete',
  'Tasks:Add',
  'Tasks:Get',
  'Tasks:Delete',
  'Collectors:Add',
  'Collectors:Get',
  'Collectors:Delete',
  'Vocabs:Add',
  'Vocabs:Get',
  'Vocabs:Delete',
  'Predict',
  'Search',
  'Collaborators:Add',
  'Collaborators:Get',
  'Collaborators:Delete',
] as const;
export type AppScope = (typeof APP_SCOPES)[number];

/** Everything the caller may hold on an app: the app itself and the scopes on its contents. */
export const APP_PERMISSIONS = ['READ', 'WRITE', 'MANAGE_ACCESS', ...APP_SCOPES] as const;
export type AppPermission = (typeof APP_PERMISSIONS)[number];

/** Clarifai's basic scopes, each a shorthand for fine ones. */
export const BASIC_SCOPES: Record<string, readonly AppScope[]> = {
  Input: ['Inputs:Add', 'Inputs:Get', 'Inputs:Patch', 'Inputs:Delete'],
  Annotation: ['Annotations:Add', 'Annotations:Get', 'Annotations:Delete'],
  Concept: ['Concepts:Add', 'Concepts:Get'],
  Model: ['Models:Add', 'Models:Get', 'Models:Delete', 'Models:Train'],
  Workflow: ['Workflows:Add', 'Workflows:Get', 'Workflows:Delete'],
  Task: ['Tasks:Add', 'Tasks:Get', 'Tasks:Delete'],
  Collector: ['Collectors:Add', 'Collectors:Get', 'Collectors:Delete'],
  Vocab: ['Vocabs:Add', 'Vocabs:Get', 'Vocabs:Delete'],
  Predict: ['Predict'],
  Search: ['Search'],
  Collaborator: ['Collaborators:Add', 'Collaborators:Get', 'Collaborators:Delete'],
};

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
