import { Command } from 'commander';
import { buildProgram } from './main';

/** Every command and subcommand, the program first. */
function walk(command: Command): Command[] {
  return [command, ...command.commands.flatMap(walk)];
}

/** What `--help` prints, with the text added after it. */
function helpOf(command: Command): string {
  let out = '';
  command.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  command.outputHelp();
  return out;
}

describe('atrium --help', () => {
  it('every command and subcommand’s help ends with examples (as the README says)', () => {
    const commands = walk(buildProgram());
    expect(commands.length).toBeGreaterThan(40);
    const path = (c: Command): string => (c.parent ? `${path(c.parent)} ${c.name()}` : c.name());
    const endsWithExamples = /\nExamples:\n( {2}\$ [^\n]*atrium [^\n]*\n)+\s*$/;
    const without = commands.filter((c) => !endsWithExamples.test(helpOf(c))).map(path);
    expect(without).toEqual([]);
  });
});
