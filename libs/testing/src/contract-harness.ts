import { DynamicModule, INestMicroservice } from '@nestjs/common';
import { ALL_RPC_ROUTES, AppError, EventEnvelope, ServiceName } from '@atrium/contracts';
import { AmqpEventBus, RmqRpcTransport, RpcClient, RpcDispatcher, startServiceApp } from '@atrium/messaging';
import {
  createTestDatabase,
  resetBroker,
  TEST_AMQP_URL,
  TestDatabase,
  uniqueName,
} from './test-infrastructure';
import { closedAtFileEnd } from './leftovers';

export interface ContractHarness {
  app: INestMicroservice;
  rpc: RpcClient;
  bus: AmqpEventBus;
  db: TestDatabase;
  close(): Promise<void>;
}

/** One service alone on real RabbitMQ and a fresh PostgreSQL database, driven through its queue. */
export function startContractHarness(
  service: ServiceName,
  rootModule: (databaseUrl: string) => DynamicModule,
): Promise<ContractHarness> {
  return closedAtFileEnd(startingContractHarness(service, rootModule));
}

async function startingContractHarness(
  service: ServiceName,
  rootModule: (databaseUrl: string) => DynamicModule,
): Promise<ContractHarness> {
  await resetBroker();
  const db = await createTestDatabase({ migrated: true });
  const app = await startServiceApp(rootModule(db.url), service, {
    amqpUrl: TEST_AMQP_URL,
    logLevel: 'error',
  });
  // Longer than the service's own RPC deadline (3 s), so the service's answer — a timeout of its
  // own included — reaches the test rather than the harness giving up first on a busy machine.
  const rpc = new RpcClient(new RmqRpcTransport(TEST_AMQP_URL), 10_000);
  const bus = new AmqpEventBus(TEST_AMQP_URL);
  return {
    app,
    rpc,
    bus,
    db,
    async close() {
      await rpc.close();
      await bus.close();
      await app.close();
      await db.drop();
    },
  };
}

/** Expects a call to fail with an AppError of the given type. */
export async function expectAppError(call: Promise<unknown>, type: AppError['type']): Promise<AppError> {
  const err = await call.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).type).toBe(type);
  return err as AppError;
}

/**
 * The service handles exactly the patterns its contract defines (no handler without a pattern,
 * no pattern without a handler), and every handler validates its payload: a payload that is not
 * one (not even an object) is answered with invalid-input, not ignored or dropped. (Fields a handler
 * does not know are ignored, as they may come from a newer release: message-tolerance.spec.ts.)
 */
export async function expectEveryRouteValidated(
  harness: ContractHarness,
  service: ServiceName,
): Promise<void> {
  // The handlers the service's server dispatches to, as it finds them in its app.
  const handled = RpcDispatcher.fromApp(harness.app, service).patterns.sort();
  expect(handled).toEqual(ALL_RPC_ROUTES[service].map((r) => r.pattern).sort());
  for (const route of ALL_RPC_ROUTES[service]) {
    const err = await expectAppError(
      harness.rpc.call(route, 'not a payload' as never),
      'invalid-input',
    ).catch((e: unknown) => {
      throw new Error(`${route.pattern}: ${(e as Error).message}`);
    });
    expect(err.message).toContain('payload');
  }
}

/** Records every event of those names from now on, in order of arrival, into `into` (a probe queue of its own). */
export async function recordEvents(
  h: ContractHarness,
  probe: string,
  names: string[],
  into: EventEnvelope[],
): Promise<void> {
  await h.bus.subscribe(uniqueName(`${probe}-probe`), names, async (e) => {
    into.push(e);
  });
}
