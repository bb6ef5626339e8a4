import { cronExpressionProblem, cronTimes, latestCronTime, nextCronTime } from './cron-expression';

describe('cronExpressionProblem', () => {
  it.each([
    '* * * * *',
    '0 8 * * MON-FRI',
    '*/15 0-6,22,23 1 jan,jul ?',
    '30 0 12 * * 7',
    '@daily',
    '@HOURLY',
    '0 0 1-31/2 * *',
  ])('accepts %s', (expression) => {
    expect(cronExpressionProblem(expression)).toBeNull();
  });

  it.each([
    ['', 'must have 5 fields'],
    ['* * * *', 'must have 5 fields'],
    ['60 * * * *', 'minute field "60"'],
    ['* 24 * * *', 'hour field "24"'],
    ['* * 0 * *', 'day of month field "0"'],
    ['* * * 13 *', 'month field "13"'],
    ['* * * * 8', 'day of week field "8"'],
    ['*/0 * * * *', 'minute field'],
    ['5-1 * * * *', 'minute field'],
    ['? * * * *', 'minute field'],
    ['* * * FOO *', 'month field'],
    ['@reboot', 'unknown macro'],
  ])('refuses %j', (expression, problem) => {
    expect(cronExpressionProblem(expression)).toContain(problem);
  });
});

describe('nextCronTime: what the validator accepts, cron-parser computes', () => {
  const after = new Date('2030-01-15T10:20:00.000Z');

  it.each([
    ['0 0 30 2 *', 'names no date'],
    ['0 0 31 4,6 ?', 'names no date'],
  ])('refuses %j, which never fires', (expression, problem) => {
    expect(cronExpressionProblem(expression)).toContain(problem);
  });

  it.each([
    // Overlapping items (cron-parser alone refuses duplicate values).
    ['*/15,0,30 * * * *', '2030-01-15T10:30:00.000Z'],
    ['0-30,20-40/5 * * * *', '2030-01-15T10:21:00.000Z'],
    // 7 and 0 are both Sunday (2030-01-20).
    ['0 12 * * 0,7', '2030-01-20T12:00:00.000Z'],
    ['0 12 * * SUN-MON', '2030-01-20T12:00:00.000Z'],
    ['0 0 1 jan,jul ?', '2030-07-01T00:00:00.000Z'],
    // `5/20` is 5, 25, 45.
    ['5/20 * * * *', '2030-01-15T10:25:00.000Z'],
    // Both day fields restricted: either matches (the 1st, or a Monday: 2030-01-21).
    ['0 0 1 * 1', '2030-01-21T00:00:00.000Z'],
    ['15 20 10 * * *', '2030-01-15T10:20:15.000Z'],
    ['@midnight', '2030-01-16T00:00:00.000Z'],
    ['@Monthly', '2030-02-01T00:00:00.000Z'],
  ])('%s fires next at %s', (expression, next) => {
    expect(cronExpressionProblem(expression)).toBeNull();
    expect(nextCronTime(expression, 'UTC', after)?.toISOString()).toBe(next);
  });

  it('walks the times in order, and finds the latest at or before a time', () => {
    const times = cronTimes('0 9 * * MON', 'Europe/Prague', after);
    expect([times.next().value, times.next().value].map((d) => d?.toISOString())).toEqual([
      '2030-01-21T08:00:00.000Z',
      '2030-01-28T08:00:00.000Z',
    ]);
    expect([...cronTimes('0 0 30 2 *', 'UTC', after)]).toEqual([]);
    expect(latestCronTime('*/10 * * * *', 'UTC', after)?.toISOString()).toBe('2030-01-15T10:20:00.000Z');
    expect(latestCronTime('*/10 * * * *', 'UTC', new Date('2030-01-15T10:29:59.999Z'))?.toISOString()).toBe(
      '2030-01-15T10:20:00.000Z',
    );
  });

  it('computes a next time for every expression the validator accepts (seeded random expressions)', () => {
    let seed = 20301;
    const random = (min: number, max: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return min + (seed % (max - min + 1));
    };
    const bounds: [number, number][] = [
      [0, 59],
      [0, 23],
      [1, 31],
      [1, 12],
      [0, 7],
    ];
    const item = ([min, max]: [number, number]) => {
      const from = random(min, max);
      const to = random(from, max);
      return [
        '*',
        `*/${random(1, max)}`,
        `${from}`,
        `${from}-${to}`,
        `${from}-${to}/${random(1, max)}`,
        `${from}/${random(1, max)}`,
      ][random(0, 5)];
    };
    let accepted = 0;
    for (let n = 0; n < 3000; n++) {
      const expression = bounds
        .map((b) => Array.from({ length: random(1, 3) }, () => item(b)).join(','))
        .join(' ');
      if (cronExpressionProblem(expression)) continue;
      accepted += 1;
      expect([expression, nextCronTime(expression, 'Europe/Prague', after)]).toEqual([
        expression,
        expect.any(Date),
      ]);
    }
    expect(accepted).toBeGreaterThan(2500);
  });
});
