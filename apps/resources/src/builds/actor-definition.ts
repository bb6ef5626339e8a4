import { ActorVersionView } from '@atrium/contracts';

type SourceFile = NonNullable<ActorVersionView['sourceFiles']>[number];

/** What a build takes from its version's source: `.actor/actor.json` and the input schema. */
export interface BuiltDefinition {
  actorDefinition: Record<string, unknown> | null;
  inputSchema: string | null;
}

function contentOf(files: SourceFile[], path: string): string | null {
  const file = files.find((f) => !f.folder && f.name.replace(/^\.\//, '') === path);
  if (!file || file.content === undefined) return null;
  return file.format === 'BASE64' ? Buffer.from(file.content, 'base64').toString('utf8') : file.content;
}

function parseObject(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** `a/b/../c` → `a/c`, for an `input` path given relative to `.actor/`. */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '..') parts.pop();
    else if (part && part !== '.') parts.push(part);
  }
  return parts.join('/');
}

/**
 * Apify's lookup: `.actor/actor.json`'s `input` (the schema itself, or a path relative to
 * `.actor/`), else `.actor/INPUT_SCHEMA.json`, else `INPUT_SCHEMA.json`. Atrium fetches no
 * repository or tarball, so only a version's own source files give a build these.
 */
export function definitionFromSource(files: SourceFile[] | null | undefined): BuiltDefinition {
  if (!files?.length) return { actorDefinition: null, inputSchema: null };
  const actorJson = parseObject(contentOf(files, '.actor/actor.json'));
  let input: Record<string, unknown> | null = null;
  if (actorJson && typeof actorJson.input === 'object') input = parseObject(JSON.stringify(actorJson.input));
  else if (actorJson && typeof actorJson.input === 'string')
    input = parseObject(contentOf(files, normalize(`.actor/${actorJson.input}`)));
  input ??=
    parseObject(contentOf(files, '.actor/INPUT_SCHEMA.json')) ??
    parseObject(contentOf(files, '.actor/input_schema.json')) ??
    parseObject(contentOf(files, 'INPUT_SCHEMA.json'));
  return {
    actorDefinition: actorJson ? { ...actorJson, ...(input ? { input } : {}) } : null,
    inputSchema: input ? JSON.stringify(input, null, 2) : null,
  };
}
