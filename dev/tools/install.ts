/** `npm run tools`: fetches or builds every local tool once (idempotent; a cache hit is instant). */
import { ensureTemporalCli } from './temporal-cli';
import { ensureTemporalServer, ensureTemporalUiServer } from './temporal-server';
import { ensureTestServer } from './test-server';

async function main(): Promise<void> {
  const cli = await ensureTemporalCli();
  console.log(`Temporal CLI:         ${cli ?? 'SDK download at first use'}`);
  const testServer = await ensureTestServer();
  console.log(`Temporal test server: ${testServer ?? 'SDK download at first use'}`);
  // The production server (npm run prod:local and the topology test): Go is required for these.
  const server = await ensureTemporalServer();
  console.log(`Temporal server:      ${server.server} (schemas in ${server.schemaDir})`);
  const ui = await ensureTemporalUiServer();
  console.log(`Temporal UI server:   ${ui.binary}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
