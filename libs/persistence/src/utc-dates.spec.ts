import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

describe('dates sent to PostgreSQL', () => {
  it('are written in UTC whatever the process time zone (old local-mean-time offsets lost seconds)', () => {
    // In a process of its own: the time zone is read when the process starts.
    const root = join(__dirname, '..', '..', '..');
    const written = execFileSync(
      process.execPath,
      [
        '-r',
        './tools/register.js',
        '-e',
        `require('./libs/persistence/src/service-data-source');
         const { prepareValue } = require('pg/lib/utils');
         console.log(JSON.stringify([new Date(0).getTimezoneOffset(),
           prepareValue(new Date('0001-01-01T00:00:00Z')), prepareValue(new Date('2026-07-01T12:30:00.250Z'))]));`,
      ],
      { cwd: root, env: { ...process.env, TZ: 'America/New_York' }, encoding: 'utf8' },
    );
    const [offset, ancient, recent] = JSON.parse(written.trim().split('\n').pop()!) as [
      number,
      string,
      string,
    ];
    expect(offset).toBe(300);
    expect(ancient).toBe('0001-01-01T00:00:00.000+00:00');
    expect(recent).toBe('2026-07-01T12:30:00.250+00:00');
  }, 30_000);
});
