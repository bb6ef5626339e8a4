import { Command, CommanderError, Option } from 'commander';
import { registerCommands } from './commands';
import { examples } from './commands/help';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, EXIT, EXIT_CODES_HELP, printJson } from './output';

function version(): string {
  return (
    JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }
  ).version;
}

/** `atrium`: Atrium from a terminal (DESIGN.md: the public REST API only, through the typed client). */
export function buildProgram(): Command {
  const program = new Command('atrium')
    .description('Atrium from a terminal: run Actors as real runs, self-hosted runners, sharing and teams')
    .version(version())
    .addOption(new Option('--json', "print JSON for scripts (errors: the API's error object)"))
    .addOption(new Option('--account <org>', 'act as an organization you belong to (its name or id)'))
    .addOption(
      new Option('--url <url>', 'the Atrium URL (default: the one you logged in to)').env('ATRIUM_URL'),
    )
    .addHelpText(
      'after',
      `\nEnvironment:\n  ATRIUM_URL, ATRIUM_TOKEN  act without \`atrium login\`\n  ATRIUM_CONFIG_DIR         where the login is kept (default ~/.config/atrium)\n${EXIT_CODES_HELP}\n`,
    )
    .showHelpAfterError('(add --help for usage and examples)')
    .exitOverride();
  registerCommands(program);
  return examples(
    program,
    'atrium login https://atrium.example.com',
    'atrium run alice~crawler -- node main.js',
    'atrium share dataset alice~results --with bob --permissions READ',
  );
}

function report(err: unknown, json: boolean): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  const failure = err instanceof CliError ? err : new CliError((err as Error).message ?? String(err));
  if (failure.reported) return failure.exitCode;
  if (json) printJson(failure.body ?? { error: { type: 'cli-error', message: failure.message } });
  else process.stderr.write(`atrium: ${failure.message}\n`);
  return failure.exitCode;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT.OK;
  } catch (err) {
    return report(err, argv.includes('--json'));
  }
}

/** The command line's entry (bin/atrium.js): runs it and exits with its code. */
export function run(): void {
  // A reader that stops early (`atrium --help | head`) closes the pipe: that ends the output, quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
