import { existsSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { findOnPath } from '../../dev/tools/progress';
import { readTestEnv } from '../helpers/test-env';
import { sleepFor } from './fixtures/timers.workflow';

const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('is the Java server from Maven Central, started by the project launcher where Java and Maven exist', () => {
    const launcher = readTestEnv('testServer');
    if (findOnPath('java') && findOnPath('mvn')) {
      expect(launcher).toMatch(/\.tools\/test-server\/temporal-test-server$/);
      expect(existsSync(launcher)).toBe(true);
    }
    expect(env.supportsTimeSkipping).toBe(true);
  });

  it('skips a 30-day timer', async () => {
    const taskQueue = uniqueTaskQueue('timer');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/timers.workflow'),
    });
    const result = await worker.runUntil(env.client.workflow.execute(sleepFor, { taskQueue, workflowId: taskQueue, args: [{ duration: '30 days' }] }));
    // In workflow time the timer really lasted 30 days, within jest's one-minute test timeout.
    expect(result.sleptMs).toBeGreaterThanOrEqual(THIRTY_DAYS_MS);
  });
});
