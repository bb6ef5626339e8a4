import { AnnouncedRevocations } from './announced-revocations';

describe('AnnouncedRevocations', () => {
  it('resolves when every id is announced, also when one was announced before the wait began', async () => {
    const revocations = new AnnouncedRevocations();
    revocations.announced(['a']);
    const heard = revocations.heard(['a', 'b']);
    setTimeout(() => revocations.announced(['b']), 5);
    await expect(heard).resolves.toBe(true);
  });

  it('gives up after the timeout, and says so', async () => {
    const revocations = new AnnouncedRevocations();
    await expect(revocations.heard(['c'], 20)).resolves.toBe(false);
    // A late announcement finds no waiter left, and is remembered for the next wait.
    revocations.announced(['c']);
    await expect(revocations.heard(['c'], 20)).resolves.toBe(true);
  });
});
