import { Module } from '@nestjs/common';
import {
  AMQP_RECONNECT_MAX_SECONDS,
  AMQP_RECONNECT_SECONDS,
  AmqpEventBus,
  RmqRpcTransport,
  startServiceApp,
} from '@atrium/messaging';
import { FaultProxy, startFaultProxy, TEST_AMQP_URL } from '@atrium/testing';
import { sleep } from './faults-stack';

/**
 * Reconnection to RabbitMQ (libs/messaging topology.ts, `backOffReconnects`): a connection that
 * is reset comes back within a fraction of a second, and while the broker stays unreachable the
 * attempts back off to one per AMQP_RECONNECT_MAX_SECONDS instead of hammering it. Real
 * amqp-connection-manager connections (an event bus, an RPC client) through a fault proxy.
 */
describe('faults: reconnecting to RabbitMQ', () => {
  let proxy: FaultProxy;
  let bus: AmqpEventBus;
  const connects: number[] = [];

  beforeAll(async () => {
    proxy = await startFaultProxy({ port: Number(new URL(TEST_AMQP_URL).port || 5672) });
    bus = new AmqpEventBus(proxy.url(TEST_AMQP_URL));
    bus.onConnectionChange((connected) => connected && connects.push(performance.now()));
    await waitFor(() => bus.connected, 10_000);
  });

  afterAll(async () => {
    await bus?.close();
    await proxy?.close();
  });

  it('is back within a fraction of a second after its connection is reset', async () => {
    const before = connects.length;
    const cutAt = performance.now();
    expect(proxy.reset()).toBeGreaterThan(0);
    await waitFor(() => connects.length > before && bus.connected, 5000);
    const backInMs = connects[connects.length - 1] - cutAt;
    process.stdout.write(`\n[reconnect] event bus back ${backInMs.toFixed(0)} ms after a reset\n`);
    // The first attempt is AMQP_RECONNECT_SECONDS after the loss (it was a full second before).
    expect(backInMs).toBeGreaterThanOrEqual(AMQP_RECONNECT_SECONDS * 1000 - 5);
    expect(backInMs).toBeLessThan(1000);
  });

  it('backs off while the broker is unreachable, and is back within the longest wait after it returns', async () => {
    const refusedBefore = proxy.stats.refused;
    proxy.refuse();
    proxy.reset();
    const downMs = 4000;
    await sleep(downMs);
    const attempts = proxy.stats.refused - refusedBefore;
    const before = connects.length;
    const restoredAt = performance.now();
    proxy.restore();
    await waitFor(() => connects.length > before && bus.connected, 5000);
    const backInMs = connects[connects.length - 1] - restoredAt;
    process.stdout.write(
      `[reconnect] ${attempts} attempts in ${downMs} ms of refusal; back ${backInMs.toFixed(0)} ms after the broker was\n`,
    );
    // 0.1, 0.2, 0.4, 0.8, then 1 s apart: 6-7 attempts in 4 s (a fixed 0.1 s would be ~40).
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(9);
    expect(backInMs).toBeLessThan(AMQP_RECONNECT_MAX_SECONDS * 1000 + 500);
  });

  it("reconnects an RPC client's connection within a fraction of a second after a reset", async () => {
    const transport = new RmqRpcTransport(proxy.url(TEST_AMQP_URL));
    try {
      // The first call opens the connection (and times out: nobody serves this pattern's queue).
      await transport.send('issues', 'reconnect.probe', {}, 300).catch(() => undefined);
      const accepted = proxy.stats.accepted;
      const cutAt = performance.now();
      expect(proxy.reset()).toBeGreaterThan(0);
      await waitFor(() => proxy.stats.accepted > accepted, 5000);
      const backInMs = performance.now() - cutAt;
      process.stdout.write(
        `[reconnect] RPC client connected again ${backInMs.toFixed(0)} ms after a reset\n`,
      );
      expect(backInMs).toBeLessThan(1000);
    } finally {
      await transport.close();
    }
  });

  it('fails the calls on their way at once when the connection goes, instead of at their deadline', async () => {
    const transport = new RmqRpcTransport(proxy.url(TEST_AMQP_URL));
    try {
      await transport.send('issues', 'reconnect.probe', {}, 300).catch(() => undefined);
      // Nobody serves this queue: without the cut the call would wait its whole 5 s.
      const started = performance.now();
      const call = transport.send('issues', 'reconnect.probe', {}, 5000).then(
        () => null,
        (err: unknown) => err,
      );
      await sleep(100);
      const accepted = proxy.stats.accepted;
      proxy.reset();
      const err = await call;
      const failedInMs = performance.now() - started;
      process.stdout.write(
        `[reconnect] a call on its way failed ${failedInMs.toFixed(0)} ms after it was sent\n`,
      );
      expect(err).toMatchObject({ type: 'service-unavailable' });
      expect(String((err as Error).message)).toMatch(/lost before the answer came/);
      expect(failedInMs).toBeLessThan(1000);
      // And the next call goes out on the new connection: it waits for its deadline (nobody
      // answers this queue) instead of failing as lost.
      await waitFor(() => proxy.stats.accepted > accepted, 5000);
      await sleep(100);
      await expect(transport.send('issues', 'reconnect.probe', {}, 300)).rejects.toMatchObject({
        message: expect.stringMatching(/did not answer reconnect\.probe within 300 ms/),
      });
    } finally {
      await transport.close();
    }
  });

  it('keeps a service running through a second reset while it sets its channel up again', async () => {
    // Nest's RMQ server does not await its `consume`: a connection lost before the broker
    // confirmed it was an unhandled rejection, which ends a service process (outside attack pass).
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    @Module({})
    class NoHandlers {}
    const app = await startServiceApp({ module: NoHandlers }, 'issues', {
      amqpUrl: proxy.url(TEST_AMQP_URL),
      logLevel: 'fatal',
    });
    try {
      for (let i = 0; i < 12; i++) {
        proxy.reset();
        // Around the first reconnection attempt (AMQP_RECONNECT_SECONDS), as a broker blip does.
        await sleep(AMQP_RECONNECT_SECONDS * 1000 + (i % 6) * 5);
        proxy.reset();
        await sleep(300);
      }
      await sleep(500);
      expect(rejections.map(String)).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
      await app.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(10);
  }
}
