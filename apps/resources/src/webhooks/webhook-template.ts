import { AppError } from '@atrium/contracts';

/** What `{{variables}}` of a payload or headers template name (Apify's set). */
export interface WebhookTemplateContext {
  userId: string;
  createdAt: string;
  eventType: string;
  eventData: unknown;
  resource: unknown;
  globals: { dateISO: string; dateUnix: number };
}

const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;
const ROOTS = new Set(['userId', 'createdAt', 'eventType', 'eventData', 'resource', 'globals']);

function valueOf(context: WebhookTemplateContext, path: string): unknown {
  const [root, ...rest] = path.split('.');
  if (!ROOTS.has(root!)) throw new Error(`unknown variable {{${path}}}`);
  let value: unknown = (context as unknown as Record<string, unknown>)[root!];
  for (const key of rest) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

const asJson = (value: unknown) => JSON.stringify(value ?? null);
const asText = (value: unknown) =>
  value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);

/**
 * Replaces `{{variable}}` (also `{{resource.id}}`) as Apify does: outside JSON strings by the
 * value as JSON; inside strings, only with `shouldInterpolateStrings`, by its text. Answers the
 * parsed JSON; throws naming what is wrong.
 */
export function renderTemplate(
  template: string,
  context: WebhookTemplateContext,
  interpolateStrings: boolean,
): unknown {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i]!;
    if (ch === '"') {
      // A JSON string: copied as it is, its variables replaced by text when asked to.
      let j = i + 1;
      while (j < template.length && template[j] !== '"') j += template[j] === '\\' ? 2 : 1;
      const inner = template.slice(i + 1, j);
      out += interpolateStrings
        ? `"${inner.replace(VARIABLE, (_m, path: string) => JSON.stringify(asText(valueOf(context, path))).slice(1, -1))}"`
        : `"${inner}"`;
      i = j + 1;
      continue;
    }
    if (template.startsWith('{{', i)) {
      VARIABLE.lastIndex = i;
      const match = VARIABLE.exec(template);
      if (match && match.index === i) {
        out += asJson(valueOf(context, match[1]!));
        i += match[0].length;
        continue;
      }
    }
    out += ch;
    i += 1;
  }
  try {
    return JSON.parse(out);
  } catch (err) {
    throw new Error(`not valid JSON once its variables are replaced (${(err as Error).message})`);
  }
}

/** Headers a template may not set: the connection's own. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'connection',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
]);

/** A headers template renders to an object of string values. */
export function renderHeaders(
  template: string,
  context: WebhookTemplateContext,
  interpolateStrings: boolean,
): Record<string, string> {
  const value = renderTemplate(template, context, interpolateStrings);
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error('must be a JSON object of header names and values');
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new Error(`"${name}" is not a header name`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new Error(`header "${name}" may not be set`);
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (/[\r\n\0]/.test(text)) throw new Error(`header "${name}" has a line break`);
    headers[name] = text;
  }
  return headers;
}

/** A context with every variable present, to check a template when it is saved. */
export function sampleContext(): WebhookTemplateContext {
  const now = new Date();
  return {
    userId: 'sample',
    createdAt: now.toISOString(),
    eventType: 'TEST',
    eventData: { actorId: 'sample' },
    resource: { id: 'sample' },
    globals: { dateISO: now.toISOString(), dateUnix: now.getTime() },
  };
}

/** Checks a webhook's templates as they are saved: 400 naming the field. */
export function checkTemplates(webhook: {
  payloadTemplate?: string | null;
  headersTemplate?: string | null;
  shouldInterpolateStrings?: boolean | null;
}): void {
  const interpolate = !!webhook.shouldInterpolateStrings;
  const check = (field: string, render: () => unknown) => {
    try {
      render();
    } catch (err) {
      throw new AppError('invalid-input', `Field "body.${field}" is invalid: ${(err as Error).message}`);
    }
  };
  if (webhook.payloadTemplate)
    check('payloadTemplate', () => renderTemplate(webhook.payloadTemplate!, sampleContext(), interpolate));
  if (webhook.headersTemplate)
    check('headersTemplate', () => renderHeaders(webhook.headersTemplate!, sampleContext(), interpolate));
}
