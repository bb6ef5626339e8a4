import { EventEnvelope } from '@atrium/contracts';
import { PoisonMessageError } from './event-bus';
import { InProcessEventBus } from './in-process.event-bus';

const envelope = (name: string): EventEnvelope => ({
  id: '00000000-0000-4000-8000-000000000001',
  name,
  occurredAt: new Date().toISOString(),
  payload: { n: 1 },
});

describe('InProcessEventBus', () => {
  it('delivers to every subscriber of the name, a copy each, and resolves after they handled it', async () => {
    const bus = new InProcessEventBus();
    const seen: string[] = [];
    await bus.subscribe('a', ['x.happened'], async (e) => {
      (e.payload as { n: number }).n = 99;
      seen.push(`a:${e.name}`);
    });
    await bus.subscribe('b', ['x.happened'], async (e) => {
      seen.push(`b:${(e.payload as { n: number }).n}`);
    });
    await bus.subscribe('c', ['y.happened'], async () => {
      seen.push('c');
    });
    await bus.publish(envelope('x.happened'));
    expect(seen.sort()).toEqual(['a:x.happened', 'b:1']);
  });

  it('retries a failing handler, then dead-letters it without blocking others', async () => {
    const bus = new InProcessEventBus();
    let attempts = 0;
    await bus.subscribe('flaky', ['x'], async () => {
      attempts++;
      if (attempts < 3) throw new Error('transient');
    });
    await bus.subscribe('poisoned', ['x'], async () => {
      throw new PoisonMessageError('never');
    });
    await bus.publish(envelope('x'));
    expect(attempts).toBe(3);
    expect(bus.deadLetters.map((d) => d.consumer)).toEqual(['poisoned']);
  });

  it('waits out a database outage without spending the retries, then dead-letters only real failures', async () => {
    jest.useFakeTimers();
    try {
      const bus = new InProcessEventBus();
      let outageAttempts = 0;
      let failingAttempts = 0;
      // Seven connection losses (more than MAX_EVENT_RETRIES), then the database is back.
      await bus.subscribe('through-outage', ['x'], async () => {
        if (++outageAttempts <= 7) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      });
      await bus.subscribe('broken', ['x'], async () => {
        failingAttempts++;
        throw new Error('a bug');
      });
      const published = bus.publish(envelope('x'));
      await jest.advanceTimersByTimeAsync(60_000);
      await published;
      expect(outageAttempts).toBe(8);
      expect(failingAttempts).toBe(6); // the first try and MAX_EVENT_RETRIES (5) retries
      expect(bus.deadLetters.map((d) => d.consumer)).toEqual(['broken']);
    } finally {
      jest.useRealTimers();
    }
  });
});
