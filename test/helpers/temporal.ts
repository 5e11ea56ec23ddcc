import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { startTimeSkippingServer } from '../../dev/temporal';
import { readTestEnv } from './test-env';

/** The project's Java launcher of the time-skipping test server when global-setup provided one (else the SDK downloads its own). */
export const timeSkippingLauncher = (): string | undefined => readTestEnv('testServer') || undefined;

/** The time-skipping test server, inflow's search attributes registered. */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return startTimeSkippingServer(timeSkippingLauncher());
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
  checkout: 'checkout',
  treasury: 'treasury',
  tronTreasury: 'tron-treasury',
  payouts: 'payouts',
  tronPayouts: 'tron-payouts',
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
