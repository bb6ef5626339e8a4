import { RunLogs } from './run-logs';

describe('run logs', () => {
  it('strips ANSI escape codes as Apify does without raw, keeping the text', () => {
    const logs = new RunLogs({} as never);
    expect(logs.clean('\x1b[32mINFO\x1b[39m  crawled \x1b[1m3\x1b[0m pages\n')).toBe(
      'INFO  crawled 3 pages\n',
    );
    expect(logs.clean('plain line\n')).toBe('plain line\n');
  });

  it('strips whole OSC sequences (title, clipboard) and other control characters, keeping tabs and newlines', () => {
    const logs = new RunLogs({} as never);
    expect(logs.clean('\x1b[31mred\x1b[0m \x1b]0;title\x07\tok\r\n')).toBe('red \tok\n');
    expect(logs.clean('a\x1b]52;c;ZWNobw==\x1b\\b\x07\x08\x1bc!\n')).toBe('ab!\n');
  });
});
