/**
 * Temporal for development and tests: the production server binary (`temporal-server`, built once by
 * dev/tools/temporal-server.ts, the one Temporal this machine builds) run as the CLI's
 * `server start-dev` runs the same server code: SQLite in memory or in a file, one history shard,
 * every port on loopback, the dev server's dynamic config, and the namespaces created through the
 * API with inflow's search attributes. The Web UI, when asked, is the UI server built beside it.
 * Also the SDK's time-skipping test server.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { retiredSearchAttributes, searchAttributes } from '../src/workflows/definitions';
import { ManagedProcess } from './managed-process';
import { ProcessOutput, spawnLogged, stopProcess, timeout } from './server-process';
import { freePort, freePortBetween, waitForPort } from './tools/ports';
import type { Log } from './tools/progress';
import { ensureTemporalServer, ensureTemporalUiServer, type TemporalUiServer } from './tools/temporal-server';

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
/** How long a development namespace keeps a closed workflow's history. */
const DEVELOPMENT_RETENTION = '1 day';

/**
 * The CLI dev server's dynamic config (temporalcli/commands.server.go and devserver/server.go of
 * github.com/temporalio/cli), plus deploy/temporal's id length: what tests and `npm run dev` were
 * written against.
 */
const developmentDynamicConfig: Record<string, unknown> = {
  // Search attributes registered at start apply at once; a metadata read per request is nothing here.
  'system.forceSearchAttributesCacheRefreshOnRead': true,
  // With that cache off, persistence allowances raised in the defaults' ratio.
  'frontend.persistenceMaxQPS': 10_000,
  'history.persistenceMaxQPS': 45_000,
  'history.hostLevelCacheMaxSize': 8096,
  'frontend.namespaceRPS.visibility': 100,
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted': true,
  // Workflow ids must fit the visibility tables' VARCHAR(255) columns, as in deploy/temporal/dynamicconfig.
  'limit.maxIDLength': 255,
};

export async function startTemporalDevServer(options: {
  log: Log;
  port?: number;
  /** Persist history in this SQLite file; in memory when absent. */
  dbFilename?: string;
  uiPort?: number;
  namespace?: string;
  /** More namespaces to create at start, each with inflow's search attributes (tests isolate files with them). */
  extraNamespaces?: string[];
}): Promise<RunningTemporal> {
  const { log } = options;
  const [tools, ui] = await Promise.all([ensureTemporalServer(log), options.uiPort !== undefined ? ensureTemporalUiServer(log) : undefined]);
  const configDir = await mkdtemp(path.join(os.tmpdir(), 'inflow-temporal-'));
  const frontendPort = options.port ?? (await freePort());
  const configFile = await writeDevelopmentConfig(configDir, { frontendPort, dbFile: options.dbFilename });
  const address = `127.0.0.1:${frontendPort}`;
  const output = new ProcessOutput(undefined);
  const namespaces = [options.namespace ?? 'default', ...(options.extraNamespaces ?? [])];
  return finishStart({
    server: spawnLogged(tools.server, ['--config-file', configFile, '--allow-no-auth', 'start'], { PATH: process.env.PATH }, output),
    output,
    address,
    readyTimeoutMs: READY_TIMEOUT_MS,
    setUp: async () => {
      for (const namespace of namespaces) {
        const { removed } = await setUpNamespace(address, namespace, { retention: DEVELOPMENT_RETENTION, deadline: Date.now() + READY_TIMEOUT_MS });
        if (removed.length > 0) log(`Temporal: removed or re-registered ${removed.join(', ')} as inflow now has them (namespace ${namespace})`);
      }
    },
    ui: ui && options.uiPort !== undefined ? { server: ui, port: options.uiPort, namespace: namespaces[0]! } : undefined,
    cleanUp: () => rm(configDir, { recursive: true, force: true }),
  });
}

/**
 * The end of a Temporal server's start (this file's development server, dev/temporal-server.ts's
 * production one): waits for `setUp` (its namespaces) while watching the server's exit and a
 * deadline, then starts the Web UI when asked. When any of that fails, stops what it started.
 */
