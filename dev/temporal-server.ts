/**
 * The production Temporal server on this machine, set up exactly as docker-compose.yml sets up
 * its images, on an embedded Postgres:
 *
 *   schema      deploy/temporal/setup-schema.sh with temporal-sql-tool (the temporal-schema service)
 *   server      `temporal-server start` (the temporal service): no config file, so the server renders
 *               its embedded template from the environment, as the image's entrypoint does, with the
 *               environment of deploy/temporal/server.env plus where things are on this machine
 *   namespace   deploy/temporal/setup-namespace.sh with the `temporal` CLI (the temporal-setup
 *               service), with deploy/temporal/namespace.env: the namespace and inflow's search attributes
 *   UI          temporal-ui-server with the temporalio/ui image's config template (the temporal-ui service), when asked
 *
 * History and visibility (advanced visibility: search attributes, list filters) both live in
 * Postgres. The binaries are built once from pinned sources (dev/tools/temporal-server.ts).
 * test/unit/docker-compose.test.ts checks that compose and this file agree.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { RunningPostgres } from './postgres';
import type { RunningTemporal } from './temporal';
import { readEnvFile } from './tools/env-file';
import { repoRoot } from './tools/paths';
import { freePort, freePortBetween, waitForPort } from './tools/ports';
import { runWithProgress, type Log } from './tools/progress';
import { ensureTemporalCli } from './tools/temporal-cli';
import { ensureTemporalServer, ensureTemporalUiServer } from './tools/temporal-server';

export const temporalDeployDir = path.join(repoRoot, 'deploy', 'temporal');
/** What the server runs with wherever it runs (compose's `env_file` of the temporal service). */
export const serverEnvFile = path.join(temporalDeployDir, 'server.env');
/** The namespace and its search attributes (compose's `env_file` of the temporal-setup service). */
export const namespaceEnvFile = path.join(temporalDeployDir, 'namespace.env');
export const dynamicConfigFile = path.join(temporalDeployDir, 'dynamicconfig', 'development-sql.yaml');
/** The set-up steps compose's temporal-schema and temporal-setup services run. */
export const schemaScript = path.join(temporalDeployDir, 'setup-schema.sh');
export const namespaceScript = path.join(temporalDeployDir, 'setup-namespace.sh');

/** The server's own ports besides the frontend's gRPC port, each a variable of its config template. */
const internalPortVariables = [
  'FRONTEND_HTTP_PORT',
  'FRONTEND_MEMBERSHIP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
] as const;

const STOP_GRACE_MS = 20_000;
const READY_TIMEOUT_MS = 120_000;

