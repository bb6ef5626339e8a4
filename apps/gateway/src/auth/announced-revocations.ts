/** How long an ending through this replica waits for its announcement before it answers anyway. */
export const ANNOUNCEMENT_WAIT_MS = 3000;
/**
 * Waited after the announcement reached this replica: the broker hands it to every replica's queue
 * at once, but each takes it off its own connection a little apart (measured: up to a few ms on one
 * machine); this covers that skew and an event loop's lag behind, as the 22 ms settle of a change of
 * access does.
 */
export const ANNOUNCEMENT_MARGIN_MS = 25;
/** How long an announcement is remembered (it may arrive before the call that made it answers). */
const REMEMBERED_MS = 60_000;

/**
 * The revocations (of API tokens, of sessions) this replica has received by broadcast. A call that
 * ends a credential waits, before it answers, until the broadcast announcing it has reached this
 * replica: every replica's queue got it at the same moment, so when the caller is told "revoked",
 * no replica still holds the credential unread in its queue — the other replicas refuse it from
 * the next request, not some milliseconds later (found by the outside attack review: a revoked
 * token minted a new one on the other replica in that window).
 */
export class AnnouncedRevocations {
  private readonly seen = new Map<string, number>();
  private readonly waiting = new Map<string, Set<() => void>>();

  /** The broadcast announced these ids. */
  announced(ids: readonly string[]): void {
    const now = Date.now();
    for (const id of ids) {
      this.seen.set(id, now);
      this.waiting.get(id)?.forEach((resolve) => resolve());
      this.waiting.delete(id);
    }
    for (const [id, at] of this.seen) {
      if (now - at <= REMEMBERED_MS) break; // in insertion order: the rest are newer
      this.seen.delete(id);
    }
  }

  /**
   * Resolves once every id was announced and ANNOUNCEMENT_MARGIN_MS more have passed, or after
   * `timeoutMs`: whether all were announced.
   */
  async heard(ids: readonly string[], timeoutMs = ANNOUNCEMENT_WAIT_MS): Promise<boolean> {
    const all = await this.announcedAll(ids, timeoutMs);
    if (all) await new Promise((resolve) => setTimeout(resolve, ANNOUNCEMENT_MARGIN_MS));
    return all;
  }

  private async announcedAll(ids: readonly string[], timeoutMs: number): Promise<boolean> {
    const pending = ids.filter((id) => !this.seen.has(id));
    if (!pending.length) return true;
    let timer: NodeJS.Timeout | undefined;
    const resolvers: [string, () => void][] = [];
    const all = Promise.all(
      pending.map(
        (id) =>
          new Promise<void>((resolve) => {
            const waiters = this.waiting.get(id) ?? new Set();
            waiters.add(resolve);
            this.waiting.set(id, waiters);
            resolvers.push([id, resolve]);
          }),
      ),
    ).then(() => true);
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([all, timedOut]);
    clearTimeout(timer);
    for (const [id, resolve] of resolvers) {
      const waiters = this.waiting.get(id);
      waiters?.delete(resolve);
      if (waiters?.size === 0) this.waiting.delete(id);
    }
    return result;
  }
}
