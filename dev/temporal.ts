/**
 * A Temporal dev server (the CLI's `server start-dev`) managed through the SDK's ephemeral-server
 * support, which spawns it and stops it on teardown. The binary comes from ensureTemporalCli;
 * when that finds none the SDK downloads one, where the internet is reachable.
 */
import { Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { retiredSearchAttributes, searchAttributes } from '../src/workflows/definitions';
import { ManagedProcess } from './managed-process';
import { ensureTemporalCli } from './tools/temporal-cli';
import type { Log } from './tools/progress';

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

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
  const cli = await ensureTemporalCli(options.log);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli ? { type: 'existing-path', path: cli } : { type: 'cached-download' },
      ip: '127.0.0.1',
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      ...(options.uiPort !== undefined ? { ui: true, uiPort: options.uiPort } : { ui: false }),
      namespace: options.namespace ?? 'default',
      searchAttributes: Object.values(searchAttributes),
      log: { format: 'json', level: 'error' },
      extraArgs: (options.extraNamespaces ?? []).flatMap((namespace) => ['--namespace', namespace]),
    },
  });
  // The start flags register the attributes only when the server makes its database; a persisted
  // one (.data/temporal.db) keeps what an older inflow registered, so bring it up to date here.
  for (const namespace of [options.namespace ?? 'default', ...(options.extraNamespaces ?? [])]) {
    const { removed } = await registerSearchAttributes(env.connection, namespace);
    if (removed.length > 0) options.log(`Temporal: removed or re-registered ${removed.join(', ')} as inflow now has them (namespace ${namespace})`);
  }
  return {
    address: env.address,
    ...(options.uiPort !== undefined ? { uiUrl: `http://localhost:${options.uiPort}` } : {}),
    stop: () => env.teardown(),
  };
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
 * The CLI dev server as a ManagedProcess (the chaos suites', which kill it -9 and start it again),
 * on a SQLite file so a restart keeps every workflow (in memory without `dbFile`), with inflow's
 * search attributes. Returned not yet started.
 */
export async function supervisedTemporalDevServer(options: { port: number; dbFile?: string; logFile: string; log: Log }): Promise<ManagedProcess> {
  const cli = await ensureTemporalCli(options.log);
  if (!cli) throw new Error('a supervised Temporal dev server is the Temporal CLI: put `temporal` on PATH, or install Go so `npm run tools` can build it');
  const address = `127.0.0.1:${options.port}`;
  const dynamicConfig = ['frontend.enableUpdateWorkflowExecution=true', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true'];
  return new ManagedProcess({
    name: 'temporal',
    command: cli,
    args: [
      ...['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--headless'],
      ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
      ...['--namespace', 'default', '--log-format', 'json', '--log-level', 'warn'],
      ...dynamicConfig.flatMap((value) => ['--dynamic-config-value', value]),
      ...Object.values(searchAttributes).flatMap(({ name, type }) => ['--search-attribute', `${name}=${TypedSearchAttributes.toMetadataType(type)}`]),
    ],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    logFile: options.logFile,
    ready: () => temporalAnswers(address),
    readyTimeoutMs: 60_000,
  });
}

async function temporalAnswers(address: string): Promise<boolean> {
  const timeoutMs = 2_000;
  const connection = await Connection.connect({ address, connectTimeout: timeoutMs, interceptors: [] });
  try {
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.describeNamespace({ namespace: 'default' }));
    return true;
  } finally {
    await connection.close();
  }
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
