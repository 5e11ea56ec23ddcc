/**
 * Starts the real dependencies once per `jest` run: an embedded Postgres cluster (throw-away, in a
 * temp directory) and a Temporal dev server (in memory, no UI), and makes sure the time-skipping
 * test server, the production Temporal server (for the topology test) and a Chromium for the
 * browser tests are available. Their addresses reach the test files through environment variables.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type RunningPostgres } from '../../dev/postgres';
import { startTemporalDevServer, type RunningTemporal } from '../../dev/temporal';
import { freePort } from '../../dev/tools/ports';
import { ChromiumMissingError, ensureChromium } from '../../dev/tools/chromium';
import { ensureTemporalServer } from '../../dev/tools/temporal-server';
import { ensureTestServer } from '../../dev/tools/test-server';
import { stderrLog } from '../../dev/tools/progress';
import { isolatedNamespaces } from './temporal';
import { testEnv } from './test-env';

export interface TestDependencies {
  postgres: RunningPostgres;
  /** The throw-away cluster's directory: gone once its stop has finished (global-teardown.ts waits for that). */
  postgresDataDir: string;
  temporal: RunningTemporal;
}

export default async function globalSetup(): Promise<void> {
  const log = (line: string) => stderrLog(`[test setup] ${line}`);
  const postgresDataDir = await mkdtemp(path.join(os.tmpdir(), 'inflow-test-pg-'));
  const [testServer, , postgres, temporal, chromium] = await Promise.all([
    ensureTestServer(log),
    // Built here, before any test file runs, rather than in the topology test while others compete
    // for the CPU (minutes on a fresh machine). Without Go only that test fails, saying why.
    ensureTemporalServer(log).catch((error: Error) => log(`Temporal server: ${error.message}`)),
    (async () => startEmbeddedPostgres({ dataDir: postgresDataDir, port: await freePort(), persistent: false, fast: true, log }))(),
    startTemporalDevServer({ log, extraNamespaces: Object.values(isolatedNamespaces) }),
    // A machine without one fails the browser tests with the command to run, not the whole suite.
    ensureChromium(log).catch((error: Error) => {
      if (!(error instanceof ChromiumMissingError)) throw error;
      log(error.message);
      return `missing: ${error.message}`;
    }),
  ]);
  process.env[testEnv.postgresUrl] = postgres.url('postgres');
  process.env[testEnv.temporalAddress] = temporal.address;
  process.env[testEnv.testServer] = testServer ?? '';
  process.env[testEnv.chromium] = chromium;
  (globalThis as { inflowTestDependencies?: TestDependencies }).inflowTestDependencies = { postgres, postgresDataDir, temporal };
}
