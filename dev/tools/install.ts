/** `npm run tools`: fetches or builds every local tool once (idempotent; a cache hit is instant). */
import { ensureTemporalCli } from './temporal-cli';
import { ensureTemporalServer, ensureTemporalUiServer } from './temporal-server';
import { ensureTestServer } from './test-server';

async function main(): Promise<void> {
  const testServer = await ensureTestServer();
  console.log(`Temporal test server: ${testServer ?? 'SDK download at first use'}`);
  // The server (npm run dev and the tests on SQLite, npm run prod:local on Postgres): Go is required for these.
  const server = await ensureTemporalServer();
  console.log(`Temporal server:      ${server.server} (schemas in ${server.schemaDir})`);
  const ui = await ensureTemporalUiServer();
  console.log(`Temporal UI server:   ${ui.binary}`);
  // After the server, whose packages it mostly shares: only `npm run temporal` runs it.
  const cli = await ensureTemporalCli();
  console.log(`Temporal CLI:         ${cli ?? 'not built: Go is not installed'}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
