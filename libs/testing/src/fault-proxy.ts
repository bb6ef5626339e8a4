import { AddressInfo, createServer, Server, Socket } from 'node:net';

export type FaultDirection = 'upstream' | 'downstream';

/** Called with every chunk as it reaches the proxy (before any latency): to act at an exact moment. */
export type FaultTap = (chunk: Buffer, direction: FaultDirection, connection: number) => void;

/**
 * A TCP proxy on loopback between a client (a service) and a server (RabbitMQ, PostgreSQL) that
 * injects network faults, in the manner of Toxiproxy:
 * - `latency(ms)`: every chunk, in both directions, is delayed by `ms` (order kept);
 * - `reset()`: every open connection is cut now (TCP RST on both sides), as when the server
 *   restarts or a connection-tracking firewall forgets them;
 * - `refuse()`: new connections are reset as soon as they arrive (the server is down);
 * - `blackhole()`: connections stay open and new ones are accepted, but nothing passes either
 *   way (a network partition: the bytes are held, as TCP would keep retransmitting them, and
 *   flow again on `restore` unless an endpoint gave up on the connection meanwhile);
 * - `restore()`: back to a clean link (no latency, no refusal, no blackhole).
 */
export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's (credentials, path and query kept). */
  url(url: string): string;
  latency(ms: number): void;
  reset(): number;
  refuse(): void;
  blackhole(): void;
  restore(): void;
  /** Watches every chunk; returns a function that stops watching. */
  tap(listener: FaultTap): () => void;
  /** Connections open now, and counters since the proxy started. */
  readonly stats: { open: number; accepted: number; reset: number; refused: number };
  close(): Promise<void>;
}

interface Link {
  id: number;
  client: Socket;
  server: Socket | undefined;
  /** Chunks waiting for their latency to pass or for a blackhole to end, per direction. */
  pending: Record<FaultDirection, { due: number; chunk: Buffer }[]>;
  timers: Record<FaultDirection, NodeJS.Timeout | undefined>;
  /** The sending side of a direction has closed: end the other side once its bytes are delivered. */
  ended: Record<FaultDirection, boolean>;
}

export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  const targetHost = target.host ?? '127.0.0.1';
  const links = new Set<Link>();
  const taps = new Set<FaultTap>();
  const stats = { open: 0, accepted: 0, reset: 0, refused: 0 };
  let delayMs = 0;
  let refusing = false;
  let holding = false;
  let nextId = 1;

  const forget = (link: Link) => {
    for (const d of ['upstream', 'downstream'] as const) clearTimeout(link.timers[d]);
    if (links.delete(link)) stats.open--;
  };

  /** Cuts a connection at once on both sides (TCP RST), dropping whatever was still held. */
  const cut = (link: Link) => {
    forget(link);
    if (!link.client.destroyed) link.client.resetAndDestroy();
    if (link.server && !link.server.destroyed) link.server.resetAndDestroy();
  };

  const closeIfDone = (link: Link) => {
    if (link.client.destroyed && (!link.server || link.server.destroyed)) forget(link);
  };

  /** Writes the chunks whose time has come, in order; re-arms itself for the next one. */
  const pump = (link: Link, direction: FaultDirection) => {
    clearTimeout(link.timers[direction]);
    link.timers[direction] = undefined;
    const to = direction === 'upstream' ? link.server : link.client;
    const queue = link.pending[direction];
    if (holding || !to || to.connecting) return;
    while (queue.length && queue[0].due <= Date.now()) {
      const { chunk } = queue.shift()!;
      if (!to.destroyed && to.writable) to.write(chunk);
    }
    if (queue.length) {
      link.timers[direction] = setTimeout(() => pump(link, direction), queue[0].due - Date.now());
    } else if (link.ended[direction]) {
      to.end();
      closeIfDone(link);
    }
  };

  const forward = (link: Link, direction: FaultDirection, chunk: Buffer) => {
    for (const tap of taps) tap(chunk, direction, link.id);
    link.pending[direction].push({ due: Date.now() + delayMs, chunk });
    if (link.pending[direction].length === 1) pump(link, direction);
  };

  const connectUpstream = (link: Link) => {
    const server = new Socket();
    link.server = server;
    server.setNoDelay(true);
    server.on('data', (chunk) => forward(link, 'downstream', chunk));
    server.on('connect', () => pump(link, 'upstream'));
    server.on('error', () => cut(link));
    server.on('close', () => {
      link.ended.downstream = true;
      pump(link, 'downstream');
      closeIfDone(link);
    });
    server.connect(target.port, targetHost);
  };

  const server: Server = createServer({ noDelay: true }, (client) => {
    stats.accepted++;
    client.on('error', () => undefined);
    if (refusing) {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    const link: Link = {
      id: nextId++,
      client,
      server: undefined,
      pending: { upstream: [], downstream: [] },
      timers: { upstream: undefined, downstream: undefined },
      ended: { upstream: false, downstream: false },
    };
    links.add(link);
    stats.open++;
    client.on('data', (chunk) => forward(link, 'upstream', chunk));
    client.on('error', () => cut(link));
    client.on('close', () => {
      link.ended.upstream = true;
      if (link.server) pump(link, 'upstream');
      closeIfDone(link);
    });
    // In a blackhole the connection is accepted but goes nowhere until `restore`.
    if (!holding) connectUpstream(link);
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ready());
  });
  const { port } = server.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    url(original: string) {
      const u = new URL(original);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    latency(ms: number) {
      delayMs = ms;
    },
    reset() {
      const count = links.size;
      for (const link of [...links]) cut(link);
      stats.reset += count;
      return count;
    },
    refuse() {
      refusing = true;
    },
    blackhole() {
      holding = true;
    },
    restore() {
      delayMs = 0;
      refusing = false;
      if (!holding) return;
      holding = false;
      for (const link of [...links]) {
        if (link.client.destroyed && !link.server) {
          forget(link);
          continue;
        }
        if (!link.server) connectUpstream(link);
        pump(link, 'upstream');
        pump(link, 'downstream');
      }
    },
    tap(listener: FaultTap) {
      taps.add(listener);
      return () => taps.delete(listener);
    },
    get stats() {
      return { ...stats };
    },
    async close() {
      for (const link of [...links]) cut(link);
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
