import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { buildOrder, buildOrderTransfer } from '../../dev/fixtures';
import { saveCursor } from '../../src/chains/chains.repository';
import { completeDeposit, failDeposit, recordDetectedDeposit, reverseDeposit } from '../../src/deposits/transitions';
import { PAYMENT_GRACE_MS } from '../../src/domain/order-state';
import { findOrderById } from '../../src/orders/orders.repository';
import type { OrderObject } from '../../src/orders/orders.schema';
import { orderWorkflowInput } from '../../src/orders/orders.service';
import { cancelOrder, evaluateOrder } from '../../src/orders/settlement';
import { describeWorkflow } from '../../src/workflows/client';
import {
  activityFailureTypes,
  cancelOrderUpdate,
  depositWorkflowId,
  orderStateQuery,
  orderWorkflowId,
  simulationWorkflowId,
  type DepositTransfer,
} from '../../src/workflows/definitions';
import { depositWorkflow } from '../../src/workflows/deposit.workflow';
import { startMetadata } from '../../src/workflows/metadata';
import { orderWorkflow } from '../../src/workflows/order.workflow';
import { simulatedConfirmationsWorkflow } from '../../src/workflows/simulated-confirmations.workflow';
import { useTimeSkippingStack } from '../helpers/time-skipping';
import { waitFor } from '../helpers/wait';

const MINUTE = 60_000;

/**
 * The real order and deposit workflows with the real activities against a real Postgres, on the
 * time-skipping server: an order's 15-minute (or 7-day) expiry and every payment's confirmations
 * pass in workflow time.
 */
