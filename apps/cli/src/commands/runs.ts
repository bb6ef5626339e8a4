import { Command, Option } from 'commander';
import { pathSegment } from '@atrium/client';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { apiError, call, Cli, connect, qualify, unreachable } from '../api';
import { CliError, EXIT, printFields, printJson, printTable } from '../output';
import { readStdin } from '../prompt';
import { ClaimedRun, execute, Execution, RunOutcome } from '../runner/execute';
import { examples } from './help';

const LEASE_SECS_DEFAULT = 60;
/** How long one claim of `atrium worker` waits for a run (the API's long poll, at most 30 s). */
const WORKER_WAIT_SECS = 20;
/** After Atrium could not be reached, a worker asks again this much later. */
const WORKER_RETRY_MS = 2000;

interface RunOptions {
  input?: string;
  timeout?: number;
  memory?: number;
  leaseSecs: number;
  name?: string;
}

interface WorkerOptions {
  actor: string;
  concurrency: number;
  leaseSecs: number;
  name?: string;
}

const defaultWorkerName = () => `${hostname()}-${process.pid}`;

function integerOption(name: string, min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new CliError(`Option ${name}: must be a whole number from ${min} to ${max}`, EXIT.USAGE);
    return n;
  };
}

/** The exit code a finished run's status means (a command's own code is passed on by `execute`). */
function exitCodeOfRun(status: string): number {
  if (status === 'SUCCEEDED') return EXIT.OK;
  if (status === 'TIMED-OUT') return EXIT.TIMED_OUT;
  if (status === 'ABORTED') return EXIT.ABORTED;
  return EXIT.FAILED;
}

