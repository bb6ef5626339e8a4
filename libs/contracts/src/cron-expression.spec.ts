import { cronExpressionProblem } from './cron-expression';

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
