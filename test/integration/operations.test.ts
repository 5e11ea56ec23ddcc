import { Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { temporal } from '@temporalio/proto';
import { describeWorkflow, searchAttributeProblems } from '../../src/workflows/client';
import { registerSearchAttributes } from '../../dev/temporal';
import { depositWorkflowId, retiredSearchAttributes, searchAttributes, simulationWorkflowId } from '../../src/workflows/definitions';
import { useApiStack } from '../helpers/api-stack';
import { startReceiver } from '../helpers/receiver';
import { waitFor } from '../helpers/wait';

/**
 * What docs/operations.md tells an operator to do, done: the visibility queries find a simulated
 * deposit and its webhook deliveries by their ids, and each workflow reads as a one-liner
 * (static summary, current details) on the run's Temporal dev server, with inflow's own worker.
 */
describe('operating inflow from Temporal visibility (real worker, Temporal dev server, Postgres, HTTP receiver)', () => {
  const stack = useApiStack('operations');

  const call = async (method: string, path: string, json?: unknown) => {
    const response = await stack.api.request(`/api/v1${path}`, { method, key: stack.acme.test_key, ...(json !== undefined ? { json } : {}) });
    return (await response.json()) as any;
  };

  /** The workflows a visibility query finds, once `ready` holds for them: visibility is eventually consistent. */
  const listWhen = async (query: string, ready: (found: WorkflowExecutionInfo[]) => boolean): Promise<WorkflowExecutionInfo[]> => {
    let found: WorkflowExecutionInfo[] = [];
    await waitFor(`visibility: ${query}`, async () => {
      found = [];
      for await (const execution of stack.dev.client.workflow.list({ query })) found.push(execution);
      return ready(found);
    });
    return found;
  };

  it('finds a completed deposit by DepositId and its retried delivery by EventId and EndpointId, each with a summary and current details that read at a glance', async () => {
    // deposit.completed is refused once (a delivery workflow retries it); every other event is taken
    // at its first attempt, which the outbox relay makes without starting a workflow.
    let refused = false;
    const receiver = await startReceiver((request) => {
      if (refused || !request.rawBody.includes('"deposit.completed"')) return 200;
      refused = true;
      return 503;
    });
    try {
      const endpoint = await call('POST', '/webhook-endpoints', { url: receiver.url, events: ['*'] });
      const customer = await call('POST', '/customers', { email: 'ops@example.com' });
      const deposit = await call('POST', '/deposits/simulate', { customer_id: customer.id, network: 'ethereum', currency: 'USDT', amount: '25' });
      await waitFor('deposit completed', async () => (await call('GET', `/deposits/${deposit.id}`)).status === 'completed', 90_000);
      const completed = (await call('GET', '/events?type=deposit.completed')).data.find((event: any) => event.data.id === deposit.id);
      expect(completed).toBeDefined();

      // "Did event evt_… reach endpoint we_…?", for one that needed a retry.
      const [delivery] = await listWhen(
        `EventId = '${completed.id}' AND EndpointId = '${endpoint.id}'`,
        (found) => found.length === 1 && found[0]!.status.name === 'COMPLETED',
      );
      expect(delivery).toMatchObject({ type: 'webhookDeliveryWorkflow' });
      expect(delivery!.workflowId).toBe(`webhook:${completed.id}:${endpoint.id}`);
      expect(delivery!.typedSearchAttributes.get(searchAttributes.EventType)).toBe('deposit.completed');
      expect(delivery!.typedSearchAttributes.get(searchAttributes.MerchantId)).toBe(stack.acme.merchant_id);
      const deliveryOverview = await describeWorkflow(stack.dev.client, delivery!.workflowId);
      expect(deliveryOverview).toMatchObject({
        status: 'COMPLETED',
        staticSummary: `deposit.completed ${completed.id} → ${endpoint.id}`,
        currentDetails: `deposit.completed ${completed.id} → ${endpoint.id} — delivered 200 on attempt 2`,
      });
      expect(deliveryOverview.staticDetails).toContain('Delivery: wd_');
      // Its first attempt, made by the relay, is in the attempt log with the second.
      const attempts = (await call('GET', `/events/${completed.id}`)).deliveries[0].attempts;
      expect(attempts.map((attempt: any) => [attempt.attempt, attempt.status_code])).toEqual([
        [1, 503],
        [2, 200],
      ]);

      // "Which deliveries to we_… are failing?": none. The three taken at once have no workflow at all.
      expect(await listWhen(`EndpointId = '${endpoint.id}' AND ExecutionStatus = 'Running'`, () => true)).toEqual([]);
      const retried = await listWhen(`EndpointId = '${endpoint.id}'`, (found) => found.length >= 1);
      expect(retried.map((found) => found.typedSearchAttributes.get(searchAttributes.EventType))).toEqual(['deposit.completed']);
      expect(receiver.requests).toHaveLength(5);

      // "Where is deposit dep_…?": completed, still running while it watches for a reorg, and saying so.
      const [depositExecution] = await listWhen(
        `DepositId = '${deposit.id}' AND WorkflowType = 'depositWorkflow'`,
        (found) => found.length === 1 && found[0]!.typedSearchAttributes.get(searchAttributes.ObjectStatus) === 'completed',
      );
      const workflowId = depositWorkflowId({ livemode: false, network: 'ethereum', transactionHash: deposit.transaction_hash, logIndex: 0 });
      expect(depositExecution).toMatchObject({ workflowId, status: { name: 'RUNNING' } });
      expect(depositExecution!.typedSearchAttributes.get(searchAttributes.Network)).toEqual(['ethereum']);
      expect(depositExecution!.typedSearchAttributes.get(searchAttributes.CustomerId)).toBe(customer.id);
      const depositOverview = await describeWorkflow(stack.dev.client, workflowId);
      expect(depositOverview.staticSummary).toBe(`Deposit ${deposit.id}: 25 USDT on ethereum to ${customer.id} (test mode, simulated)`);
      expect(depositOverview.staticDetails).toContain(`Transaction: ${deposit.transaction_hash} (log 0)`);
      expect(depositOverview.currentDetails).toMatch(
        new RegExp(`^25 USDT to ${customer.id} — completed, 12/12 \\(watching for reorgs until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\)$`),
      );

      // The same query finds its simulated chain, which has reported every block.
      const [simulation] = await listWhen(
        `DepositId = '${deposit.id}' AND WorkflowType = 'simulatedConfirmationsWorkflow'`,
        (found) => found.length === 1 && found[0]!.status.name === 'COMPLETED',
      );
      expect(simulation!.workflowId).toBe(simulationWorkflowId(workflowId));
      expect(await describeWorkflow(stack.dev.client, simulation!.workflowId)).toMatchObject({
        staticSummary: expect.stringMatching(new RegExp(`^Simulated chain for deposit ${deposit.id}: 12 blocks, one every 10ms, to completion$`)),
        currentDetails: 'all 12 blocks reported',
      });

      // "Stuck confirming deposits": not this one. "All of merchant X's workflows": each of the above.
      expect(await listWhen(`ObjectStatus = 'confirming' AND MerchantId = '${stack.acme.merchant_id}'`, () => true)).toEqual([]);
      // The deposit, its chain, and the one delivery that was retried.
      const merchants = await listWhen(`MerchantId = '${stack.acme.merchant_id}'`, (found) => found.length >= 3);
      expect(merchants.map((found) => found.type).sort()).toEqual(['depositWorkflow', 'simulatedConfirmationsWorkflow', 'webhookDeliveryWorkflow']);
    } finally {
      await receiver.close();
    }
  });
});

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

describe('the search attributes a worker checks at start', () => {
  const stack = useApiStack('search-attribute-check');

  it('finds none missing on the dev server, and names each one a namespace lacks or types differently', async () => {
    const { connection } = stack.dev.client;
    expect(await searchAttributeProblems(stack.dev.client, stack.dev.client.options.namespace)).toEqual([]);

    // A namespace of its own, so changing its attributes disturbs no other test.
    const namespace = `sa-check-${Date.now()}`;
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const client = new Client({ connection, namespace });
    await waitFor(
      'the namespace is usable',
      async () => (await connection.operatorService.listSearchAttributes({ namespace }).catch(() => undefined)) !== undefined,
    );
    // A new namespace has none; register all but DepositId, and TxHash as a plain Keyword (as an older inflow did).
    const registered = Object.fromEntries(
      Object.values(searchAttributes)
        .filter((key) => key.name !== 'DepositId')
        .map((key) => [key.name, key.name === 'TxHash' ? KEYWORD : encodeSearchAttributeIndexedValueType(key.type)!]),
    );
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: registered });
    expect(await searchAttributeProblems(client, namespace)).toEqual([
      'DepositId is not registered (want KEYWORD)',
      'TxHash is registered with another type (want KEYWORD_LIST)',
    ]);
  });

  it("brings a namespace an older inflow set up to today's attributes: the retired statuses removed to make room for ObjectStatus and PayoutId", async () => {
    const { connection } = stack.dev.client;
    const namespace = `sa-retired-${Date.now()}`;
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await waitFor(
      'the namespace is usable',
      async () => (await connection.operatorService.listSearchAttributes({ namespace }).catch(() => undefined)) !== undefined,
    );
    // As an inflow before payouts registered them: DepositStatus and OrderStatus beside the ids, all 10 Keyword slots taken.
    const older = Object.fromEntries([
      ...Object.values(searchAttributes)
        .filter((key) => key.name !== 'PayoutId' && key.name !== 'ObjectStatus')
        .map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
      ...retiredSearchAttributes.map((name) => [name, KEYWORD]),
    ]);
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: older });
    expect(await searchAttributeProblems(new Client({ connection, namespace }), namespace)).toEqual([
      'PayoutId is not registered (want KEYWORD)',
      'ObjectStatus is not registered (want KEYWORD)',
    ]);

    expect(await registerSearchAttributes(connection, namespace)).toEqual({ removed: [...retiredSearchAttributes] });
    expect(await searchAttributeProblems(new Client({ connection, namespace }), namespace)).toEqual([]);
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    for (const name of retiredSearchAttributes) expect(customAttributes[name]).toBeUndefined();
  });
});
