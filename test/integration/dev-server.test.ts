import { Worker } from '@temporalio/worker';
import { searchAttributes } from '../../src/workflows/definitions';
import { connectToDevServer, uniqueTaskQueue } from '../helpers/temporal';
import { sleepFor } from '../workflows/fixtures/timers.workflow';

describe('Temporal dev server', () => {
  let dev: Awaited<ReturnType<typeof connectToDevServer>>;

  beforeAll(async () => {
    dev = await connectToDevServer();
  });

  afterAll(async () => {
    await dev?.close();
  });

  it('runs a workflow with a real timer on a real worker', async () => {
    const taskQueue = uniqueTaskQueue('dev');
    const worker = await Worker.create({
      connection: dev.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../workflows/fixtures/timers.workflow'),
    });
    const result = await worker.runUntil(dev.client.workflow.execute(sleepFor, { taskQueue, workflowId: taskQueue, args: [{ duration: '50 ms' }] }));
    expect(result.sleptMs).toBeGreaterThanOrEqual(50);
    const history = await dev.client.workflow.getHandle(taskQueue).fetchHistory();
    expect(history.events?.some((event) => event.timerFiredEventAttributes)).toBe(true);
  });

  it('has inflow search attributes registered', async () => {
    const response = await dev.client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    const registered = Object.keys(response.customAttributes ?? {});
    expect(registered).toEqual(expect.arrayContaining(Object.values(searchAttributes).map((key) => key.name)));
  });
});
