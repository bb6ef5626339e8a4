import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** Asks on the terminal; `hidden` does not echo what is typed (passwords, tokens). */
export function prompt(question: string, { hidden = false } = {}): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, encoding, done) {
      if (!muted) process.stderr.write(chunk, encoding);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: process.stdin.isTTY });
  return new Promise((resolve, reject) => {
    rl.on('close', () => reject(new Error('No answer: the input ended')));
    rl.question(question, (answer) => {
      if (hidden) process.stderr.write('\n');
      rl.removeAllListeners('close');
      rl.close();
      resolve(answer.trim());
    });
    muted = hidden;
  });
}

/** All of stdin, for secrets given by scripts (`--password-stdin`, `--token-stdin`) and `-` files. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
