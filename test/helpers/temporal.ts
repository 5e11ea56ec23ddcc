import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { searchAttributeTypes } from '../../dev/temporal';
import { readTestEnv } from './test-env';

/**
 * The time-skipping test server: the project's Java launcher when global-setup provided one, else
 * the SDK's own download (for machines with internet and no Java).
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const launcher = readTestEnv('testServer');
  const env = await TestWorkflowEnvironment.createTimeSkipping(launcher ? { server: { executable: { type: 'existing-path', path: launcher } } } : {});
  // Workflows start with and upsert inflow's search attributes; the test server refuses ones it has
  // not registered, so it must know them, as the dev server does. (It implements AddSearchAttributes
  // but not ListSearchAttributes; every environment is new, so adding is enough.)
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes: searchAttributeTypes() });
  return env;
}

/**
 * Namespaces of their own on the run's dev server, for test files that run a chain watcher: two
 * devnets started the same way make the same transaction hashes, so their watchers and deposits
 * would share workflow ids (`watcher:test:ethereum`, `deposit:test:ethereum:0x…`) in one namespace.
 */
export const isolatedNamespaces = {
  chainWatcher: 'chain-watcher',
  tronWatcher: 'tron-watcher',
  ordersOnChain: 'orders-on-chain',
  lateMoney: 'late-money',
  archivedCustomerWatcher: 'archived-customer-watcher',
  /** Schedules are per namespace: the maintenance test owns its schedule's. */
  maintenance: 'maintenance',
} as const;

/** Client and worker connections to the run's shared Temporal dev server (its default namespace unless given one). */
export async function connectToDevServer(namespace = 'default'): Promise<{ client: Client; nativeConnection: NativeConnection; close(): Promise<void> }> {
  const address = readTestEnv('temporalAddress');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection, namespace }),
    nativeConnection,
    close: async () => {
      await nativeConnection.close();
      await connection.close();
    },
  };
}

/** A task queue no other test file uses, so workers of parallel files never steal each other's tasks. */
export function uniqueTaskQueue(label: string): string {
  return `test-${label}-${randomBytes(4).toString('hex')}`;
}