export async function startTemporalServer(options: {
  log: Log;
  postgres: RunningPostgres;
  /** The frontend's gRPC port; a free one when absent. */
  port?: number;
  /** Start the Web UI on this port when given. */
  uiPort?: number;
  /** 'default' when absent; created with inflow's search attributes registered. */
  namespace?: string;
  /** Where the server's (and the UI's) output goes; kept in memory for error messages when absent. */
  logFile?: string;
  /** Other names for Temporal's two databases than server.env's, for a cluster that more servers share (the test suite's). */
  databases?: { history: string; visibility: string };
}): Promise<RunningTemporal> {
  const { log } = options;
  const [tools, cli, ui] = await Promise.all([
    ensureTemporalServer(log),
    ensureTemporalCli(log),
    options.uiPort !== undefined ? ensureTemporalUiServer(log) : undefined,
  ]);
  if (!cli) throw new Error('the namespace set-up (deploy/temporal/setup-namespace.sh) needs the `temporal` CLI: install Go so `npm run tools` can build it');
  // The scripts call temporal-sql-tool and temporal by name, as in the admin-tools image.
  const PATH = [...new Set([path.dirname(tools.sqlTool), path.dirname(cli)]), process.env.PATH].join(path.delimiter);
  const database = { ...databaseLocation(options.postgres), ...(options.databases ? { databases: options.databases } : {}) };
  const output = new ProcessOutput(options.logFile);

  const schemaStarted = Date.now();
  await runWithProgress('Temporal schema', 'sh', [schemaScript], {
    env: { PATH, ...readEnvFile(serverEnvFile), ...schemaToolEnv(database), SCHEMA_DIR: path.join(tools.schemaDir, 'postgresql', 'v12') },
    log: quietUnlessSlow(log, schemaStarted),
  });

  const frontendPort = options.port ?? (await freePort());
  // Below 32768: the membership table keeps ports in a smallint, and the kernel's free ports start above it.
  const internalPorts: Record<string, string> = {};
  for (const name of internalPortVariables) internalPorts[name] = String(await freePortBetween(10_000, 32_767));
  const address = `127.0.0.1:${frontendPort}`;
  const server = spawnLogged(
    tools.server,
    ['start'],
    { PATH, ...temporalServerEnv(database), FRONTEND_GRPC_PORT: String(frontendPort), ...internalPorts },
    output,
  );
  const processes: ChildProcess[] = [server.child];
  const stop = async () => {
    for (const child of [...processes].reverse()) await stopProcess(child);
    await output.close();
  };

  try {
    const started = Date.now();
    await Promise.race([
      // It waits for the frontend to answer, then creates the namespace and registers the attributes.
      runWithProgress('Temporal namespace', 'sh', [namespaceScript], {
        env: {
          PATH,
          HOME: process.env.HOME,
          ...readEnvFile(namespaceEnvFile),
          TEMPORAL_ADDRESS: address,
          ...(options.namespace ? { TEMPORAL_NAMESPACE: options.namespace } : {}),
        },
        log: quietUnlessSlow(log, started),
      }),
      server.exited.then((exit) => Promise.reject(new Error(`the Temporal server exited (${exit}) while starting:\n${output.tail()}`))),
      timeout(READY_TIMEOUT_MS, () => `the Temporal server at ${address} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${output.tail()}`),
    ]);
    let uiUrl: string | undefined;
    if (ui && options.uiPort !== undefined) {
      uiUrl = `http://localhost:${options.uiPort}`;
      // The temporal-ui service's variables; base.yaml beside the template binds it to loopback.
      const uiProcess = spawnLogged(
        ui.binary,
        ['--root', ui.root, '--env', 'docker', 'start'],
        {
          TEMPORAL_ADDRESS: address,
          TEMPORAL_UI_PORT: String(options.uiPort),
          TEMPORAL_CORS_ORIGINS: uiUrl,
          TEMPORAL_DEFAULT_NAMESPACE: options.namespace ?? 'default',
          TEMPORAL_NOTIFY_ON_NEW_VERSION: 'false',
        },
        output,
      );
      processes.push(uiProcess.child);
      await Promise.race([
        waitForPort(options.uiPort, 30_000),
        uiProcess.exited.then((exit) => Promise.reject(new Error(`the Temporal UI server exited (${exit}):\n${output.tail()}`))),
      ]);
    }
    return { address, ...(uiUrl ? { uiUrl } : {}), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Where Temporal's Postgres is and who it logs in as, from the cluster's connection URL. */
export interface DatabaseLocation {
  host: string;
  port: string;
  user: string;
  password: string;
  /** Instead of server.env's DBNAME and VISIBILITY_DBNAME. */
  databases?: { history: string; visibility: string };
}

export function databaseLocation(postgres: RunningPostgres): DatabaseLocation {
  const url = new URL(postgres.url('postgres'));
  return { host: url.hostname, port: String(postgres.port), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/**
 * The server's environment: deploy/temporal/server.env as compose gives it, plus what differs on
 * this machine, which is only where things are (the database, the address to bind, the dynamic
 * config file's path; the databases' names only when the caller picks others). The ports are added by the caller.
 */
export function temporalServerEnv(database: DatabaseLocation): Record<string, string> {
  return {
    ...readEnvFile(serverEnvFile),
    POSTGRES_SEEDS: database.host,
    DB_PORT: database.port,
    POSTGRES_USER: database.user,
    POSTGRES_PWD: database.password,
    BIND_ON_IP: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: dynamicConfigFile,
    ...databaseNames(database),
  };
}

function databaseNames(database: DatabaseLocation): Record<string, string> {
  return database.databases ? { DBNAME: database.databases.history, VISIBILITY_DBNAME: database.databases.visibility } : {};
}

/** setup-schema.sh's environment, as compose's temporal-schema service gives it (SCHEMA_DIR is added by the caller). */
export function schemaToolEnv(database: DatabaseLocation): Record<string, string> {
  return { POSTGRES_SEEDS: database.host, DB_PORT: database.port, POSTGRES_USER: database.user, SQL_PASSWORD: database.password, ...databaseNames(database) };
}

/** The set-up scripts' chatter matters only when a step is slow (a first start) or fails (runWithProgress then rejects with it). */
function quietUnlessSlow(log: Log, since: number): Log {
  return (line) => {
    if (Date.now() - since > 5_000) log(line);
  };
}

/** Output of the server processes: to the log file when there is one, its tail kept for error messages. */
class ProcessOutput {
  private readonly lines: string[] = [];
  private readonly file: WriteStream | undefined;

  constructor(logFile: string | undefined) {
    this.file = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
    this.file?.on('error', () => undefined);
  }

  write(chunk: Buffer): void {
    if (this.file && !this.file.writableEnded) this.file.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      this.lines.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
      if (this.lines.length > 20) this.lines.shift();
    }
  }

  tail(): string {
    return this.lines.join('\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.file ? this.file.end(resolve) : resolve()));
  }
}

/** A server process in its own process group, so a Ctrl-C in the terminal reaches only our stop(), which stops it in order. */
function spawnLogged(command: string, args: string[], env: NodeJS.ProcessEnv, output: ProcessOutput): { child: ChildProcess; exited: Promise<string> } {
  const child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => output.write(chunk));
  child.stderr!.on('data', (chunk: Buffer) => output.write(chunk));
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`));
  });
  // If our own process dies first, take the server with it rather than leave it holding its ports.
  const killOnExit = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));
  return { child, exited };
}

/** SIGTERM (the server drains and leaves its membership ring), then SIGKILL if it lingers. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let grace: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([exited.then(() => true), new Promise<false>((resolve) => (grace = setTimeout(() => resolve(false), STOP_GRACE_MS)))]);
  clearTimeout(grace);
  if (!stopped) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Rejects after `ms` with the message as it is then (the output's tail by that time). */
function timeout(ms: number, message: () => string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message())), ms).unref());
}
