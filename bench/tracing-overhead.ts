/**
 * What tracing costs on the hot path: an authorized read (`GET /v2/datasets/:id`, the gateway's
 * guard, its decision cache, one RPC to resources) through the whole stack in one process, on
 * RabbitMQ and PostgreSQL, with tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset) or on (spans
 * exported to a local OTLP/HTTP sink that discards them).
 *   TEST_AMQP_URL=… node -r ./tools/register.js bench/tracing-overhead.ts off|on [requests]
 */
import { startTracing, stopTracing } from '@atrium/messaging';
import {
  createTestDatabase,
  resetBroker,
  signUp,
  testGatewayConfig,
  testServiceConfig,
  uniqueName,
} from '@atrium/testing';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { startAtriumStack } from '../apps/atrium/src/atrium-stack';

async function main(): Promise<void> {
  const mode = process.argv[2] === 'on' ? 'on' : 'off';
  const requests = Number(process.argv[3] ?? 3000);
  const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end('{}')));
  await new Promise<void>((listening) => sink.listen(0, '127.0.0.1', listening));
  if (mode === 'on')
    startTracing('bench', {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    });
  const db = await createTestDatabase();
  await resetBroker();
  const stack = await startAtriumStack(testServiceConfig(db.url), testGatewayConfig({ LOG_LEVEL: 'warn' }));
  const fastify = stack.gateway.getHttpAdapter().getInstance();
  await fastify.ready();
  const t = { http: () => request(stack.gateway.getHttpServer()) };
  const alice = await signUp(t, uniqueName('bench'));
  const id = (
    await t
      .http()
      .post(`/v2/datasets?name=${uniqueName('ds')}`)
      .set(alice.auth)
      .expect(201)
  ).body.data.id as string;
  const read = async () => {
    const res = await fastify.inject({ method: 'GET', url: `/v2/datasets/${id}`, headers: alice.auth });
    if (res.statusCode !== 200) throw new Error(`read answered ${res.statusCode}`);
  };
  for (let i = 0; i < 500; i++) await read();

  // Sequential: the latency of one read.
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    await read();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  // 16 in flight for as many requests: the throughput.
  const started = performance.now();
  let left = requests;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (left-- > 0) await read();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const at = (q: number) => times[Math.floor(q * (times.length - 1))]!.toFixed(3);
  process.stdout.write(
    `${JSON.stringify({
      mode,
      requests,
      meanMs: (times.reduce((a, b) => a + b, 0) / times.length).toFixed(3),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      readsPerSecondAt16: Math.round(requests / seconds),
    })}\n`,
  );
  await stack.close();
  await stopTracing();
  await db.drop();
  sink.close();
  process.exit(0);
}

void main();
