import { RunLogs } from './run-logs';

describe('run logs', () => {
  it('strips ANSI escape codes as Apify does without raw, keeping the text', () => {
    const logs = new RunLogs({} as never);
    expect(logs.clean('\x1b[32mINFO\x1b[39m  crawled \x1b[1m3\x1b[0m pages\n')).toBe(
      'INFO  crawled 3 pages\n',
    );
    expect(logs.clean('plain line\n')).toBe('plain line\n');
  });
});
