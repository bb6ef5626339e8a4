import { ChildProcess, spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { Cli, call } from '../api';
import { CliError, EXIT } from '../output';

/** What a claim answers (the parts a runner uses). */
export interface ClaimedRun {
  run: {
    id: string;
    actId: string;
    userId: string;
    actorTaskId: string | null;
    defaultDatasetId: string;
    defaultKeyValueStoreId: string;
    defaultRequestQueueId: string;
    options: { timeoutSecs: number; memoryMbytes: number };
    consoleUrl: string;
  };
  runToken: string;
  lease: { id: string; expiresAt: string; attempt: number };
}
type FinalStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED-OUT' | 'ABORTED';

export interface Execution {
  /** Resolves when the run's process has ended and the run was finished (or its lease lost). */
  done: Promise<RunOutcome>;
  /** Stops the process and finishes the run ABORTED (Ctrl+C). */
  abort(reason: string): void;
}

export interface RunOutcome {
  /** The run's final status as Atrium answered it; null when the lease was lost (it may run elsewhere). */
  status: string | null;
  /** What the CLI exits with for this run. */
  exitCode: number;
  message: string;
}

/** Output is sent to the run's log this often, in order, one request at a time. */
const LOG_FLUSH_MS = 250;
const LOG_SEND_TIMEOUT_MS = 10_000;
/** Renewals come at least this often: they also tell the runner of an abort through the API. */
const RENEW_AT_MOST_MS = 5000;
/** A lease not renewed is given up this long before Atrium may give the run to another worker. */
const LEASE_MARGIN_MS = 1000;
/** A stopped process gets this long to end after SIGTERM, then its group is killed. */
const KILL_GRACE_MS = Number(process.env.ATRIUM_KILL_GRACE_MS) || 5000;

/**
 * The watchdog (`node -e`): kills the run's process group when its stdin closes, which happens
 * when the worker exits however it exits (a SIGKILL too): no orphan keeps executing a run that
 * another worker retries. Detached and deaf to SIGINT, so that Ctrl+C reaches it only as the
 * worker's end.
 */
const WATCHDOG = `
const pgid = Number(process.argv[1]);
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.stdin.on('data', () => {});
process.stdin.on('close', () => {
  try { process.kill(-pgid, 'SIGKILL'); } catch {}
  process.exit(0);
});
`;

/**
 * The environment the Apify SDK reads on the platform (as apps/atrium/test/apify-sdk-crawlee
 * runs it), with the lease's run token: the run acts as the user who started it, never with the
 * CLI's own token (ATRIUM_TOKEN is not passed on).
 */
export function platformEnv(cli: Cli, claimed: ClaimedRun, startedAt: Date): NodeJS.ProcessEnv {
  const { run, runToken } = claimed;
  // Nothing of the CLI's own (its token, its URL, where its login is kept) reaches the run.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('ATRIUM_')),
  );
  const timeoutAt = run.options.timeoutSecs
    ? new Date(startedAt.getTime() + run.options.timeoutSecs * 1000).toISOString()
    : '';
  const values = {
    RUN_ID: run.id,
    ID: run.actId,
    TASK_ID: run.actorTaskId ?? '',
    DEFAULT_DATASET_ID: run.defaultDatasetId,
    DEFAULT_KEY_VALUE_STORE_ID: run.defaultKeyValueStoreId,
    DEFAULT_REQUEST_QUEUE_ID: run.defaultRequestQueueId,
    INPUT_KEY: 'INPUT',
    MEMORY_MBYTES: String(run.options.memoryMbytes),
    STARTED_AT: startedAt.toISOString(),
    TIMEOUT_AT: timeoutAt,
  };
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    APIFY_TOKEN: runToken,
    APIFY_API_BASE_URL: cli.url,
    APIFY_API_PUBLIC_BASE_URL: cli.url,
    APIFY_IS_AT_HOME: '1',
    APIFY_USER_ID: run.userId,
  };
  for (const [name, value] of Object.entries(values)) {
    env[`ACTOR_${name}`] = value;
    // The names the SDK still reads as fallbacks (APIFY_ACT_* from before the ACTOR_* rename).
    env[`APIFY_ACTOR_${name}`] = value;
  }
  Object.assign(env, {
    APIFY_ACT_RUN_ID: run.id,
    APIFY_ACT_ID: run.actId,
    APIFY_ACTOR_TASK_ID: values.TASK_ID,
    APIFY_DEFAULT_DATASET_ID: values.DEFAULT_DATASET_ID,
    APIFY_DEFAULT_KEY_VALUE_STORE_ID: values.DEFAULT_KEY_VALUE_STORE_ID,
    APIFY_DEFAULT_REQUEST_QUEUE_ID: values.DEFAULT_REQUEST_QUEUE_ID,
    APIFY_INPUT_KEY: values.INPUT_KEY,
    APIFY_MEMORY_MBYTES: values.MEMORY_MBYTES,
    APIFY_STARTED_AT: values.STARTED_AT,
    APIFY_TIMEOUT_AT: values.TIMEOUT_AT,
  });
  return env;
}

