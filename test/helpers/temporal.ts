import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { searchAttributes } from '../../src/workflows/definitions';
import { readTestEnv } from './test-env';

/**
 * The time-skipping test server: the project's Java launcher when global-setup provided one, else
 * the SDK's own download (for machines with internet and no Java).
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const launcher = readTestEnv('testServer');
  const env = await TestWorkflowEnvironment.createTimeSkipping(launcher ? { server: { executable: { type: 'existing-path', path: launcher } } } : {});
  // Workflows upsert inflow's search attributes; the test server must know them, as the dev server does.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.values(searchAttributes).map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!])),
  });
  return env;
}

/** Client and worker connections to the run's shared Temporal dev server. */
export async function connectToDevServer(): Promise<{ client: Client; nativeConnection: NativeConnection; close(): Promise<void> }> {
  const address = readTestEnv('temporalAddress');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection, namespace: 'default' }),
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
