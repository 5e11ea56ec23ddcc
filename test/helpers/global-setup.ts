/**
 * Starts the real dependencies once per `jest` run: an embedded Postgres cluster (throw-away, in a
 * temp directory) and a Temporal development server (the server binary on SQLite in memory, no UI),
 * and makes sure the time-skipping test server and a Chromium for the browser tests are available.
 * Their addresses reach the test files through environment variables. On a fresh machine the
 * Temporal Web UI's server and the Temporal CLI (for `npm run dev` and `npm run temporal`, which
 * two test files run) are built after the server, whose packages they mostly share, before any
 * test starts: built while the tests ran, the CLI took 364 s instead of 78, and `npm run dev`'s
 * test timed out waiting for it.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type RunningPostgres } from '../../dev/postgres';
import { startTemporalDevServer, type RunningTemporal } from '../../dev/temporal';
import { freePort } from '../../dev/tools/ports';
import { ChromiumMissingError, ensureChromium } from '../../dev/tools/chromium';
import { ensureTemporalCli } from '../../dev/tools/temporal-cli';
import { ensureTemporalUiServer } from '../../dev/tools/temporal-server';
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
  const [testServer, postgres, temporal, chromium] = await Promise.all([
    ensureTestServer(log),
    (async () => startEmbeddedPostgres({ dataDir: postgresDataDir, port: await freePort(), persistent: false, fast: true, log }))(),
    (async () => {
      const temporal = await startTemporalDevServer({ log, extraNamespaces: Object.values(isolatedNamespaces) });
      // Without Go, only the files that need these fail, saying why.
      await ensureTemporalUiServer(log).catch((error: Error) => log(`Temporal UI server: ${error.message}`));
      await ensureTemporalCli(log).catch((error: Error) => log(`Temporal CLI: ${error.message}`));
      return temporal;
    })(),
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
