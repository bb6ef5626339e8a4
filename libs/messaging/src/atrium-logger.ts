import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { currentRequestId } from './request-context';
import { currentTraceId } from './tracing';

export type LogFormat = 'json' | 'pretty';

/** Health probes and metrics scrapes: their request lines are debug. */
const PROBE_ROUTE = /^\/(health|metrics)\b/;

/** Nest's start-up chatter (every route mapped, every module initialised): debug, not log. */
const START_UP_CONTEXTS = new Set(['RoutesResolver', 'RouterExplorer', 'InstanceLoader', 'NestFactory']);

export function logLevels(level: LogLevel): LogLevel[] {
  const order: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];
  return order.slice(0, order.indexOf(level) + 1);
}

/** `LOG_FORMAT` when set; otherwise readable on a terminal and JSON lines anywhere else. */
export function logFormat(configured?: LogFormat): LogFormat {
  return configured ?? (process.stdout.isTTY ? 'pretty' : 'json');
}

/**
 * Every Atrium process's logger: JSON lines (one object a line, with `service` and the
 * `requestId` of the request being served) or, on a terminal, Nest's readable lines — colours
 * only on a terminal, so a redirected log holds no escape codes.
 */
export class AtriumLogger extends ConsoleLogger {
  constructor(
    private readonly service: string,
    level: LogLevel,
    private readonly format: LogFormat = logFormat(),
  ) {
    super({
      logLevels: logLevels(level),
      json: format === 'json',
      colors: format === 'pretty' && !!process.stdout.isTTY,
      prefix: 'Atrium',
    });
  }

  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && START_UP_CONTEXTS.has(context)) return this.debug(message, ...rest);
    super.log(message, ...rest);
  }

  /**
   * One line for one HTTP request: a sentence, and in JSON its fields at the top level. Health
   * probes and metrics scrapes only at debug (an orchestrator asks every few seconds).
   */
  request(fields: {
    method: string;
    route: string;
    status: number;
    durationMs: number;
    principalId: string | null;
  }): void {
    const who = fields.principalId ? ` by ${fields.principalId}` : '';
    const sentence = `${fields.method} ${fields.route} ${fields.status} ${fields.durationMs} ms${who}`;
    const line = this.format === 'json' ? { event: 'http.request', ...fields, message: sentence } : sentence;
    if (PROBE_ROUTE.test(fields.route)) this.debug(line, 'HTTP');
    else this.log(line, 'HTTP');
  }

  /** Whether `request` writes a line for a request on this route at the level configured. */
  logsRequest(route: string): boolean {
    return this.isLevelEnabled(PROBE_ROUTE.test(route) ? 'debug' : 'log');
  }

  protected override getJsonLogObject(
    message: unknown,
    options: {
      context: string;
      logLevel: LogLevel;
      writeStreamType?: 'stdout' | 'stderr';
      errorStack?: unknown;
    },
  ) {
    const requestId = currentRequestId();
    const traceId = currentTraceId();
    const line = {
      ...super.getJsonLogObject(message, options),
      service: this.service,
      ...(requestId && { requestId }),
      ...(traceId && { traceId }),
    };
    // A structured line (an `event` with its fields) keeps them at the top level.
    return message && typeof message === 'object' && 'event' in message ? { ...line, ...message } : line;
  }

  protected override formatContext(context: string): string {
    const requestId = currentRequestId();
    return super.formatContext(context) + (requestId ? `(${requestId}) ` : '');
  }
}
