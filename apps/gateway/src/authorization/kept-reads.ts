import { Injectable } from '@nestjs/common';
import { PermissionsRpc, ResourcesRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';

/**
 * Read-your-writes on every replica, with no message between replicas: a decision that a change
 * could widen (a denial, or an allow holding less than every permission of the type), and a kept
 * view, is served at most this long after it was asked (or found unchanged: ChangeVersions), and
 * a call that changes access answers no sooner than this after its change was applied (`settle`)
 * — so no replica still serves a read made before the change (a commit wait, as Spanner's).
 * Durations on each process's monotonic clock.
 */
export const WIDENABLE_TTL_MS = 20;
/**
 * A kept read that is served with less than this left is renewed at once (one renewal at a time),
 * so that one in steady use is renewed before it ends instead of making the requests after it
 * wait. What is served is still never older than WIDENABLE_TTL_MS.
 */
export const REFRESH_AHEAD_MS = 5;

/** The services whose change versions this replica asks for. */
export const VERSIONED_SERVICES = ['permissions', 'resources'] as const;
export type VersionedService = (typeof VERSIONED_SERVICES)[number];
const ROUTES = { permissions: PermissionsRpc.changeVersion, resources: ResourcesRpc.changeVersion };

/** Nothing revalidated by version is kept longer than this after it was read. */
export const MAX_REVALIDATED_MS = 60_000;

interface Known {
  version: string;
  /** On the monotonic clock: when the call that read it was sent (the version was read after). */
  askedAt: number;
}

/**
 * The change versions of the services whose reads this replica keeps (`changeVersionMigration`):
 * what lets a kept read — an access decision a change could widen, a storage's view, a page of
 * what is shared with someone — stay in use past WIDENABLE_TTL_MS without giving up
 * read-your-writes. A read sent after a version was known (`current`) carries it: it shows the
 * service's data as they were at some moment after that version was read. Should a later call
 * find the same version, nothing changed in between, so the read is as good as one sent when that
 * call was; it is used WIDENABLE_TTL_MS from then (`confirmedUntil`), as a fresh read would be,
 * and every write still answers only after the settle. One call per service at a time
 * (`revalidate`) renews everything this replica read at that version, however many reads it keeps:
 * a small RPC instead of reading them again.
 */
@Injectable()
export class ChangeVersions {
  private readonly known = new Map<VersionedService, Known>();
  /** The call for each service's version on its way, if one is. */
  private readonly asking = new Map<VersionedService, Promise<void>>();

  constructor(private readonly rpc: RpcClient) {}

  /** The version to tag a read sent now with; undefined if none is known yet. */
  current(service: VersionedService): string | undefined {
    return this.known.get(service)?.version;
  }

  /** Until when (monotonic clock) a read tagged with `version` may be served: -Infinity if it is not the known one. */
  confirmedUntil(service: VersionedService, version: string | undefined): number {
    const known = this.known.get(service);
    return version !== undefined && known?.version === version ? known.askedAt + WIDENABLE_TTL_MS : -Infinity;
  }

  /**
   * Confirms a kept read that ran out and carries the known version: by the call for the
   * service's version on its way, or a new one. The read waits for it (and is served if it finds
   * the version unchanged) rather than being read again — a small call instead of a read, whether
   * it ran out because nobody asked for it in the meantime or because the event loop or the
   * service was busy. Undefined if `version` is not the known one.
   */
  confirm(service: VersionedService, version: string | undefined): Promise<void> | undefined {
    if (version === undefined || this.known.get(service)?.version !== version) return undefined;
    this.revalidate(service);
    return this.asking.get(service);
  }

  /**
   * Renews a kept read (served with less than REFRESH_AHEAD_MS left) that carries `version`: by
   * asking the service's version if it is the known one, else by `readAgain` (asking the version
   * too if the known one has run out, so that what is read next carries a current one).
   */
  renew(service: VersionedService, version: string | undefined, readAgain: () => void): void {
    const known = this.known.get(service);
    if (version !== undefined && known?.version === version) return this.revalidate(service);
    readAgain();
    if (!known || performance.now() - known.askedAt > WIDENABLE_TTL_MS) this.revalidate(service);
  }

  /** Asks the service's version now, unless a call for it is on its way; a failure leaves the known one to run out. */
  private revalidate(service: VersionedService): void {
    if (this.asking.has(service)) return;
    const askedAt = performance.now();
    const asked = this.rpc
      .call(ROUTES[service], {})
      .then(({ version }) => void this.known.set(service, { version, askedAt }))
      .catch(() => undefined)
      .finally(() => this.asking.delete(service));
    this.asking.set(service, asked);
  }
}
