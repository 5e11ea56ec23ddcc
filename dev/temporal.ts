/**
 * A Temporal dev server (the CLI's `server start-dev`) managed through the SDK's ephemeral-server
 * support, which spawns it and stops it on teardown. The binary comes from ensureTemporalCli;
 * when that finds none the SDK downloads one, where the internet is reachable.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { searchAttributes } from '../src/workflows/definitions';
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
  for (const namespace of options.extraNamespaces ?? []) {
    await env.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(Object.values(searchAttributes).map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!])),
    });
  }
  return {
    address: env.address,
    ...(options.uiPort !== undefined ? { uiUrl: `http://localhost:${options.uiPort}` } : {}),
    stop: () => env.teardown(),
  };
}
