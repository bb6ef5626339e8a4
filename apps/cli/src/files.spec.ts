import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { download } from './files';

/** A slow body: `chunks` lines of JSON, one every 40 ms (long enough for the bar to appear). */
function slowBody(chunks: number, linesPerChunk: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      if (sent++ >= chunks) return controller.close();
      controller.enqueue(new TextEncoder().encode('{"a":1}\n'.repeat(linesPerChunk)));
    },
  });
}

function terminal(isTTY: boolean) {
  let written = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      written += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY, columns: 100 });
  return { stream, written: () => written };
}

describe('download', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'atrium-download-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on a terminal, a long transfer shows a bar over items that ends at 100%; the file gets every byte', async () => {
    const tty = terminal(true);
    const to = join(dir, 'items.jsonl');
    const bytes = await download(slowBody(20, 10), to, {
      label: 'Exporting',
      totalLines: 200,
      progressTo: tty.stream,
    });
    expect(bytes).toBe(200 * 8);
    expect(readFileSync(to, 'utf8')).toBe('{"a":1}\n'.repeat(200));
    expect(tty.written()).toMatch(/Exporting \|[=-]+\| \d+% \d+\/200 items/);
    expect(tty.written()).toContain('100% 200/200 items');
  });

  it('off a terminal, nothing is written but the data', async () => {
    const pipe = terminal(false);
    await download(slowBody(20, 1), join(dir, 'quiet.jsonl'), {
      label: 'Exporting',
      totalLines: 20,
      progressTo: pipe.stream,
    });
    expect(pipe.written()).toBe('');
  });

  it('a short transfer shows no bar even on a terminal', async () => {
    const tty = terminal(true);
    await download(slowBody(1, 1), join(dir, 'short.jsonl'), {
      label: 'Exporting',
      totalLines: 1,
      progressTo: tty.stream,
    });
    expect(tty.written()).toBe('');
  });
});
