import { randomBytes } from 'crypto';
import * as amqplib from 'amqplib';
import { Client } from 'pg';
import { SERVICES } from '@atrium/contracts';
import { amqpConnectionOptions, deadLetterQueue, eventQueue, rpcQueue } from '@atrium/messaging';
import { BENCH_RPC_QUEUE } from '../baseline/bench-rpc';
import { progress, within } from './log';

export const BENCH_VHOST = 'atrium-bench';

/** A lowercase random suffix for names this run creates. */
export function randomSuffix(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}

/** A fresh database on the admin server, dropped (forcefully) by `drop`. */
export async function createBenchDatabase(
  adminUrl: string,
  prefix = 'atrium_bench',
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomSuffix(10)}`;
  const admin = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * The vhost `atrium-bench` when it exists (so the benchmark cannot meet tests' queues on the
 * default vhost), else the URL as given. Probed by connecting to it; rabbitmqctl is not used.
 */
export async function chooseAmqpUrl(baseUrl: string): Promise<{ url: string; vhost: string }> {
  const parsed = new URL(baseUrl);
  if (parsed.pathname && parsed.pathname !== '/') {
    return { url: baseUrl, vhost: decodeURIComponent(parsed.pathname.slice(1)) };
  }
  parsed.pathname = `/${encodeURIComponent(BENCH_VHOST)}`;
  const candidate = parsed.toString();
  try {
    const connection = await within(amqplib.connect(candidate, amqpConnectionOptions), 5000, 'AMQP connect');
    connection.on('error', () => undefined);
    await connection.close();
    return { url: candidate, vhost: BENCH_VHOST };
  } catch {
    // no such vhost (or no access): the default one
  }
  const connection = await within(amqplib.connect(baseUrl, amqpConnectionOptions), 5000, 'AMQP connect');
  await connection.close();
  return { url: baseUrl, vhost: '/' };
}

/**
 * Deletes the queues a previous (interrupted) run may have left in the benchmark's own vhost,
 * so no stale request or event reaches this run's services. Never done on the default vhost,
 * where tests and other runs keep theirs.
 */
export async function resetBenchVhost(url: string): Promise<void> {
  const connection = await within(amqplib.connect(url, amqpConnectionOptions), 5000, 'AMQP connect');
  try {
    const channel = await connection.createChannel();
    const queues = [BENCH_RPC_QUEUE, ...SERVICES.flatMap((s) => [rpcQueue(s), eventQueue(s)])];
    for (const queue of queues) {
      await channel.deleteQueue(queue);
      await channel.deleteQueue(deadLetterQueue(queue));
    }
    await channel.close();
  } finally {
    await connection.close();
  }
  progress('reset the queues of the benchmark vhost');
}
