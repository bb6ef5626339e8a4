import { Logger } from '@nestjs/common';
import { withoutIdempotency } from './idempotency';

/**
 * Runs a piece of work at once when kicked and every `intervalMs` while started, never twice at
 * the same time: a kick while it runs runs it once more after. A failure is logged and left to
 * the next round. The outbox relay and the webhook dispatcher drain their tables with it.
 */
export class PollingWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    /** Said in the warning when a round fails, e.g. "Outbox relay will retry". */
    private readonly onFailure: string,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // A kick from a request's handler must not make the round part of that request.
    this.running = withoutIdempotency(() => this.work())
      .catch((err) => this.logger.warn(`${this.onFailure}: ${(err as Error).message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once no round is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.idle();
  }
}
