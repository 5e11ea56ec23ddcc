import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { buildTransfer, staticPrices } from '../../dev/fixtures';
import type { Mode } from '../../src/domain/mode';
import type { PriceSource } from '../../src/prices/price-source';
import { describeWorkflow } from '../../src/workflows/client';
import { activityFailureTypes, depositWorkflowId, webhookDeliveryWorkflowId } from '../../src/workflows/definitions';
import { depositWorkflow } from '../../src/workflows/deposit.workflow';
import { webhookDeliveryWorkflow } from '../../src/workflows/webhook-delivery.workflow';
import { useTimeSkippingStack } from '../helpers/time-skipping';
import { waitFor } from '../helpers/wait';

/**
 * What no retry can fix fails at once, typed, with a clear message (what an operator reads in the
 * Web UI); what an operator can repair while a deposit waits (a price feed) never loses the deposit.
 * On the time-skipping server an activity retried forever would leave result() pending: these
 * tests would time out instead of passing.
 */
describe('typed activity failures (time-skipping, real activities and Postgres)', () => {
  // A price source that answers nonsense until the test repairs it.
  let answer = 'call me later';
  const real = staticPrices();
  const repairable = (mode: Mode): PriceSource => ({
    priceUsd: async (network, currency) => (answer === 'real' ? real[mode].priceUsd(network, currency) : answer),
  });
  const stack = useTimeSkippingStack('typed-failures', { prices: { test: repairable('test'), live: repairable('live') } });

  /**
   * The ApplicationFailure an activity failed a workflow with: the cause of an ActivityFailure, or
   * for a local activity (attempts and deposit steps), the workflow's failure itself.
   */
  const activityFailureOf = async (result: Promise<unknown>): Promise<ApplicationFailure> => {
    const error = await result.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    const failure = cause instanceof ActivityFailure ? cause.cause : cause;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    return failure as ApplicationFailure;
  };

  it('a delivery that does not exist fails its workflow at once with DeliveryNotFound, not after endless retries', async () => {
    const delivery = {
      deliveryId: 'whdel_missing',
      eventId: 'evt_missing',
      destinationId: 'we_missing',
      destinationType: 'endpoint',
      eventType: 'customer.created',
      merchantId: 'mch_missing',
    } as const;
    const handle = await stack.env.client.workflow.start(webhookDeliveryWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: webhookDeliveryWorkflowId(delivery, true),
      args: [delivery],
    });
    const failure = await activityFailureOf(handle.result());
    expect(failure).toMatchObject({ type: activityFailureTypes.deliveryNotFound, message: 'delivery whdel_missing does not exist', nonRetryable: true });
  });

  it('a price that does not parse holds the deposit (never fails it) until the source is repaired, then it completes', async () => {
    const transfer = buildTransfer(stack.seeded, { amount: '10', requiredConfirmations: 1 });
    const handle = await stack.env.client.workflow.start(depositWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: depositWorkflowId(transfer),
      args: [{ transfer, reversalWindow: 0 }],
    });
    await handle.signal('confirmation', { confirmations: 1, blockHash: transfer.blockHash, canonical: true });
    // The lookup failed, typed and at once, and the deposit waits (one report takes it from detected to completion) instead of failing.
    await waitFor('the unparseable price is in the history', async () => {
      const history = await handle.fetchHistory();
      // A local activity's failure is recorded in its marker.
      return (history.events ?? []).some(
        (event) =>
          (event.markerRecordedEventAttributes?.failure ?? event.activityTaskFailedEventAttributes?.failure)?.applicationFailureInfo?.type ===
          activityFailureTypes.priceUnparseable,
      );
    });
    const deposit = () => stack.database.db.selectFrom('deposits').select(['status', 'fee']).where('id', '=', transfer.depositId).executeTakeFirstOrThrow();
    expect(await deposit()).toMatchObject({ status: 'detected', fee: null });
    // And the Web UI says what it waits for.
    const details = async () => (await describeWorkflow(stack.env.client, handle.workflowId)).currentDetails ?? '';
    await waitFor('the deposit says it waits for a price', async () => (await details()).includes('waiting for a usable price'));
    expect(await details()).toMatch(/ — detected, 1\/1; waiting for a usable price, asking again at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);

    answer = 'real';
    // The time-skipping server jumps the five-minute pause: the next lookup reads the repaired source.
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    expect(await deposit()).toMatchObject({ status: 'completed', fee: '2000000' });
  });
});
