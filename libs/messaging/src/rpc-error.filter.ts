import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { AppError, SerializedAppError } from '@atrium/contracts';
import { Observable, throwError } from 'rxjs';

/** Every handler failure crosses the wire as `{ type, message }`; unexpected ones are logged, not leaked. */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<SerializedAppError> {
    if (exception instanceof AppError) return throwError(() => exception.toJSON());
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return throwError(() => ({ type: 'internal-error', message: 'Internal error' }) satisfies SerializedAppError);
  }
}
