import { CallHandler, ExecutionContext } from '@nestjs/common';
import { rpcCallHeaders } from '@atrium/messaging';
import { defer, lastValueFrom } from 'rxjs';
import { AccessDecisions } from '../authorization/access-decisions';
import { IdempotencyInterceptor } from './idempotency.interceptor';

describe('IdempotencyInterceptor: the settle after a write', () => {
  let settle: jest.Mock;
  let interceptor: IdempotencyInterceptor;
  beforeEach(() => {
    settle = jest.fn(async () => undefined);
    interceptor = new IdempotencyInterceptor({ settle } as unknown as AccessDecisions);
  });

  const request = (method: string) =>
    ({
      getType: () => 'http',
      switchToHttp: () => ({ getRequest: () => ({ method, url: '/v2/x', headers: {}, body: {} }) }),
    }) as unknown as ExecutionContext;
  /** A handler that sends calls with these patterns (as the RPC transports do), then answers or fails. */
  const handler = (patterns: string[], fails = false): CallHandler => ({
    handle: () =>
      defer(async () => {
        for (const pattern of patterns) rpcCallHeaders(pattern, 1000);
        if (fails) throw new Error('failed after its calls');
        return 'answer';
      }),
  });
  const run = (method: string, patterns: string[], fails = false) =>
    lastValueFrom(interceptor.intercept(request(method), handler(patterns, fails)));

  it('a write that sent a call answers after the settle, with its result or its error', async () => {
    await expect(run('POST', ['resources.datasets.push-items'])).resolves.toBe('answer');
    await expect(run('PUT', ['permissions.grants.update'], true)).rejects.toThrow('failed after its calls');
    expect(settle).toHaveBeenCalledTimes(2);
  });

  it('a write that sent no call, or only calls nothing kept reaches, does not wait', async () => {
    await expect(run('POST', [])).resolves.toBe('answer');
    await expect(run('POST', ['resources.request-queues.add-request'])).resolves.toBe('answer');
    expect(settle).not.toHaveBeenCalled();
    await run('DELETE', ['resources.request-queues.delete', 'permissions.resources.refresh']);
    expect(settle).toHaveBeenCalledTimes(1);
  });

  it('a read never waits', async () => {
    await expect(run('GET', ['resources.datasets.get'])).resolves.toBe('answer');
    expect(settle).not.toHaveBeenCalled();
  });
});
