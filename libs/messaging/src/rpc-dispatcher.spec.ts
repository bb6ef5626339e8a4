import { Controller, Logger, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { AppError, rpc } from '@atrium/contracts';
import { z } from 'zod';
import { RpcDispatcher } from './rpc-dispatcher';
import { RpcHandler } from './rpc-handler.decorator';

const echo = rpc<{ name: string }>()('issues', 'test.echo', z.object({ name: z.string().min(1) }));
const refuse = rpc<never>()('issues', 'test.refuse', z.object({}));
const crash = rpc<never>()('issues', 'test.crash', z.object({}));

@Controller()
class TestController {
  @RpcHandler(echo)
  echo(@Payload() payload: { name: string }) {
    return { name: payload.name, self: this instanceof TestController };
  }

  @RpcHandler(refuse)
  async refuse(@Payload() _payload: object): Promise<never> {
    throw new AppError('insufficient-permissions', 'No');
  }

  @RpcHandler(crash)
  crash(@Payload() _payload: object): never {
    throw new Error('secret detail');
  }

  notAHandler(): void {}
}

async function dispatcherOf(controller: Type<unknown>): Promise<RpcDispatcher> {
  @Module({ controllers: [controller] })
  class TestModule {}
  const app = await NestFactory.createApplicationContext(TestModule, { logger: false });
  try {
    return RpcDispatcher.fromApp(app, 'issues');
  } finally {
    await app.close();
  }
}

describe('RpcDispatcher', () => {
  let dispatcher: RpcDispatcher;
  beforeAll(async () => {
    dispatcher = await dispatcherOf(TestController);
  });

  it('finds the @RpcHandler methods of the app and calls them on their controller', async () => {
    expect(dispatcher.patterns.sort()).toEqual(['test.crash', 'test.echo', 'test.refuse']);
    expect(dispatcher.handles('test.echo')).toBe(true);
    expect(dispatcher.handles('notAHandler')).toBe(false);
    // Fields the route does not know are dropped (a caller of a newer release), not refused.
    expect(await dispatcher.handle('test.echo', { name: 'a', extra: 1 })).toEqual({
      response: { name: 'a', self: true },
    });
  });

  it('validates the payload against the route, naming the field', async () => {
    const answer = await dispatcher.handle('test.echo', { name: '' });
    expect(answer.err).toMatchObject({ type: 'invalid-input', message: expect.stringContaining('name') });
    expect((await dispatcher.handle('test.echo', 'not a payload')).err?.message).toContain('payload');
  });

  it('answers an AppError as it is, and anything else as an internal error without its details', async () => {
    expect(await dispatcher.handle('test.refuse', {})).toEqual({
      err: { type: 'insufficient-permissions', message: 'No' },
    });
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      expect(await dispatcher.handle('test.crash', {})).toEqual({
        err: { type: 'internal-error', message: 'Internal error' },
      });
      expect(String(error.mock.calls[0]?.[0])).toContain('secret detail');
    } finally {
      error.mockRestore();
    }
  });

  it('refuses at start a handler taking more than its payload', async () => {
    @Controller()
    class WithContext {
      @RpcHandler(echo)
      echo(@Payload() payload: unknown, @Ctx() _context: unknown) {
        return payload;
      }
    }
    await expect(dispatcherOf(WithContext)).rejects.toThrow(
      'WithContext.echo: an RPC handler takes its payload as its only parameter',
    );
  });

  it('refuses at start a pattern handled twice', async () => {
    @Controller()
    class Again {
      @RpcHandler(echo)
      again(@Payload() payload: unknown) {
        return payload;
      }
    }
    @Module({ controllers: [TestController, Again] })
    class Twice {}
    const app = await NestFactory.createApplicationContext(Twice, { logger: false });
    try {
      expect(() => RpcDispatcher.fromApp(app, 'issues')).toThrow(
        'test.echo is handled twice: by TestController.echo and Again.again',
      );
    } finally {
      await app.close();
    }
  });
});