export async function finishStart(start: {
  server: { child: ChildProcess; exited: Promise<string> };
  output: ProcessOutput;
  address: string;
  readyTimeoutMs: number;
  setUp: () => Promise<void>;
  ui: { server: TemporalUiServer; port: number; namespace: string } | undefined;
  /** After the processes have stopped. */
  cleanUp: () => Promise<void>;
}): Promise<RunningTemporal> {
  const { address, output } = start;
  const processes = [start.server.child];
  const stop = async () => {
    for (const child of [...processes].reverse()) await stopProcess(child);
    await start.cleanUp();
  };
  try {
    await Promise.race([
      start.setUp(),
      start.server.exited.then((exit) => Promise.reject(new Error(`the Temporal server exited (${exit}) while starting:\n${output.tail()}`))),
      timeout(start.readyTimeoutMs, () => `the Temporal server at ${address} was not ready within ${start.readyTimeoutMs / 1000} s:\n${output.tail()}`),
    ]);
    let uiUrl: string | undefined;
    if (start.ui) {
      const started = await startTemporalUi(start.ui.server, { address, port: start.ui.port, namespace: start.ui.namespace, output });
      processes.push(started.child);
      uiUrl = started.url;
    }
    return { address, ...(uiUrl ? { uiUrl } : {}), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The development server as a ManagedProcess (the chaos suites', which kill it -9 and start it
 * again), on a SQLite file so a restart keeps every workflow (in memory without `dbFile`). Each
 * start is ready once the namespace and inflow's search attributes are set up (kept across
 * restarts by the file). Returned not yet started.
 */
export async function supervisedTemporalDevServer(options: { port: number; dbFile?: string; logFile: string; log: Log }): Promise<ManagedProcess> {
  const tools = await ensureTemporalServer(options.log);
  const configDir = path.join(path.dirname(options.logFile), 'temporal-config');
  await mkdir(configDir, { recursive: true });
  const configFile = await writeDevelopmentConfig(configDir, { frontendPort: options.port, dbFile: options.dbFile });
  const address = `127.0.0.1:${options.port}`;
  return new ManagedProcess({
    name: 'temporal',
    command: tools.server,
    args: ['--config-file', configFile, '--allow-no-auth', 'start'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    logFile: options.logFile,
    ready: async () => {
      await setUpNamespace(address, 'default', { retention: DEVELOPMENT_RETENTION, deadline: Date.now() + 2_000 });
      return true;
    },
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
}

/**
 * The server's config file, as the CLI's dev server builds its config: one SQLite database for
 * history and visibility (a shared in-memory one under a random name, or the file, its schema set
 * up when new), one shard, every service on loopback on a port of its own, archival off. JSON,
 * which the server's YAML loader reads as it is. The dynamic config is a file beside it.
 */
async function writeDevelopmentConfig(dir: string, options: { frontendPort: number; dbFile?: string }): Promise<string> {
  // Below 32768: the membership table keeps ports in a smallint, and the kernel's free ports start above it.
  const port = () => freePortBetween(10_000, 32_767);
  const rpc = async (grpcPort: number) => ({ grpcPort, membershipPort: await port(), bindOnIP: '127.0.0.1' });
  const httpPort = await port();
  const services = {
    frontend: { rpc: { ...(await rpc(options.frontendPort)), httpPort } },
    history: { rpc: await rpc(await port()) },
    matching: { rpc: await rpc(await port()) },
    worker: { rpc: await rpc(await port()) },
  };
  const sqlite = {
    pluginName: 'sqlite',
    // Required by the config's validation, unused by SQLite.
    connectAddr: 'localhost',
    connectProtocol: 'tcp',
    ...(options.dbFile
      ? { databaseName: options.dbFile, connectAttributes: { mode: 'rwc', setup: 'true' } }
      : { databaseName: `inflow-${randomUUID()}`, connectAttributes: { mode: 'memory', cache: 'shared' } }),
  };
  const dynamicConfigFile = path.join(dir, 'dynamic-config.yaml');
  const config = {
    log: { stdout: true, level: 'warn', format: 'json' },
    persistence: { defaultStore: 'sqlite', visibilityStore: 'sqlite', numHistoryShards: 1, datastores: { sqlite: { sql: sqlite } } },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${options.frontendPort}`,
          httpAddress: `127.0.0.1:${httpPort}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
    publicClient: { hostPort: `127.0.0.1:${options.frontendPort}` },
  };
  const dynamicConfig = Object.fromEntries(Object.entries(developmentDynamicConfig).map(([key, value]) => [key, [{ value, constraints: {} }]]));
  await writeFile(dynamicConfigFile, `${JSON.stringify(dynamicConfig, null, 2)}\n`);
  const configFile = path.join(dir, 'temporal.yaml');
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  return configFile;
}

/**
 * Creates a namespace when it is missing, then registers inflow's search attributes on it
 * (registerSearchAttributes), as deploy/temporal/setup-namespace.sh does in compose. Waits, until
 * `deadline`, for the frontend to serve (its port opens before the cluster does) and for a
 * namespace just created to be found by the frontend's other calls.
 */
export async function setUpNamespace(
  address: string,
  namespace: string,
  options: { retention: string; deadline: number },
): Promise<{ created: boolean; removed: string[] }> {
  let created = false;
  for (;;) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000, interceptors: [] });
      const service = connection.workflowService;
      const found = await service.describeNamespace({ namespace }).then(
        () => true,
        (error: unknown) => {
          if (grpcCode(error) === NOT_FOUND) return false;
          throw error;
        },
      );
      if (!found) {
        await service.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(options.retention) }).catch((error: unknown) => {
          if (grpcCode(error) !== ALREADY_EXISTS) throw error;
        });
        created = true;
      }
      const { removed } = await registerSearchAttributes(connection, namespace);
      return { created, removed };
    } catch (error) {
      if (Date.now() > options.deadline) throw new Error(`Temporal at ${address}: namespace ${namespace} could not be set up: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await connection?.close();
    }
  }
}

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The Web UI's server on a Temporal frontend, configured as the temporalio/ui image is (the temporal-ui service of docker-compose.yml). */
async function startTemporalUi(
  ui: TemporalUiServer,
  options: { address: string; port: number; namespace: string; output: ProcessOutput },
): Promise<{ child: ReturnType<typeof spawnLogged>['child']; url: string }> {
  const url = `http://localhost:${options.port}`;
  // The temporal-ui service's variables; base.yaml beside the template binds it to loopback.
  const started = spawnLogged(
    ui.binary,
    ['--root', ui.root, '--env', 'docker', 'start'],
    {
      TEMPORAL_ADDRESS: options.address,
      TEMPORAL_UI_PORT: String(options.port),
      TEMPORAL_CORS_ORIGINS: url,
      TEMPORAL_DEFAULT_NAMESPACE: options.namespace,
      TEMPORAL_NOTIFY_ON_NEW_VERSION: 'false',
    },
    options.output,
  );
  try {
    await Promise.race([
      waitForPort(options.port, 30_000),
      started.exited.then((exit) => Promise.reject(new Error(`the Temporal UI server exited (${exit}):\n${options.output.tail()}`))),
    ]);
  } catch (error) {
    await stopProcess(started.child);
    throw error;
  }
  return { child: started.child, url };
}

/**
 * The SDK's time-skipping test server, launched by `executable` when given (the project's Java
 * launcher, dev/tools/test-server.ts), else by the SDK's own download.
 */
export async function startTimeSkippingServer(executable?: string): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping(executable ? { server: { executable: { type: 'existing-path', path: executable } } } : {});
  // Workflows start with and upsert inflow's search attributes; the test server refuses ones it has
  // not registered, so it must know them, as the dev server does. (It implements AddSearchAttributes
  // but not ListSearchAttributes; every environment is new, so adding is enough.)
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes: searchAttributeTypes() });
  return env;
}