describe('orderWorkflow (time-skipping, real activities and Postgres)', () => {
  const stack = useTimeSkippingStack('orders');
  const { taskQueue } = stack;

  /** An order made as POST /orders makes it, and its workflow started as the API starts it. */
  async function startOrder(input: { amount?: string; expires_in?: number; network?: 'ethereum' | 'polygon' } = {}) {
    // Expiring from the test server's clock, which every skipped hour of earlier tests moved on.
    const now = await stack.env.currentTimeMs();
    const { order, eventId } = await buildOrder(stack.database.db, stack.seeded.tenant, { amount: '100', ...input }, { now });
    const workflowInput = orderWorkflowInput(stack.seeded.tenant, order, eventId);
    const handle = await stack.env.client.workflow.start(orderWorkflow, {
      taskQueue,
      workflowId: orderWorkflowId({ livemode: false, orderId: order.id }),
      args: [workflowInput],
      ...startMetadata('orderWorkflow', [workflowInput]),
    });
    /** The Web UI's line for the order now. */
    const details = async () => (await describeWorkflow(stack.env.client, handle.workflowId)).currentDetails;
    return { order, handle, details, externalId: workflowInput.externalId };
  }

  /**
   * A payment to the order's address: its own deposit workflow, confirmed one 12 s block at a time.
   * Resolves once the payment is recorded: the time-skipping server skips time even while an
   * activity runs, so a test that lets time pass must first see the payment detected.
   */
  async function pay(order: OrderObject, amount: string, options: { blockTime?: number } = {}) {
    // Made now on the test server's clock (which skipped hours), unless the test says when.
    const blockTime = options.blockTime ?? (await stack.env.currentTimeMs());
    const transfer: DepositTransfer = buildOrderTransfer(stack.seeded.tenant, order, { amount, requiredConfirmations: 12, blockTime });
    const deposit = await stack.env.client.workflow.start(depositWorkflow, {
      taskQueue,
      workflowId: depositWorkflowId(transfer),
      // No reversal window: the deposit's result marks its completion.
      args: [{ transfer, reversalWindow: 0 }],
    });
    await stack.env.client.workflow.start(simulatedConfirmationsWorkflow, {
      taskQueue,
      workflowId: simulationWorkflowId(depositWorkflowId(transfer)),
      args: [
        {
          depositWorkflowId: depositWorkflowId(transfer),
          requiredConfirmations: 12,
          blockTimeMs: 12_000,
          blockHash: transfer.blockHash!,
          outcome: 'completed',
        },
      ],
    });
    await waitForDeposit(transfer.depositId, ['detected', 'confirming', 'completed']);
    return { transfer, deposit };
  }

  const waitForDeposit = (id: string, statuses: string[]) =>
    waitFor(`deposit ${id} ${statuses.join(' or ')}`, async () => {
      const found = await stack.database.db.selectFrom('deposits').select('status').where('id', '=', id).executeTakeFirst();
      return found !== undefined && statuses.includes(found.status);
    });

  const row = (id: string) => findOrderById(stack.database.db, id).then((order) => order!);
  const depositRow = (id: string) => stack.database.db.selectFrom('deposits').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const orderEvents = async (id: string) =>
    (await stack.database.db.selectFrom('events').select(['type', 'data']).orderBy('id').execute())
      .filter((event) => (event.data as { id?: string }).id === id)
      .map((event) => event.type);

  it('a 15-minute order paid at 14:59 completes once the payment is confirmed, after the expiry', async () => {
    const { order, handle } = await startOrder();
    await stack.env.sleep(14 * MINUTE + 59_000);
    const { transfer } = await pay(order, '100');
    expect(await handle.result()).toEqual({ orderId: order.id, status: 'completed' });
    expect(await row(order.id)).toMatchObject({ status: 'completed', late: false, completed_at: expect.any(Date) });
    // The expiry timer (15 minutes and the one-minute grace) fired before the payment's 12 blocks × 12 s were over, and the order waited for it.
    const events = (await handle.fetchHistory()).events!;
    const expiry = events.findIndex((event) => event.timerFiredEventAttributes);
    const evaluations = events.flatMap((event, index) => (event.activityTaskScheduledEventAttributes?.activityType?.name === 'evaluateOrder' ? [index] : []));
    expect(expiry).toBeGreaterThan(-1);
    expect(evaluations.at(-1)).toBeGreaterThan(expiry);
    expect(await depositRow(transfer.depositId)).toMatchObject({ order_id: order.id, customer_id: null, status: 'completed', fee: '2000000' });
    expect(await orderEvents(order.id)).toEqual(['order.created', 'order.completed']);
  });

  it('paid in two parts, completes on the second', async () => {
    const { order, handle } = await startOrder();
    await stack.env.sleep(MINUTE);
    const first = await pay(order, '40');
    // Three minutes pass (the payment's 144 s of blocks); the order's expiry is twelve away.
    await stack.env.sleep(3 * MINUTE);
    await waitForDeposit(first.transfer.depositId, ['completed']);
    expect(await handle.query(orderStateQuery)).toEqual({ orderId: order.id, status: 'pending' });
    expect((await row(order.id)).status).toBe('pending');
    const second = await pay(order, '60');
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    const deposits = await stack.database.db.selectFrom('deposits').select(['id', 'status']).where('order_id', '=', order.id).orderBy('created_at').execute();
    expect(deposits).toEqual([
      { id: first.transfer.depositId, status: 'completed' },
      { id: second.transfer.depositId, status: 'completed' },
    ]);
  });

  it('paid more than its amount, completes overpaid', async () => {
    const { order, handle } = await startOrder();
    await pay(order, '150');
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    const event = await stack.database.db
      .selectFrom('events')
      .select('data')
      .where('type', '=', 'order.completed')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(event.data).toMatchObject({ id: order.id, status: 'completed', overpaid: true, amount: '100.000000', amount_received: '150.000000' });
  });

  it('half paid by the expiry ends underpaid', async () => {
    const { order, handle } = await startOrder();
    await pay(order, '50');
    expect(await handle.result()).toMatchObject({ status: 'underpaid' });
    expect(await row(order.id)).toMatchObject({ status: 'underpaid', completed_at: null });
    expect(await orderEvents(order.id)).toEqual(['order.created', 'order.underpaid']);
  });

  it('unpaid ends expired', async () => {
    const { order, handle, details, externalId } = await startOrder();
    expect(await details()).toMatch(new RegExp(`^Order ${order.id} \\(${externalId}\\) — pending; settles at .+ UTC unless paid in full before$`));
    expect(await handle.result()).toMatchObject({ status: 'expired' });
    expect(await details()).toBe(`Order ${order.id} (${externalId}) — expired`);
    expect(await orderEvents(order.id)).toEqual(['order.created', 'order.expired']);
  });

  it('paid after the expiry: the deposit is credited, and the order stays expired, marked late', async () => {
    const { order, handle } = await startOrder();
    expect(await handle.result()).toMatchObject({ status: 'expired' });
    const { transfer, deposit } = await pay(order, '100');
    expect(await deposit.result()).toMatchObject({ status: 'completed' });
    expect(await depositRow(transfer.depositId)).toMatchObject({ status: 'completed', net_amount: '98000000' });
    expect(await row(order.id)).toMatchObject({ status: 'expired', late: true });
    const ledger = await stack.database.db.selectFrom('ledger_transactions').select('kind').where('deposit_id', '=', transfer.depositId).execute();
    expect(ledger).toEqual([{ kind: 'deposit' }]);
  });

  it("a 7-day order's timer passes in workflow time", async () => {
    const { order, handle } = await startOrder({ expires_in: 7 * 24 * 60 * 60 });
    // Seven days without time skipping would outlast jest's one-minute timeout many times over.
    expect(await handle.result()).toMatchObject({ status: 'expired' });
    expect((await row(order.id)).expires_at.getTime() - Date.parse(order.created_at)).toBeGreaterThanOrEqual(7 * 24 * 60 * MINUTE);
  });

  describe('time is the chain’s', () => {
    // On polygon, so that no other test's order waits for a watcher: only these have a cursor there.
    const readThrough = (time: number) => saveCursor(stack.database.db, false, 'polygon', 100, 100, `0x${'ab'.repeat(32)}`, new Date(time));
    afterEach(() => stack.database.db.deleteFrom('chain_cursors').execute());

    it('past its deadline, an order waits for its chain to be read past it; a payment made in time but found later completes it, not late', async () => {
      const { order, handle, details } = await startOrder({ network: 'polygon' });
      const deadline = Date.parse(order.expires_at) + PAYMENT_GRACE_MS;
      await readThrough(deadline - MINUTE);
      await stack.env.sleep(17 * MINUTE);
      expect(await handle.query(orderStateQuery)).toMatchObject({ status: 'pending' });
      expect(await details()).toMatch(/past its deadline: waiting for the polygon watcher to read past it$/);
      // Its block was made two minutes before the expiry; a lagging watcher finds it now.
      await pay(order, '100', { blockTime: Date.parse(order.expires_at) - 2 * MINUTE });
      expect(await handle.result()).toEqual({ orderId: order.id, status: 'completed' });
      expect(await row(order.id)).toMatchObject({ status: 'completed', late: false });
    });

    it('settles as expired once its chain has been read past the deadline', async () => {
      const { order, handle } = await startOrder({ network: 'polygon' });
      const deadline = Date.parse(order.expires_at) + PAYMENT_GRACE_MS;
      await readThrough(deadline - MINUTE);
      await stack.env.sleep(17 * MINUTE);
      expect(await handle.query(orderStateQuery)).toMatchObject({ status: 'pending' });
      await readThrough(deadline + 1_000);
      expect(await handle.result()).toEqual({ orderId: order.id, status: 'expired' });
      expect(await orderEvents(order.id)).toEqual(['order.created', 'order.expired']);
    });

    it('a payment whose block was made after the deadline does not count, and marks the order late', async () => {
      const { order, handle } = await startOrder({ network: 'polygon' });
      const deadline = Date.parse(order.expires_at) + PAYMENT_GRACE_MS;
      await readThrough(deadline - MINUTE);
      await stack.env.sleep(17 * MINUTE);
      const { deposit } = await pay(order, '100', { blockTime: deadline + 1_000 });
      expect(await deposit.result()).toMatchObject({ status: 'completed' });
      expect(await row(order.id)).toMatchObject({ status: 'pending', late: true });
      await readThrough(deadline + 2_000);
      expect(await handle.result()).toEqual({ orderId: order.id, status: 'expired' });
    });

    it('an order paid in full before its workflow started settles when it starts, not at its expiry', async () => {
      const now = await stack.env.currentTimeMs();
      const { order, eventId } = await buildOrder(stack.database.db, stack.seeded.tenant, { amount: '100' }, { now });
      const transfer = buildOrderTransfer(stack.seeded.tenant, order, { amount: '100', blockTime: now });
      await recordDetectedDeposit(stack.database.db, transfer);
      await completeDeposit(stack.database.db, transfer.depositId, { confirmations: 12, priceUsd: '1.00' });
      const workflowInput = orderWorkflowInput(stack.seeded.tenant, order, eventId);
      const handle = await stack.env.client.workflow.start(orderWorkflow, {
        taskQueue,
        workflowId: orderWorkflowId({ livemode: false, orderId: order.id }),
        args: [workflowInput],
      });
      expect(await handle.result()).toEqual({ orderId: order.id, status: 'completed' });
      // Settled by the evaluation at its start: no expiry timer ever fired.
      expect((await handle.fetchHistory()).events!.some((event) => event.timerFiredEventAttributes)).toBe(false);
    });

    it('a settled order follows its payments: a late completion completes it, a reversal takes that away, each with its event', async () => {
      const now = await stack.env.currentTimeMs();
      const { order } = await buildOrder(stack.database.db, stack.seeded.tenant, { amount: '100' }, { now });
      const transfer = buildOrderTransfer(stack.seeded.tenant, order, { amount: '100', blockTime: now });
      await recordDetectedDeposit(stack.database.db, transfer);
      await failDeposit(stack.database.db, transfer.depositId, 'timeout');
      expect(await evaluateOrder(stack.database.db, order.id, true)).toMatchObject({ status: 'expired' });
      // The timed-out payment was made in time, and the chain now shows it final.
      await completeDeposit(stack.database.db, transfer.depositId, { confirmations: 12, priceUsd: '1.00' });
      expect(await row(order.id)).toMatchObject({ status: 'completed', late: false, completed_at: expect.any(Date) });
      await reverseDeposit(stack.database.db, transfer.depositId);
      expect(await row(order.id)).toMatchObject({ status: 'expired', completed_at: null });
      expect(await orderEvents(order.id)).toEqual(['order.created', 'order.expired', 'order.completed', 'order.expired']);
    });
  });

  it('a settlement or a cancel retried after its commit returns the event it wrote and the same deliveries, so the workflow still delivers it', async () => {
    const { order, handle } = await startOrder();
    expect(await handle.result()).toMatchObject({ status: 'expired' });
    const [first, again] = [await evaluateOrder(stack.database.db, order.id, true), await evaluateOrder(stack.database.db, order.id, true)];
    expect(first).toEqual({ status: 'expired', eventId: expect.stringMatching(/^evt_/), deliveries: expect.any(Array) });
    expect(again).toEqual(first);

    // An order canceled twice by the activity, as a retry after a lost result would (no workflow needed for it).
    const { order: other } = await buildOrder(stack.database.db, stack.seeded.tenant, { amount: '100' });
    const canceled = await cancelOrder(stack.database.db, other.id);
    expect(canceled).toEqual({ status: 'canceled', eventId: expect.stringMatching(/^evt_/), deliveries: expect.any(Array) });
    expect(await cancelOrder(stack.database.db, other.id)).toEqual(canceled);
  });

  describe('cancel (a Temporal Update: the workflow gives the verdict)', () => {
    it('cancels a pending order with nothing paid', async () => {
      const { order, handle, details, externalId } = await startOrder();
      expect(await handle.executeUpdate(cancelOrderUpdate)).toEqual({ orderId: order.id, status: 'canceled' });
      expect(await handle.result()).toEqual({ orderId: order.id, status: 'canceled' });
      expect(await details()).toBe(`Order ${order.id} (${externalId}) — canceled`);
      expect(await orderEvents(order.id)).toEqual(['order.created', 'order.canceled']);
    });

    it('refuses once a payment has been detected, and the order completes', async () => {
      const { order, handle } = await startOrder();
      const { transfer } = await pay(order, '100');
      // The deposit workflow's first activity records the payment; then the cancel is asked for.
      await waitFor(
        'the payment recorded',
        async () => (await stack.database.db.selectFrom('deposits').select('id').where('id', '=', transfer.depositId).execute()).length === 1,
      );
      const refusal = await handle.executeUpdate(cancelOrderUpdate).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(failureType(refusal as Error)).toBe(activityFailureTypes.orderNotCancelable);
      expect(await handle.result()).toMatchObject({ status: 'completed' });
    });
  });
});

function failureType(error: Error): string | undefined {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure) return cause.type ?? undefined;
  }
  return undefined;
}
