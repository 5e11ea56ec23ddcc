/**
 * STUB, to be replaced at merge by the topology branch's dev/temporal-server.ts: the real Temporal
 * server (v1.30.4) on a Postgres cluster of its own. Only its signature is here, so that the
 * benchmarks' `--temporal server` type-checks; calling it says it is not there yet.
 */
import type { RunningPostgres } from './postgres';
import type { RunningTemporal } from './temporal';
import type { Log } from './tools/progress';

export async function startTemporalServer(_options: {
  log: Log;
  postgres: RunningPostgres;
  port?: number;
  uiPort?: number;
  namespace?: string;
}): Promise<RunningTemporal> {
  throw new Error('dev/temporal-server.ts is not merged yet (the real Temporal server comes with the topology branch): run with --temporal dev');
}
