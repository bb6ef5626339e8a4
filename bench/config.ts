import { join } from 'path';
import { REPO_ROOT } from './lib/processes';

function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return value;
}

/** The run's shape, from the environment (bench/main.ts lists the variables). */
export const config = {
  durationS: intEnv('BENCH_DURATION_S', 6),
  /**
   * Each paced run (the p99 at an even 1,000 req/s): longer than the others, since its figure is
   * a tail of a low rate: 6 s held 60 responses above its p99, and a baseline's p99 moved 31-48 %
   * between repetitions.
   */
  pacedDurationS: intEnv('BENCH_PACED_DURATION_S', 18),
  /** Alternated repetitions (baseline, Atrium, …) behind every ratio row. */
  repetitions: intEnv('BENCH_REPETITIONS', 5, 3),
  /** A baseline that moved more than this between its own repetitions ((max − min) / median) makes its rows "unstable". */
  maxBaselineSpread: intEnv('BENCH_MAX_BASELINE_SPREAD_PCT', 15) / 100,
  /** Changes of access per second (grants and memberships, through the API) during the mixed-load run. */
  churnRate: intEnv('BENCH_CHURN_RATE', 20),
  pairs: intEnv('BENCH_PAIRS', 10_000),
  warmupS: intEnv('BENCH_WARMUP_S', 1, 0),
  revokeTrials: intEnv('BENCH_REVOKE_TRIALS', 200),
  listShares: intEnv('BENCH_LIST_SHARES', 1000),
  listRequests: intEnv('BENCH_LIST_REQUESTS', 300),
  rate: intEnv('BENCH_RATE', 1000),
  scale: {
    grants: intEnv('BENCH_SCALE_GRANTS', 1_000_000),
    datasets: intEnv('BENCH_SCALE_DATASETS', 100_000),
    users: intEnv('BENCH_SCALE_USERS', 10_000),
    owners: intEnv('BENCH_SCALE_OWNERS', 100),
  },
  scaleSmallGrants: intEnv('BENCH_SCALE_SMALL_GRANTS', 1000),
  // 6,000 a repetition: the p99 rests on the 60 slowest calls (2,000 left the echo's own p99 moving 55 % between repetitions).
  scaleChecks: intEnv('BENCH_SCALE_CHECKS', 6000),
  scaleCheckWarmup: 200,
  scaleListShares: intEnv('BENCH_SCALE_LIST_SHARES', 10_000),
  scaleListRequests: intEnv('BENCH_SCALE_LIST_REQUESTS', 300),
  embeddedTimeoutS: intEnv('BENCH_EMBEDDED_TIMEOUT_S', 60),
  connections: intEnv('BENCH_CONNECTIONS', 64, 2),
  timeoutS: intEnv('BENCH_TIMEOUT_S', 1200),
  adminDatabaseUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  amqpUrl: process.env.BENCH_AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672',
  resultsFile: process.env.BENCH_RESULTS || join(REPO_ROOT, 'bench', 'RESULTS.md'),
};

export const READY_TIMEOUT_MS = 120_000;
export const REVOKE_POLL_MS = 5;
export const PROPAGATION_TIMEOUT_MS = 5000;
