import { AppError, ID_PATTERN } from '@atrium/contracts';

/** `…/actor-runs/<id>` (API), `…/runs/<id>` (console: `/actors/runs/<id>`, `/view/runs/<id>`, `/actors/<actorId>/runs/<id>`). */
const RUN_PATH = /(?:^|\/)(?:actor-runs|runs)\/([A-Za-z0-9]{17})(?:\/|$)/;

/**
 * The run id in a URL as a user would paste it: the API URL or a console URL, with or without
 * a query string or fragment, or the bare id. Anything else is invalid input naming the field.
 */
export function runIdFromUrl(runUrl: string, field = 'body.runUrl'): string {
  const value = runUrl.trim();
  if (ID_PATTERN.test(value)) return value;
  let path: string;
  try {
    path = new URL(value).pathname;
  } catch {
    // Without a scheme ("console.apify.com/actors/runs/…"), read it as a path.
    path = value.split(/[?#]/)[0] ?? '';
  }
  const match = RUN_PATH.exec(path);
  if (!match?.[1]) {
    throw new AppError(
      'invalid-input',
      `Field "${field}" is invalid: must be a run's URL (…/actor-runs/<runId> or a console …/runs/<runId>)`,
    );
  }
  return match[1];
}