/**
 * Registers inflow's search attributes (definitions.ts) on a namespace: removes the retired ones an
 * older inflow registered, adds the missing ones, and removes then adds again any an older inflow
 * registered with another type (their values on existing workflows stop being searchable). Returns
 * the names it removed or re-registered.
 */
export async function registerSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<{ removed: string[] }> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const wanted = Object.entries(searchAttributeTypes()).map(([name, type]) => ({ name, type }));
  const retired = retiredSearchAttributes.filter((name) => customAttributes[name] !== undefined);
  const removed = wanted.filter(({ name, type }) => customAttributes[name] !== undefined && customAttributes[name] !== type).map(({ name }) => name);
  if (removed.length + retired.length > 0) await connection.operatorService.removeSearchAttributes({ namespace, searchAttributes: [...retired, ...removed] });
  const missing = wanted.filter(({ name }) => customAttributes[name] === undefined || removed.includes(name));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map(({ name, type }) => [name, type])) });
  }
  return { removed: [...retired, ...removed] };
}

/** inflow's search attributes as the operator service takes them: name → indexed value type. */
export function searchAttributeTypes(): Record<string, IndexedValueType> {
  return Object.fromEntries(Object.values(searchAttributes).map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]));
}

type IndexedValueType = NonNullable<ReturnType<typeof encodeSearchAttributeIndexedValueType>>;
