import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { AppError, ErrorType } from '@atrium/contracts';
import type { FastifyReply } from 'fastify';

const TYPE_BY_STATUS: Record<number, ErrorType> = {
  400: 'invalid-input',
  401: 'token-not-valid',
  403: 'insufficient-permissions',
  404: 'record-not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'invalid-input',
  429: 'rate-limit-exceeded',
  503: 'service-unavailable',
};

/** Maps any error to Apify's `{ error: { type, message } }`; internals are logged, never sent. */
export function toApiError(
  exception: unknown,
  logger: Logger,
): { status: number; type: ErrorType; message: string } {
  if (exception instanceof AppError)
    return { status: exception.status, type: exception.type, message: exception.message };
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const message =
      typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? exception.message);
    return {
      status,
      type: TYPE_BY_STATUS[status] ?? (status < 500 ? 'invalid-input' : 'internal-error'),
      message,
    };
  }
  const fastifyError = exception as { statusCode?: number; message?: string; code?: string };
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    return {
      status,
      type: TYPE_BY_STATUS[status] ?? 'invalid-input',
      message: fastifyError.message ?? 'Bad request',
    };
  }
  logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return { status: 500, type: 'internal-error', message: 'Internal error' };
}

export function sendApiError(reply: FastifyReply, exception: unknown, logger: Logger): void {
  const { status, type, message } = toApiError(exception, logger);
  void reply
    .status(status)
    .header('content-type', 'application/json; charset=utf-8')
    .send({ error: { type, message } });
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    sendApiError(host.switchToHttp().getResponse<FastifyReply>(), exception, this.logger);
  }
}
