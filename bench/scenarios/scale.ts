import { config } from '../config';
import { checkAlive } from '../harness';
import { progress, sleep, within } from '../lib/log';
import {
  bulkLoad,
  CheckSample,
  ListingSample,
  loadLister,
  measureChecks,
  measureChecksWithEcho,
  measureListing,
  permissionsClient,
  ScaleShape,
  scaledShape,
  waitForFactsInMemory,
} from '../lib/scale';

export interface ScaleResult {
  small: ScaleShape;
  large: ScaleShape;
  smallChecks: CheckSample;
  /** One sample per repetition, its calls in turn with the echo RPC's. */
  largeChecks: CheckSample[];
  listing: ListingSample;
  /** The same sequential RPC round trip to the baseline's echo service (no work), per repetition. */
  echo: CheckSample[];
  /** The same, its requests transient (as Atrium sends a read's), per repetition. */
  echoTransient: CheckSample[];
  loadSeconds: { small: number; large: number; lister: number };
}

/**
 * Checks at a small and a large number of grants (the large in repetitions, each check in turn
 * with an echo RPC's round trip, persistent and transient), then listing for a user with many shares: all
 * bulk-loaded with SQL into the bench database's permissions schema, all asked of the permissions
 * service directly (no gateway, no decision cache). The small set is loaded and measured first,
 * while the table holds only it (and the few thousand API-made grants of the earlier scenarios).
 */
export async function scale(databaseUrl: string, amqpUrl: string): Promise<ScaleResult> {
  const large: ScaleShape = config.scale;
  const small = scaledShape(large, Math.min(config.scaleSmallGrants, large.grants));
  const rpc = permissionsClient(amqpUrl);
  try {
    const smallLoad = await bulkLoad(databaseUrl, 'a', small);
    await sleep(2000); // let the revocation trials' events and audit writes drain first
    checkAlive();
    const smallChecks = await measureChecks(rpc, 'a', small, config.scaleChecks, config.scaleCheckWarmup, 1);
    progress(
      `scale: checks at ${small.grants} grants: p50 ${smallChecks.p50.toFixed(2)} ms, p99 ${smallChecks.p99.toFixed(2)} ms, wrong ${smallChecks.wrong}`,
    );
    const largeLoad = await within(bulkLoad(databaseUrl, 'b', large), 600_000, 'bulk load');
    checkAlive();
    // A change of a million rows: the permissions service loads its facts in memory again.
    const factsS = await waitForFactsInMemory(rpc, 'b', large);
    progress(
      `scale: the permissions service answers from its facts in memory ${factsS.toFixed(1)} s after the load`,
    );
    const largeChecks: CheckSample[] = [];
    const echo: CheckSample[] = [];
    const echoTransient: CheckSample[] = [];
    for (let rep = 0; rep < config.repetitions; rep++) {
      const {
        echo: echoRun,
        echoTransient: transientRun,
        checks,
      } = await measureChecksWithEcho(
        rpc,
        amqpUrl,
        'b',
        large,
        config.scaleChecks,
        config.scaleCheckWarmup,
        2 + rep,
      );
      echo.push(echoRun);
      echoTransient.push(transientRun);
      largeChecks.push(checks);
      checkAlive();
      progress(
        `scale #${rep + 1}: echo RPC p50 ${echoRun.p50.toFixed(2)} ms, p99 ${echoRun.p99.toFixed(2)} ms, failed ${echoRun.wrong}; ` +
          `transient p50 ${transientRun.p50.toFixed(2)} ms, p99 ${transientRun.p99.toFixed(2)} ms, failed ${transientRun.wrong}; ` +
          `checks at ${large.grants} grants p50 ${checks.p50.toFixed(2)} ms, p99 ${checks.p99.toFixed(2)} ms, wrong ${checks.wrong}`,
      );
    }
    const lister = await loadLister(
      databaseUrl,
      'b',
      large,
      Math.min(config.scaleListShares, large.datasets),
    );
    checkAlive();
    const listing = await measureListing(rpc, lister, config.scaleListRequests);
    progress(
      `scale: listSharedWith first page (${listing.shares} shares): p50 ${listing.p50.toFixed(2)} ms, ` +
        `p95 ${listing.p95.toFixed(2)} ms; walk ${listing.walked} in ${listing.pages} pages, exact ${listing.walkExact}`,
    );
    return {
      small,
      large,
      smallChecks,
      largeChecks,
      listing,
      echo,
      echoTransient,
      loadSeconds: { small: smallLoad, large: largeLoad, lister: lister.seconds },
    };
  } finally {
    await rpc.close().catch(() => undefined);
  }
}
