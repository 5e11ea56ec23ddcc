/**
 * What every entry point (api, worker, migrate, cli) does first: reach its dependencies and stop
 * at once, in one clear line, when one is missing or unreachable.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { sql } from 'kysely';
import { AddressDeriver, XpubError } from './chains/derivation';
import { ConfigError, type Config } from './config';
import { modes, type Mode } from './domain/mode';
import { families } from './domain/networks';
import { createDb, type Db, type DbOptions } from './db/database';

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const CONNECT_TIMEOUT_MS = 5_000;

export async function connectDatabase(config: Config, options: DbOptions = {}): Promise<Db> {
  const db = createDb(config.databaseUrl, options);
  try {
    await sql`select 1`.execute(db);
    return db;
  } catch (error) {
    await db.destroy();
    throw new StartupError(`inflow: cannot reach Postgres at ${describeDatabaseUrl(config.databaseUrl)}: ${reason(error)}`);
  }
}

export async function connectTemporalClient(config: Config): Promise<Client> {
  const { address, namespace } = config.temporal;
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw new StartupError(`inflow: cannot reach Temporal at ${address}: ${reason(error)}`);
  }
  await requireNamespace(address, namespace, () => connection.workflowService.describeNamespace({ namespace }));
  // The worker's own starts (the outbox relay, chain scans) carry its identity too.
  const { workerIdentity } = config.temporal;
  return new Client({ connection, namespace, ...(workerIdentity ? { identity: workerIdentity } : {}) });
}

/**
 * The API's client: connected on first use, not at start-up. The API queues its workflow starts in
 * Postgres (the outbox) and needs Temporal only to cancel an order and for /healthz, so it serves
 * while Temporal is down and answers those two with 503 until it is back.
 */
export function lazyTemporalClient(config: Config): Client {
  const { address, namespace } = config.temporal;
  return new Client({ connection: Connection.lazy({ address, connectTimeout: CONNECT_TIMEOUT_MS }), namespace });
}

export async function connectWorkerConnection(config: Config): Promise<NativeConnection> {
  const { address, namespace } = config.temporal;
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address });
  } catch (error) {
    throw new StartupError(`inflow: cannot reach Temporal at ${address}: ${reason(error)}`);
  }
  await requireNamespace(address, namespace, () => connection.workflowService.describeNamespace({ namespace }));
  return connection;
}

/**
 * Address derivation for the modes the process serves (both, in production). Each needs its EVM
 * and Tron account xpubs: without them there is no address to give a customer, so the process
 * refuses to start. `npm run dev` serves test mode only unless live xpubs are configured.
 */
export function createAddressDerivers(config: Config, servedModes: readonly Mode[] = modes): Partial<Record<Mode, AddressDeriver>> {
  const deriverFor = (mode: Mode): AddressDeriver => {
    const xpubs = config.xpubs[mode];
    const missing = families.filter((family) => !xpubs[family]).map((family) => `INFLOW_XPUB_${family.toUpperCase()}_${mode.toUpperCase()}`);
    if (missing.length > 0) {
      const hint = `make them offline with \`npm run cli -- keys xpub --mnemonic-file FILE${mode === 'test' ? ' --mode test' : ''}\``;
      throw new StartupError(`inflow: ${mode} mode needs ${missing.join(' and ')} (account-level xpubs; ${hint})`);
    }
    try {
      return new AddressDeriver({ evm: xpubs.evm!, tron: xpubs.tron! });
    } catch (error) {
      if (error instanceof XpubError) throw new StartupError(`inflow: ${mode} mode: ${error.message}`);
      throw error;
    }
  };
  return Object.fromEntries(servedModes.map((mode) => [mode, deriverFor(mode)]));
}

async function requireNamespace(address: string, namespace: string, describe: () => Promise<unknown>): Promise<void> {
  try {
    await describe();
  } catch (error) {
    throw new StartupError(`inflow: Temporal at ${address} has no namespace "${namespace}" (${reason(error)}); set TEMPORAL_NAMESPACE or create it`);
  }
}

/**
 * Calls `stop` once on the first SIGTERM or SIGINT. Later signals are ignored rather than left to
 * kill the process mid-shutdown: a terminal's Ctrl-C or a container stop reaches the whole process
 * group, and tsx relays it again, so one request to stop often arrives twice.
 */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => void | Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void stop(signal);
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}

/**
 * Runs an entry point; a configuration or start-up failure prints its one line and exits 1,
 * anything else prints its stack.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError || error instanceof StartupError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  });
}

function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reason(error.errors[0]);
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code} ${error.message}` : error.message.split('\n')[0]!;
}

/** host:port/database of a connection URL, never its password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}
