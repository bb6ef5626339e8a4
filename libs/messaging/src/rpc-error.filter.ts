import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { AppError, SerializedAppError } from '@atrium/contracts';
import { Observable, throwError } from 'rxjs';
import { isDatabaseUnavailable } from './database-unavailable';

const logger = new Logger('RpcErrorFilter');

/** What a handler's failure crosses the wire as: `{ type, message }`; unexpected ones are logged, not leaked. */
export function serializeRpcError(exception: unknown): SerializedAppError {
  if (exception instanceof AppError) return exception.toJSON();
  // PostgreSQL's data exceptions (class 22: e.g. a NUL character in JSON, a value out of range)
  // are caused by what the caller sent, so they are the caller's error, not ours.
  const code = (exception as { driverError?: { code?: unknown } })?.driverError?.code;
  if (typeof code === 'string' && code.startsWith('22')) {
    const detail = (exception as Error).message;
    // PostgreSQL's text cannot hold NUL (22021 in text, 22P05 as \u0000 in jsonb): say so plainly.
    const nul = code === '22021' || code === '22P05' ? /0x00|\\u0000/.test(detail) : false;
    return {
      type: 'invalid-input',
      message: nul
        ? 'Text may not contain the NUL character (\\u0000)'
        : `The data was not accepted: ${detail}`,
    };
  }
  // The database went away (restart, failover, dropped connection): the pool reconnects on the
  // next query, so the caller may retry; a 503, not an internal error.
  if (isDatabaseUnavailable(exception)) {
    logger.warn(`Database connection lost: ${(exception as Error).message}`);
    return { type: 'service-unavailable', message: 'The database is unavailable; try again' };
  }
  logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return { type: 'internal-error', message: 'Internal error' };
}

/** `serializeRpcError` as a Nest filter, for a Nest microservice of plain `@MessagePattern`s (the bench's echo). */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<SerializedAppError> {
    return throwError(() => serializeRpcError(exception));
  }
}
