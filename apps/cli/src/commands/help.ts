import { Command, InvalidArgumentError } from 'commander';

/** Every command's `--help` ends with examples. */
export function examples(command: Command, ...lines: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`);
}

/** An option or argument that must be a whole number ≥ 0 (commander reports the bad value and exits 2). */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

/** A page size option: a whole number from 1 to 1000, as the API's list routes take. */
export function pageSize(value: string): number {
  const n = wholeNumber(value);
  if (n < 1 || n > 1000) throw new InvalidArgumentError('must be from 1 to 1000');
  return n;
}
