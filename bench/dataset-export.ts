/**
 * A 100,000-item dataset exported as CSV (and XLSX) through the distributed mode — gateway and
 * resources service each its own process, on PostgreSQL and RabbitMQ — sampling both processes'
 * resident memory every 50 ms during the export, to show the export streams in bounded memory:
 *   npm run bench:dataset-export            (ITEMS=100000, AMQP_URL default …/ds, ADMIN_DATABASE_URL)
 */
import { SERVICES } from '@atrium/contracts';
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { rssMB } from './lib/embedded';
import { createBenchDatabase } from './lib/infra';
import { print, progress, runScript, sleep } from './lib/log';
import { freePort, ProcessGroup } from './lib/processes';

const ITEMS = Number(process.env.ITEMS ?? 100_000);
const PUSH = 10_000;
const item = (n: number) => ({
  url: `https://example.com/products/${n}`,
  title: `Product number ${n}, with a "quoted" name`,
  price: n / 100,
  available: n % 3 === 0,
  seller: { name: `Seller ${n % 97}`, city: 'Prague' },
  tags: ['new', `t${n % 10}`],
});

interface Sampled {
  peak: number;
  samples: number[];
}

function sampler(pid: number): { sampled: Sampled; stop(): void } {
  const sampled: Sampled = { peak: 0, samples: [] };
  const timer = setInterval(() => {
    const mb = rssMB(pid);
    if (mb === null) return;
    sampled.samples.push(mb);
    sampled.peak = Math.max(sampled.peak, mb);
  }, 50);
  return { sampled, stop: () => clearInterval(timer) };
}

async function main(): Promise<void> {
  const group = new ProcessGroup(mkdtempSync(join(tmpdir(), 'atrium-dataset-export-')));
  const database = await createBenchDatabase(
    process.env.ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  );
  try {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = {
      DATABASE_URL: database.url,
      AMQP_URL: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/ds',
      JWT_SECRET: 'dataset-export-bench-secret-of-at-least-32-chars',
      PORT: String(port),
      PUBLIC_BASE_URL: baseUrl,
      RPC_TIMEOUT_MS: '30000',
      LOG_LEVEL: 'warn',
      RUN_MIGRATIONS: 'false',
    };
    progress('migrating');
    await group.run('migrate', 'tools/migrate.ts', env, 120_000);
    const pids: Record<string, number> = {};
    for (const name of [...SERVICES, 'gateway']) {
      pids[name] = group.start(name, `apps/${name}/src/main.ts`, env).pid!;
    }
    for (let ready = false; !ready; await sleep(200)) {
      ready = await fetch(`${baseUrl}/health/ready`)
        .then((r) => r.status === 200)
        .catch(() => false);
    }
    const post = async (path: string, body: unknown, token?: string) => {
      const res = await fetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { data: Record<string, unknown> };
    };
    const { accessToken } = (
      await post('/v2/auth/signup', {
        email: 'bench@example.com',
        username: 'bench',
        password: 'a long password',
      })
    ).data as { accessToken: string };
    const { id } = (await post('/v2/datasets?name=export', {}, accessToken)).data as { id: string };
    progress(`pushing ${ITEMS} items`);
    for (let n = 0; n < ITEMS; n += PUSH) {
      await post(
        `/v2/datasets/${id}/items`,
        Array.from({ length: Math.min(PUSH, ITEMS - n) }, (_, i) => item(n + i)),
        accessToken,
      );
    }
    await sleep(1000);

    const rows: string[] = [];
    for (const format of ['csv', 'xlsx'] as const) {
      const before = { gateway: rssMB(pids.gateway!)!, resources: rssMB(pids.resources!)! };
      const gateway = sampler(pids.gateway!);
      const resources = sampler(pids.resources!);
      progress(`exporting as ${format}`);
      const started = Date.now();
      const res = await fetch(`${baseUrl}/v2/datasets/${id}/items?format=${format}`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      let bytes = 0;
      let lines = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        if (format === 'csv') for (const b of chunk) if (b === 10) lines++;
      }
      const seconds = (Date.now() - started) / 1000;
      gateway.stop();
      resources.stop();
      if (res.status !== 200) throw new Error(`export ${format}: ${res.status}`);
      if (format === 'csv' && lines !== ITEMS + 1) throw new Error(`csv: ${lines} lines, not ${ITEMS + 1}`);
      const mb = (v: number) => `${v.toFixed(0)} MB`;
      rows.push(
        `| ${format} | ${ITEMS.toLocaleString('en')} | ${(bytes / 1e6).toFixed(1)} MB | ${seconds.toFixed(1)} s | ` +
          `${mb(before.gateway)} → ${mb(gateway.sampled.peak)} | ${mb(before.resources)} → ${mb(resources.sampled.peak)} |`,
      );
    }
    print(
      [
        '',
        '| format | items | body | time | gateway RSS (before → peak) | resources RSS (before → peak) |',
        '|---|---|---|---|---|---|',
        ...rows,
        '',
      ].join('\n'),
    );
  } finally {
    await group.stopAll();
    await database.drop();
  }
}

runScript(main);
