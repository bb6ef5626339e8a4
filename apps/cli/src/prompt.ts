import { createInterface } from 'node:readline';

/** Asks on the terminal; `hidden` does not echo what is typed (passwords, tokens). */
export function prompt(question: string, { hidden = false } = {}): Promise<string> {
  if (hidden && process.stdin.isTTY) return askHidden(question);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  return new Promise((resolve, reject) => {
    // (Removing readline's own 'close' listeners would leave it echoing keys after close.)
    let answered = false;
    rl.on('close', () => answered || reject(new Error('No answer: the input ended')));
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer.trim());
    });
  });
}

/**
 * A secret typed on the terminal, read in raw mode without readline (which redraws the line it
 * edits, secret included): nothing is echoed; Backspace edits, Enter ends, Ctrl+C and Ctrl+D stop.
 */
function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the question shows: what is typed (or pasted) as soon as it shows is not echoed.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  let typed = '';
  return new Promise((resolve, reject) => {
    const finish = (outcome: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      outcome();
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish(() => resolve(typed.trim()));
        if (char === '\u0003' || char === '\u0004')
          return finish(() => reject(new Error('No answer: interrupted')));
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else if (char >= ' ') typed += char;
      }
    };
    stdin.on('data', onData);
  });
}

/** All of stdin, for secrets given by scripts (`--password-stdin`, `--token-stdin`) and `-` files. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
