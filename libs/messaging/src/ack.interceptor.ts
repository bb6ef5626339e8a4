import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { RmqContext } from '@nestjs/microservices';
import { Observable, finalize } from 'rxjs';

/**
 * Manual acknowledgement: the request message is acked only after its handler has finished its
 * work (successfully or with an answered error), so a crash mid-work leaves it in the queue.
 */
@Injectable()
export class AckInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rpcContext = context.switchToRpc().getContext();
    if (!(rpcContext instanceof RmqContext)) return next.handle();
    return next.handle().pipe(
      finalize(() => {
        try {
          rpcContext.getChannelRef().ack(rpcContext.getMessage());
        } catch (err) {
          // The channel closed under the handler (a lost connection): the broker delivers the
          // request again, and the server answers that copy with this reply (RmqRpcServer).
          new Logger('AckInterceptor').warn(`Could not ack a request: ${(err as Error).message}`);
        }
      }),
    );
  }
}
