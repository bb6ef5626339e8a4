/**
 * Stacks a test file started and did not close — a `beforeAll` that timed out while its stack was
 * still starting, an `afterAll` never reached — would go on consuming the vhost's queues during
 * the next files (Jest runs them in one process), answering their RPCs from a dropped database:
 * a fresh user's token "not valid", a just-created resource "not found". Each started stack is
 * tracked here; `tools/jest-close-leftovers.js` closes what is still open when its file ends.
 */
interface Closable {
  close(): Promise<void>;
}

interface Leftovers {
  open: Set<Promise<Closable>>;
  closeAll(): Promise<void>;
}

/** How long a stack still starting at the end of its file is waited for before it is closed. */
const START_WAIT_MS = 120_000;

function leftovers(): Leftovers {
  const global = globalThis as { __atriumLeftovers?: Leftovers };
  global.__atriumLeftovers ??= {
    open: new Set(),
    async closeAll() {
      const open = [...this.open];
      this.open.clear();
      await Promise.all(
        open.map(async (starting) => {
          let timer: NodeJS.Timeout | undefined;
          const stack = await Promise.race([
            starting.catch(() => undefined),
            new Promise<undefined>(
              (resolve) => (timer = setTimeout(() => resolve(undefined), START_WAIT_MS)),
            ),
          ]);
          clearTimeout(timer);
          if (!stack) return;
          process.stderr.write(`[leftovers] closing a stack its test file left open\n`);
          await stack.close().catch(() => undefined);
        }),
      );
    },
  };
  return global.__atriumLeftovers;
}

/** `starting`, tracked until closed; its `close()` may be called more than once. */
export function closedAtFileEnd<T extends Closable>(starting: Promise<T>): Promise<T> {
  const registry = leftovers();
  const tracked = starting.then((stack) => {
    const close = stack.close.bind(stack);
    let closing: Promise<void> | undefined;
    stack.close = () => {
      registry.open.delete(tracked);
      return (closing ??= close());
    };
    return stack;
  });
  registry.open.add(tracked);
  tracked.catch(() => registry.open.delete(tracked));
  return tracked;
}