/** The run's input from `--input <file>` or `-` (stdin): JSON, or exit 2 with one line. */
async function readInput(path: string | undefined): Promise<unknown> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = path === '-' ? (await readStdin()).toString('utf8') : readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(
      `Option --input: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      EXIT.USAGE,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`Option --input: "${path}" is not valid JSON: ${(err as Error).message}`, EXIT.USAGE);
  }
}

/** An Actor (id, `username~name` or `username/name`), or else a task: what `atrium run` starts. */
async function resolveTarget(cli: Cli, ref: string): Promise<{ actorId: string; taskId?: string }> {
  const normalized = await qualify(cli, ref, 'Argument actor');
  const actor = await cli.api
    .GET('/v2/acts/{actorId}', { params: { path: { actorId: normalized } } })
    .catch((err: unknown) => {
      throw unreachable(cli.url, err);
    });
  if (actor.data) return { actorId: actor.data.data.id };
  if (actor.response.status !== 404) throw apiError(actor.response.status, actor.error);
  const task = await cli.api
    .GET('/v2/actor-tasks/{actorTaskId}', { params: { path: { actorTaskId: normalized } } })
    .catch((err: unknown) => {
      throw unreachable(cli.url, err);
    });
  if (task.data) return { actorId: task.data.data.actId, taskId: task.data.data.id };
  if (task.response.status !== 404) throw apiError(task.response.status, task.error);
  throw new CliError(`No Actor or task "${ref}" (or none you can see)`, EXIT.NOT_FOUND, {
    error: { type: 'record-not-found', message: `No Actor or task "${ref}" (or none you can see)` },
  });
}

/** Streams a run's log to stdout until the run finishes (the API's `stream=1`). */
async function followLog(cli: Cli, runId: string, follow: boolean): Promise<void> {
  let response: Response;
  try {
    const path = `/v2/actor-runs/${pathSegment('runId', runId)}/log${follow ? '?stream=1' : ''}`;
    response = await fetch(`${cli.url}${path}`, {
      headers: cli.token ? { authorization: `Bearer ${cli.token}` } : {},
    });
  } catch (err) {
    throw unreachable(cli.url, err);
  }
  if (!response.ok) throw apiError(response.status, await response.json().catch(() => undefined));
  if (!response.body) return;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
    process.stdout.write(chunk);
}

async function getRun(cli: Cli, runId: string) {
  return (await call(cli.api.GET('/v2/actor-runs/{runId}', { params: { path: { runId } } }), cli.url)).data;
}

/**
 * Ends the command with the run's outcome: a line on stderr, and with `--json` the run as Atrium
 * has it on stdout (the command's own output went to stderr); exit 0 on SUCCEEDED, else the
 * outcome's code.
 */
async function settle(cli: Cli, runId: string, outcome: RunOutcome): Promise<void> {
  process.stderr.write(`${outcome.message}\n`);
  if (cli.json) printJson(await getRun(cli, runId));
  if (outcome.exitCode !== EXIT.OK) throw new CliError(outcome.message, outcome.exitCode, undefined, true);
}

function describeStart(claimed: ClaimedRun): string {
  const { run, lease } = claimed;
  return `Run ${run.id} (attempt ${lease.attempt}) is executing here: ${run.consoleUrl}`;
}

async function runCommand(target: string, commandLine: string[], options: RunOptions, command: Command) {
  if (!commandLine.length)
    throw new CliError(
      'Give the command to execute after --, e.g. atrium run my-actor -- node main.js',
      EXIT.USAGE,
    );
  const cli = await connect(command);
  const input = await readInput(options.input);
  const { actorId, taskId } = await resolveTarget(cli, target);
  const query = { timeout: options.timeout, memory: options.memory };
  const started = taskId
    ? await call(
        cli.api.POST('/v2/actor-tasks/{actorTaskId}/runs', {
          params: { path: { actorTaskId: taskId }, query },
          body: input,
        }),
        cli.url,
      )
    : await call(
        cli.api.POST('/v2/acts/{actorId}/runs', { params: { path: { actorId }, query }, body: input }),
        cli.url,
      );
  const runId = started.data.id;
  const run = started.data;
  process.stderr.write(
    `Run ${runId} started: ${run.consoleUrl}\n` +
      `  dataset ${run.defaultDatasetId}, key-value store ${run.defaultKeyValueStoreId}, request queue ${run.defaultRequestQueueId}\n`,
  );
  const claimed = (
    await call(
      cli.api.POST('/v2/actor-runs/claim', {
        body: { runId, worker: options.name ?? defaultWorkerName(), leaseSecs: options.leaseSecs },
      }),
      cli.url,
    )
  ).data;
  if (!claimed) {
    // A worker of the Actor took it first: show what it does instead.
    process.stderr.write(`Run ${runId} was taken by another worker: following its log\n`);
    await followLog(cli, runId, true);
    const run = await getRun(cli, runId);
    return settle(cli, runId, {
      status: run.status,
      exitCode: exitCodeOfRun(run.status),
      message: `Run ${runId} ${run.status}${run.statusMessage ? `: ${run.statusMessage}` : ''}`,
    });
  }
  // With --json, stdout carries only the run: the command's output goes to stderr.
  const output = cli.json ? { stdout: process.stderr, stderr: process.stderr } : process;
  const execution = execute(cli, claimed, commandLine, options.leaseSecs, output);
  const onInterrupt = () => execution.abort('Aborted with Ctrl+C on the runner');
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  try {
    await settle(cli, runId, await execution.done);
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}

/**
 * Claims runs of the given Actors (long polls) and executes up to `concurrency` at once, as
 * `atrium run` does. Ctrl+C (or SIGTERM) once: no more claims, the running runs finish; a second
 * Ctrl+C aborts them (each ends ABORTED) and the worker exits 130.
 */
async function workerCommand(commandLine: string[], options: WorkerOptions, command: Command) {
  if (!commandLine.length)
    throw new CliError(
      'Give the command to execute after --, e.g. atrium worker --actor my-actor -- node main.js',
      EXIT.USAGE,
    );
  const refs = options.actor
    .split(',')
    .map((ref) => ref.trim())
    .filter(Boolean);
  if (!refs.length || refs.length > 50)
    throw new CliError('Option --actor: give 1 to 50 Actors, separated by commas', EXIT.USAGE);
  const cli = await connect(command);
  const actorIds = await Promise.all(refs.map((ref) => qualify(cli, ref, 'Option --actor')));
  const name = options.name ?? defaultWorkerName();
  const active = new Set<Execution>();
  let draining = false;
  let aborted = false;
  let polling: AbortController | undefined;
  const onInterrupt = () => {
    if (!draining) {
      draining = true;
      polling?.abort();
      process.stderr.write(
        `Worker ${name} stops claiming; ${active.size} running run(s) finish (Ctrl+C again aborts them)\n`,
      );
      return;
    }
    aborted = true;
    for (const execution of active) execution.abort('Aborted: its worker was interrupted (Ctrl+C)');
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  process.stderr.write(`Worker ${name} is waiting for runs of ${actorIds.join(', ')}\n`);
  try {
    while (!draining) {
      if (active.size >= options.concurrency) {
        await Promise.race([...active].map((e) => e.done.catch(() => undefined)));
        continue;
      }
      polling = new AbortController();
      let claimed: ClaimedRun | null;
      try {
        claimed = (
          await call(
            cli.api.POST('/v2/actor-runs/claim', {
              body: { actorIds, worker: name, leaseSecs: options.leaseSecs, waitSecs: WORKER_WAIT_SECS },
              signal: polling.signal,
            }),
            cli.url,
          )
        ).data;
      } catch (err) {
        if (draining) break;
        if (!(err instanceof CliError) || err.exitCode !== EXIT.UNAVAILABLE) throw err;
        process.stderr.write(`atrium: ${err.message} (trying again)\n`);
        await new Promise((resolve) => setTimeout(resolve, WORKER_RETRY_MS));
        continue;
      }
      if (!claimed) continue;
      process.stderr.write(`${describeStart(claimed)}\n`);
      const execution = execute(cli, claimed, commandLine, options.leaseSecs);
      active.add(execution);
      void execution.done
        .then(
          (outcome) => process.stderr.write(`${outcome.message}\n`),
          (err: Error) => process.stderr.write(`atrium: run ${claimed.run.id}: ${err.message}\n`),
        )
        .finally(() => active.delete(execution));
    }
    await Promise.allSettled([...active].map((e) => e.done));
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
  if (aborted) throw new CliError(`Worker ${name} was interrupted: its runs were aborted`, EXIT.ABORTED);
  process.stderr.write(`Worker ${name} stopped\n`);
}

async function listRuns(options: { actor?: string; limit: number }, command: Command) {
  const cli = await connect(command);
  const query = { desc: '1' as const, limit: options.limit };
  const page = options.actor
    ? await call(
        cli.api.GET('/v2/acts/{actorId}/runs', {
          params: { path: { actorId: await qualify(cli, options.actor, 'Option --actor') }, query },
        }),
        cli.url,
      )
    : await call(cli.api.GET('/v2/actor-runs', { params: { query } }), cli.url);
  if (cli.json) return printJson(page.data);
  printTable(page.data.items, [
    ['ID', (r) => r.id],
    ['ACTOR', (r) => r.actId],
    ['STATUS', (r) => r.status],
    ['STARTED', (r) => r.startedAt],
    ['FINISHED', (r) => r.finishedAt],
  ]);
}

async function showRun(runId: string, _options: unknown, command: Command) {
  const cli = await connect(command);
  const run = await getRun(cli, runId);
  if (cli.json) return printJson(run);
  printFields([
    ['Run', run.id],
    ['Actor', run.actId],
    ['Task', run.actorTaskId],
    ['Status', run.status],
    ['Message', run.statusMessage],
    ['Started', run.startedAt],
    ['Finished', run.finishedAt],
    ['Dataset', run.defaultDatasetId],
    ['Key-value store', run.defaultKeyValueStoreId],
    ['Request queue', run.defaultRequestQueueId],
    ['Console', (run as { consoleUrl?: string }).consoleUrl],
  ]);
}

async function showLog(runId: string, options: { follow?: boolean }, command: Command) {
  await followLog(await connect(command), runId, !!options.follow);
}

async function abortRun(runId: string, _options: unknown, command: Command) {
  const cli = await connect(command);
  const run = (
    await call(cli.api.POST('/v2/actor-runs/{runId}/abort', { params: { path: { runId } } }), cli.url)
  ).data;
  if (cli.json) return printJson(run);
  process.stdout.write(`Run ${run.id} ${run.status}\n`);
}

const leaseOption = () =>
  new Option(
    '--lease-secs <s>',
    'lease length: renewed every third of it (at least every 5 s); a lost worker is noticed after it',
  )
    .argParser(integerOption('--lease-secs', 10, 600))
    .default(LEASE_SECS_DEFAULT);

export function registerRunCommands(program: Command): void {
  examples(
    program
      .command('run')
      .description(
        "start a run of an Actor (or task) and execute it here: the command gets the run's platform environment (its token, storages, input), its output goes to the run's log",
      )
      .argument('<actor>', 'the Actor (id, name, username~name or username/name) or else a task')
      .argument('<command...>', 'what executes the run, after --')
      .option('--input <file>', 'the run input: a JSON file, or - for stdin')
      .addOption(
        new Option('--timeout <s>', 'the run times out after this many seconds').argParser(
          integerOption('--timeout', 0, 604800),
        ),
      )
      .addOption(
        new Option('--memory <mb>', 'the memory the run declares (ACTOR_MEMORY_MBYTES)').argParser(
          integerOption('--memory', 128, 65536),
        ),
      )
      .addOption(leaseOption())
      .option('--name <name>', "the worker name shown in the run's log (default: host-pid)")
      .addHelpText(
        'after',
        '\nThe run ends SUCCEEDED when the command exits 0, else FAILED (exit code passed on); TIMED-OUT after\n--timeout (exit 124); ABORTED on Ctrl+C or an abort through the API (exit 130).\n',
      )
      .action((target: string, commandLine: string[], options: RunOptions, command: Command) =>
        runCommand(target, commandLine, options, command),
      ),
    'atrium run alice/crawler --input input.json -- node main.js',
    'echo \'{"startUrl":"https://example.com"}\' | atrium run alice~crawler --input - --timeout 600 -- npm start',
  );
  examples(
    program
      .command('worker')
      .description(
        'execute runs of Actors as they are started (by the API, apify-client, schedules): a self-hosted runner',
      )
      .argument('<command...>', 'what executes each run, after --')
      .requiredOption(
        '--actor <actors>',
        'the Actors whose runs to execute: ids or username~name, comma-separated',
      )
      .addOption(
        new Option('--concurrency <n>', 'runs executed at once')
          .argParser(integerOption('--concurrency', 1, 64))
          .default(1),
      )
      .addOption(leaseOption())
      .option('--name <name>', "the worker name shown in runs' logs (default: host-pid)")
      .addHelpText(
        'after',
        "\nCtrl+C once: no new runs are claimed and the running ones finish; twice: they are aborted.\nWith WRITE on an Actor the worker executes anyone's runs of it; with RUN only, your own.\n",
      )
      .action((commandLine: string[], options: WorkerOptions, command: Command) =>
        workerCommand(commandLine, options, command),
      ),
    'atrium worker --actor alice/crawler -- node main.js',
    'atrium worker --actor alice~a,alice~b --concurrency 4 -- npm start',
  );
  const runs = program.command('runs').description('list, inspect, follow and abort runs');
  examples(
    runs
      .command('ls')
      .description('your runs, newest first')
      .option('--actor <actor>', 'only runs of this Actor')
      .addOption(
        new Option('--limit <n>', 'how many').argParser(integerOption('--limit', 1, 1000)).default(20),
      )
      .action(listRuns),
    'atrium runs ls --actor alice/crawler --limit 5',
  );
  examples(
    runs.command('get').description('one run').argument('<runId>').action(showRun),
    'atrium runs get <runId> --json',
  );
  examples(
    runs
      .command('log')
      .description("a run's log")
      .argument('<runId>')
      .option('-f, --follow', 'follow it until the run finishes')
      .action(showLog),
    'atrium runs log <runId> --follow',
  );
  examples(
    runs.command('abort').description('abort a run').argument('<runId>').action(abortRun),
    'atrium runs abort <runId>',
  );
}
