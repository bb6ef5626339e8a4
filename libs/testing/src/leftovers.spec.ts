import { closedAtFileEnd } from './leftovers';

const closeAll = () =>
  (globalThis as { __atriumLeftovers?: { closeAll(): Promise<void> } }).__atriumLeftovers!.closeAll();

function stack() {
  const s = { closes: 0, close: async () => void s.closes++ };
  return s;
}

describe('closedAtFileEnd', () => {
  it('closes at the end what the file left open, once, and not what it closed itself', async () => {
    const [left, closed] = [stack(), stack()];
    const a = await closedAtFileEnd(Promise.resolve(left));
    const b = await closedAtFileEnd(Promise.resolve(closed));
    await b.close();
    await b.close();
    await closeAll();
    await a.close();
    expect([left.closes, closed.closes]).toEqual([1, 1]);
  });

  it('waits for a stack still starting at the end, then closes it', async () => {
    const late = stack();
    let started!: () => void;
    void closedAtFileEnd(new Promise<typeof late>((resolve) => (started = () => resolve(late))));
    const closing = closeAll();
    setTimeout(started, 20);
    await closing;
    expect(late.closes).toBe(1);
  });

  it('forgets a stack that failed to start', async () => {
    await expect(closedAtFileEnd(Promise.reject(new Error('no')))).rejects.toThrow('no');
    await expect(closeAll()).resolves.toBeUndefined();
  });
});
