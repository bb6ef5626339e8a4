import { Injectable } from '@nestjs/common';
import { AppError, RunsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { StreamableFile } from '@nestjs/common';
import { Readable } from 'node:stream';

/** How often a streamed log asks for what was appended since (Atrium appends as a run's status changes). */
const STREAM_POLL_MS = 500;
/**
 * While nothing is appended, a streamed log sends an empty line this often: a runner's log may stay
 * quiet for long, and apify-client's log redirection (`call()`, `getStreamedLog()`) notices it was
 * told to stop only when a chunk arrives (the outside review: `actor.call({}, { waitSecs: 2 })`
 * never returned for a run that stayed READY). An empty line is no log message to the client.
 */
const STREAM_KEEPALIVE_MS = 2000;
// What Apify strips unless `raw`: ANSI escape sequences — OSC (title, clipboard, links) whole,
// CSI, and two-character escapes — and the other control characters but tab and newline, so that
// no log shown in a terminal or page moves the cursor, rewrites a line or rings.
const TERMINAL_CONTROLS =
  // eslint-disable-next-line no-control-regex
  /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|\x1b.?|[\x00-\x08\x0b-\x1f\x7f]/g;

/** A run's log as Apify serves it: whole, or with `stream=1` followed until the run finishes. */
@Injectable()
export class RunLogs {
  constructor(private readonly rpc: RpcClient) {}

  /** Without `raw`, Apify's API removes ANSI escape codes, keeping printable characters (and tabs, newlines). */
  clean(text: string): string {
    return text.replace(TERMINAL_CONTROLS, '');
  }

  /**
   * The log from its start, then each part appended as it is, ending once the run has finished
   * (or been deleted); a client that goes away stops the polling, as the stream is pulled on demand.
   */
  stream(runId: string, { raw }: { raw: boolean }): StreamableFile {
    const rpc = this.rpc;
    const clean = (text: string) => (raw ? text : this.clean(text));
    async function* parts(): AsyncGenerator<Buffer> {
      let offset = 0;
      let sentAt = Date.now();
      for (;;) {
        let part: { log: string; length: number; finished: boolean };
        try {
          part = await rpc.call(RunsRpc.getLog, { id: runId, offset });
        } catch (err) {
          if (err instanceof AppError && err.type === 'record-not-found') return;
          throw err;
        }
        if (part.log) {
          yield Buffer.from(clean(part.log));
          sentAt = Date.now();
        } else if (Date.now() - sentAt >= STREAM_KEEPALIVE_MS) {
          yield Buffer.from('\n');
          sentAt = Date.now();
        }
        offset = part.length;
        if (part.finished) return;
        await new Promise((resolve) => setTimeout(resolve, STREAM_POLL_MS));
      }
    }
    return new StreamableFile(Readable.from(parts(), { objectMode: false }), {
      type: 'text/plain; charset=utf-8',
    });
  }
}
