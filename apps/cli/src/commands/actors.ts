import { Command } from 'commander';
import { call, connect } from '../api';
import { printFields, printJson, printTable } from '../output';
import { examples, wholeNumber } from './help';

interface ListOptions {
  ownership?: 'ownedByMe' | 'sharedWithMe';
  limit: number;
}

async function list(options: ListOptions, command: Command) {
  const cli = await connect(command);
  const page = (
    await call(
      cli.api.GET('/v2/acts', {
        params: { query: { ownership: options.ownership, limit: options.limit } },
      }),
      cli.url,
    )
  ).data;
  if (cli.json) return printJson(page);
  printTable(page.items, [
    ['ID', (a) => a.id],
    ['NAME', (a) => `${a.username}~${a.name}`],
    ['TITLE', (a) => a.title],
    ['CREATED', (a) => a.createdAt],
  ]);
}

async function create(name: string, options: { title?: string; description?: string }, command: Command) {
  const cli = await connect(command);
  const actor = (
    await call(
      cli.api.POST('/v2/acts', { body: { name, title: options.title, description: options.description } }),
      cli.url,
    )
  ).data;
  if (cli.json) return printJson(actor);
  process.stdout.write(`Created Actor ${actor.username}~${actor.name} (${actor.id})\n`);
}

async function get(actorRef: string, _options: unknown, command: Command) {
  const cli = await connect(command);
  const actor = (
    await call(cli.api.GET('/v2/acts/{actorId}', { params: { path: { actorId: actorRef } } }), cli.url)
  ).data;
  if (cli.json) return printJson(actor);
  printFields([
    ['ID', actor.id],
    ['Name', `${actor.username}~${actor.name}`],
    ['Title', actor.title],
    ['Public', actor.isPublic],
    ['Created', actor.createdAt],
  ]);
}

/** `atrium actors ls|create|get`: the Actors `atrium run` and `atrium worker` execute. */
export function registerActorCommands(program: Command): void {
  const actors = examples(
    program.command('actors').description('list, create and show Actors'),
    'atrium actors ls',
    'atrium actors create my-crawler',
  );
  examples(
    actors
      .command('ls')
      .description('the Actors you own and those shared with you')
      .option('--ownership <which>', 'ownedByMe or sharedWithMe')
      .option('--limit <n>', 'at most this many', wholeNumber, 1000)
      .action(list),
    'atrium actors ls',
    'atrium actors ls --ownership sharedWithMe --json',
  );
  examples(
    actors
      .command('create')
      .description('create an Actor (its code runs wherever you run `atrium run` or `atrium worker`)')
      .argument('<name>', 'its name, unique among your Actors: letters, digits and dashes')
      .option('--title <title>', 'a title for people')
      .option('--description <text>', 'what it does')
      .action(create),
    'atrium actors create my-crawler --title "My crawler"',
  );
  examples(
    actors
      .command('get')
      .description('show an Actor')
      .argument('<actor>', 'its id or username~name')
      .action(get),
    'atrium actors get alice~my-crawler',
  );
}
