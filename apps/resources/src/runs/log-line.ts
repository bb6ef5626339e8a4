/**
 * Appends a line of the platform's own (status changes, workers) to a run's or build's log: with
 * its time, as Apify writes them, and on a line of its own even when the process's last output did
 * not end its line.
 */
export function withLogLine(log: string, message: string): string {
  return `${log}${log && !log.endsWith('\n') ? '\n' : ''}${new Date().toISOString()} ${message}\n`;
}
