/**
 * The production Temporal server on this machine, set up exactly as docker-compose.yml sets up
 * its images, on an embedded Postgres:
 *
 *   schema      deploy/temporal/setup-schema.sh with temporal-sql-tool (the temporal-schema service)
 *   server      `temporal-server start` (the temporal service): no config file, so the server renders
 *               its embedded template from the environment, as the image's entrypoint does, with the
 *               environment of deploy/temporal/server.env plus where things are on this machine
 *   namespace   the namespace of deploy/temporal/namespace.env created with inflow's search attributes
 *               through the API (setUpNamespace in dev/temporal.ts), the steps deploy/temporal/setup-namespace.sh
 *               takes with the `temporal` CLI in compose's temporal-setup service: this machine builds
 *               no CLI only for that
 *   UI          temporal-ui-server with the temporalio/ui image's config template (the temporal-ui service), when asked
 *
 * History and visibility (advanced visibility: search attributes, list filters) both live in
 * Postgres. The binaries are built once from pinned sources (dev/tools/temporal-server.ts).
 * test/unit/docker-compose.test.ts checks that compose and this file agree.
 */
import path from 'node:path';
import type { RunningPostgres } from './postgres';
import { ProcessOutput, spawnLogged } from './server-process';
import { finishStart, setUpNamespace, type RunningTemporal } from './temporal';
import { readEnvFile } from './tools/env-file';
import { repoRoot } from './tools/paths';
import { freePort, freePortBetween } from './tools/ports';
import { runWithProgress, type Log } from './tools/progress';
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

const READY_TIMEOUT_MS = 120_000;
/** What `temporal operator namespace create` gives a namespace by default, as compose's set-up does. */
const NAMESPACE_RETENTION = '3 days';

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
  const [tools, ui] = await Promise.all([ensureTemporalServer(log), options.uiPort !== undefined ? ensureTemporalUiServer(log) : undefined]);
  // The schema script calls temporal-sql-tool by name, as in the admin-tools image.
  const PATH = [path.dirname(tools.sqlTool), process.env.PATH].join(path.delimiter);
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
  const namespace = options.namespace ?? readEnvFile(namespaceEnvFile).TEMPORAL_NAMESPACE ?? 'default';
  return finishStart({
    server: spawnLogged(tools.server, ['start'], { PATH, ...temporalServerEnv(database), FRONTEND_GRPC_PORT: String(frontendPort), ...internalPorts }, output),
    output,
    address,
    readyTimeoutMs: READY_TIMEOUT_MS,
    // It waits for the frontend to serve, then creates the namespace and registers the attributes.
    setUp: async () => {
      const { created, removed } = await setUpNamespace(address, namespace, { retention: NAMESPACE_RETENTION, deadline: Date.now() + READY_TIMEOUT_MS });
      if (created) log(`Temporal: created namespace ${namespace}`);
      if (removed.length > 0) log(`Temporal: removed or re-registered ${removed.join(', ')} as inflow now has them (namespace ${namespace})`);
    },
    ui: ui && options.uiPort !== undefined ? { server: ui, port: options.uiPort, namespace } : undefined,
    cleanUp: () => output.close(),
  });
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
