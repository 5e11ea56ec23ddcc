/**
 * Workflows running when their worker is upgraded go on from their histories under the new code,
 * so every change to a workflow must replay what earlier versions recorded. The histories in
 * fixtures/histories were recorded by running inflow at the commit their file name starts with, on
 * the dev server: a simulated deposit announced by webhooks, an API event's dispatch, and a
 * delivery that failed once and then succeeded (`temporal workflow show -o json`). A change that
 * would break a deployed workflow fails here instead of in a rolling upgrade.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { depositWorkflowId, eventDispatchWorkflowId, webhookDeliveryWorkflowId, type Workflows } from '../../src/workflows/definitions';
import { bundleInflowWorkflows } from '../helpers/worker';

const historiesDir = path.join(__dirname, 'fixtures', 'histories');
const histories = readdirSync(historiesDir).filter((file) => file.endsWith('.json'));

describe('histories recorded by earlier versions replay on this one', () => {
  let workflowBundle: WorkflowBundleWithSourceMap;
  beforeAll(async () => {
    workflowBundle = await bundleInflowWorkflows();
  });

  it('has histories to replay', () => {
    expect(histories.length).toBeGreaterThanOrEqual(3);
  });

  it.each(histories)('%s', async (file) => {
    const json = JSON.parse(await readFile(path.join(historiesDir, file), 'utf8')) as RecordedHistory;
    await Worker.runReplayHistory({ workflowBundle }, historyFromJSON(json), workflowIdOf(json));
  });
});

interface RecordedHistory {
  events: Array<{ workflowExecutionStartedEventAttributes?: { workflowType: { name: string }; input: { payloads: Array<{ data: string }> } } }>;
}

/** The id the workflow ran under (its children's ids derive from it), named from its input as inflow names it. */
function workflowIdOf(history: RecordedHistory): string {
  const started = history.events[0]!.workflowExecutionStartedEventAttributes!;
  const input: unknown = JSON.parse(Buffer.from(started.input.payloads[0]!.data, 'base64').toString('utf8'));
  switch (started.workflowType.name as keyof Workflows) {
    case 'depositWorkflow':
      return depositWorkflowId((input as Parameters<Workflows['depositWorkflow']>[0]).transfer);
    case 'webhookDeliveryWorkflow':
      return webhookDeliveryWorkflowId(input as Parameters<Workflows['webhookDeliveryWorkflow']>[0], false);
    case 'eventDispatchWorkflow':
      return eventDispatchWorkflowId((input as Parameters<Workflows['eventDispatchWorkflow']>[0]).eventId);
    default:
      throw new Error(`no workflow id rule for ${started.workflowType.name}: add one here`);
  }
}
