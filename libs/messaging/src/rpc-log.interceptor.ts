import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';

/**
 * One debug line per RPC a service answers — its pattern, outcome and time — under the request
 * id it came with, so that `LOG_LEVEL=debug` follows one request from the gateway through the
 * services.
 */
@Injectable()
export class RpcLogInterceptor implements NestInterceptor {
  private readonly logger = new Logger('RPC');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const pattern = context.getHandler().name;
    const started = performance.now();
    const line = (outcome: string) =>
      this.logger.debug(
        `${context.getClass().name}.${pattern} ${outcome} in ${(performance.now() - started).toFixed(1)} ms`,
      );
    return next.handle().pipe(
      tap({
        next: () => line('answered'),
        error: (err: unknown) =>
          line(`failed (${(err as { type?: string })?.type ?? (err as Error)?.message})`),
      }),
    );
  }
}
