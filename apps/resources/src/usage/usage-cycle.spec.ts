import { forEachDay, usageCycle } from './usage.service';

describe('usage cycles and daily spans', () => {
  it('takes the calendar month in UTC holding the date, leap years included', () => {
    expect(usageCycle(new Date('2024-02-10T23:30:00Z'))).toEqual({
      start: new Date('2024-02-01T00:00:00.000Z'),
      end: new Date('2024-02-29T23:59:59.999Z'),
    });
    expect(usageCycle(new Date('2026-12-31T23:59:59.999Z'))).toEqual({
      start: new Date('2026-12-01T00:00:00.000Z'),
      end: new Date('2026-12-31T23:59:59.999Z'),
    });
  });

  it('splits a span at UTC midnights, each day with its milliseconds', () => {
    const days: [string, number][] = [];
    forEachDay(new Date('2026-12-01T22:00:00Z'), new Date('2026-12-03T01:00:00Z'), (day, ms) =>
      days.push([day, ms]),
    );
    const hour = 3_600_000;
    expect(days).toEqual([
      ['2026-12-01', 2 * hour],
      ['2026-12-02', 24 * hour],
      ['2026-12-03', 1 * hour],
    ]);
    const none: string[] = [];
    forEachDay(new Date('2026-12-02T00:00:00Z'), new Date('2026-12-02T00:00:00Z'), (day) => none.push(day));
    expect(none).toEqual([]);
  });
});