/**
 * Sends the run's output to its log: batched, in the order it came, with the lease's run token.
 * Each line starts with the time it was written, as Apify's platform logs it (apify-client's
 * streamed log — `call()` redirects it — splits the log on those times and drops what has none).
 */
class LogShipper {
  private pending = '';
  private atLineStart = true;
  private sending: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly runId: string,
    private readonly runToken: string,
  ) {
    this.timer = setInterval(() => this.flush(), LOG_FLUSH_MS);
  }

  write(text: string): void {
    if (this.closed || !text) return;
    const stamp = `${new Date().toISOString()} `;
    const stamped = text.replace(/\n(?=.)/gs, `\n${stamp}`);
    this.pending += (this.atLineStart ? stamp : '') + stamped;
    this.atLineStart = text.endsWith('\n');
  }

  private flush(): Promise<void> {
    if (!this.pending || this.closed) return this.sending;
    const text = this.pending;
    this.pending = '';
    this.sending = this.sending.then(() => this.send(text));
    return this.sending;
  }

  private async send(text: string): Promise<void> {
    if (this.closed) return;
    // The API takes at most 1 MiB a request: a burst is sent in parts.
    for (let start = 0; start < text.length; start += 256 * 1024) {
      const part = text.slice(start, start + 256 * 1024);
      const response = await fetch(`${this.url}/v2/actor-runs/${this.runId}/log`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.runToken}`, 'content-type': 'text/plain; charset=utf-8' },
        body: part,
        // A log part that cannot be delivered in time is dropped, never waited for forever.
        signal: AbortSignal.timeout(LOG_SEND_TIMEOUT_MS),
      }).catch(() => undefined);
      // The run finished or the lease (its token) was lost: nothing more goes to this log.
      if (response && (response.status === 401 || response.status === 403 || response.status === 409))
        this.closed = true;
      if (this.closed) return;
    }
  }

  /** Sends what is left and stops. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Executes a claimed run: the command in its own process group (with the watchdog), its output
 * to the terminal and the run's log, the lease renewed every third of its length; the run
 * finished by the outcome — exit code, timeout, Ctrl+C, or an abort through the API (which the
 * renewal answers). If the lease cannot be renewed before it runs out, the process is killed: the
 * run may be executed by another worker now. `atrium run` and `atrium worker` both execute so.
 */
export function execute(
  cli: Cli,
  claimed: ClaimedRun,
  command: string[],
  leaseSecs: number,
  output: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): Execution {
  const { run } = claimed;
  const startedAt = new Date();
  const child = spawn(command[0], command.slice(1), {
    env: platformEnv(cli, claimed, startedAt),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const watchdog =
    child.pid === undefined
      ? undefined
      : spawn(process.execPath, ['-e', WATCHDOG, String(child.pid)], {
          stdio: ['pipe', 'ignore', 'ignore'],
          detached: true,
        });
  watchdog?.unref();
  const log = new LogShipper(cli.url, run.id, claimed.runToken);
  for (const [stream, terminal] of [
    [child.stdout, output.stdout],
    [child.stderr, output.stderr],
  ] as const) {
    const decoder = new StringDecoder('utf8');
    stream.on('data', (chunk: Buffer) => {
      terminal.write(chunk);
      log.write(decoder.write(chunk));
    });
  }

  // Why the process was stopped, when Atrium or the user stopped it.
  let stopped: { status: FinalStatus | 'LEASE-LOST'; message: string } | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: NonNullable<typeof stopped>) => {
    if (stopped) return;
    stopped = why;
    killGroup(child, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), KILL_GRACE_MS);
  };

  const timeoutSecs = run.options.timeoutSecs;
  const timeout = timeoutSecs
    ? setTimeout(
        () => stop({ status: 'TIMED-OUT', message: `Timed out after ${timeoutSecs} s` }),
        timeoutSecs * 1000,
      )
    : undefined;

  // The lease runs out here before it does on the server: counted from when each renewal was sent.
  const leaseLost = () => stop({ status: 'LEASE-LOST', message: 'The lease could not be renewed in time' });
  let leaseTimer = setTimeout(leaseLost, leaseSecs * 1000 - LEASE_MARGIN_MS);
  const renewEveryMs = Math.floor(Math.min((leaseSecs * 1000) / 3, RENEW_AT_MOST_MS));
  const renewal = setInterval(() => {
    const sentAt = Date.now();
    void cli.api
      .POST('/v2/actor-runs/{runId}/lease', {
        params: { path: { runId: run.id } },
        body: { leaseId: claimed.lease.id, leaseSecs },
        signal: AbortSignal.timeout(renewEveryMs),
      })
      .then(({ data, response }) => {
        if (data) {
          clearTimeout(leaseTimer);
          leaseTimer = setTimeout(leaseLost, sentAt + leaseSecs * 1000 - LEASE_MARGIN_MS - Date.now());
          if (data.data.status !== 'RUNNING')
            stop({ status: 'ABORTED', message: `The run was ${data.data.status} through the API` });
        } else if (response.status === 409 || response.status === 404) {
          stop({ status: 'LEASE-LOST', message: 'The lease on the run was lost' });
        }
      })
      // Atrium unreachable for now: the next renewal tries again, until the lease runs out.
      .catch(() => undefined);
  }, renewEveryMs);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      output.stderr.write(`atrium: cannot execute "${command[0]}": ${err.message}\n`);
      log.write(`Cannot execute "${command[0]}": ${err.message}\n`);
      resolve({ code: 127, signal: null });
    });
    // 'close': the process ended and its output was read to the end.
    child.on('close', (code, signal) => resolve({ code, signal }));
  });

  const done = exited.then(async ({ code, signal }) => {
    clearInterval(renewal);
    clearTimeout(leaseTimer);
    if (timeout) clearTimeout(timeout);
    if (killTimer) clearTimeout(killTimer);
    // Whatever the command left behind in its group goes with it.
    killGroup(child, 'SIGKILL');
    watchdog?.stdin?.end();
    await log.close();
    const why = stopped as typeof stopped;
    if (why?.status === 'LEASE-LOST')
      return { status: null, exitCode: EXIT.FAILED, message: `${why.message}: the process was stopped` };
    let status: FinalStatus = code === 0 ? 'SUCCEEDED' : 'FAILED';
    let statusMessage = code === 0 ? undefined : signal ? `Killed by ${signal}` : `Exited with code ${code}`;
    if (why) [status, statusMessage] = [why.status, why.message];
    const finished = await call(
      cli.api.POST('/v2/actor-runs/{runId}/finish', {
        params: { path: { runId: run.id } },
        body: {
          leaseId: claimed.lease.id,
          status,
          ...(statusMessage ? { statusMessage } : {}),
          ...(code !== null ? { exitCode: code } : {}),
        },
      }),
      cli.url,
    ).catch((err: CliError) => {
      if (err.exitCode === EXIT.FAILED) return null; // 409: the lease was lost meanwhile
      throw err;
    });
    const final = finished?.data.status ?? null;
    const exitCode =
      final === 'SUCCEEDED'
        ? EXIT.OK
        : final === 'TIMED-OUT'
          ? EXIT.TIMED_OUT
          : final === 'ABORTED'
            ? EXIT.ABORTED
            : code || EXIT.FAILED;
    const message = final
      ? `Run ${run.id} ${final}${finished?.data.statusMessage ? `: ${finished.data.statusMessage}` : ''}`
      : `Run ${run.id}: the lease was lost before it finished`;
    return { status: final, exitCode, message };
  });

  return {
    done,
    abort: (reason) => stop({ status: 'ABORTED', message: reason }),
  };
}
