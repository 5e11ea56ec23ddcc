import { WorkflowNotFoundError } from '@temporalio/client';
import { completeDeposit, recordConfirmations, recordDetectedDeposit } from '../../src/deposits/transitions';
import { describeWorkflow } from '../../src/workflows/client';
import { confirmationSignal, depositStateQuery, depositWorkflowId, simulationWorkflowId, type DepositTransfer } from '../../src/workflows/definitions';
import { depositWorkflow } from '../../src/workflows/deposit.workflow';
import { startMetadata } from '../../src/workflows/metadata';
import { simulatedConfirmationsWorkflow } from '../../src/workflows/simulated-confirmations.workflow';
import { buildTransfer } from '../../dev/fixtures';
import { waitFor } from '../helpers/wait';
import { useTimeSkippingStack } from '../helpers/time-skipping';

/**
 * The real deposit workflow and the real activities against a real Postgres, on the
 * time-skipping server: hours of confirmations and days of timeouts pass in milliseconds.
 */
describe('depositWorkflow (time-skipping, real activities and Postgres)', () => {
  const stack = useTimeSkippingStack('deposits');
  const { taskQueue } = stack;

  // With the search attributes and summary client.ts starts it with: the test server takes them too.
  const start = (transfer: DepositTransfer, extra: { noProgressTimeout?: string; reversalWindow?: string } = {}) =>
    stack.env.client.workflow.start(depositWorkflow, {
      taskQueue,
      workflowId: depositWorkflowId(transfer),
      args: [{ transfer, ...extra }],
      ...startMetadata('depositWorkflow', [{ transfer, ...extra }]),
    });
  /** The one line the Web UI shows for the deposit now. */
  const currentDetails = async (transfer: DepositTransfer) => (await describeWorkflow(stack.env.client, depositWorkflowId(transfer))).currentDetails;

  const simulate = (transfer: DepositTransfer, outcome: 'completed' | 'failed', blockTimeMs = 12_000) =>
    stack.env.client.workflow.start(simulatedConfirmationsWorkflow, {
      taskQueue,
      workflowId: simulationWorkflowId(depositWorkflowId(transfer)),
      args: [
        {
          depositWorkflowId: depositWorkflowId(transfer),
          requiredConfirmations: transfer.requiredConfirmations,
          blockTimeMs,
          blockHash: transfer.blockHash!,
          outcome,
        },
      ],
    });

  const deposit = (id: string) => stack.database.db.selectFrom('deposits').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const eventsOf = async (id: string) =>
    (await stack.database.db.selectFrom('events').select(['type', 'data']).orderBy('id').execute())
      .filter((event) => (event.data as { id?: string }).id === id)
      .map((event) => event.type);
  const ledgerOf = (id: string) =>
    stack.database.db
      .selectFrom('ledger_entries')
      .innerJoin('ledger_transactions', 'ledger_transactions.id', 'ledger_entries.transaction_id')
      .select(['ledger_transactions.kind', 'ledger_entries.account', 'ledger_entries.amount'])
      .where('ledger_transactions.deposit_id', '=', id)
      .orderBy('ledger_entries.id')
      .execute();

  it('completes after 12 confirmations at 12 s each, with the flat fee booked once', async () => {
    const transfer = buildTransfer(stack.seeded, { amount: '25.5', requiredConfirmations: 12 });
    const handle = await start(transfer);
    await simulate(transfer, 'completed');
    const state = await handle.result();

    expect(state).toMatchObject({ status: 'completed', confirmations: 12, requiredConfirmations: 12, reversed: false });
    expect(await describeWorkflow(stack.env.client, depositWorkflowId(transfer))).toMatchObject({
      status: 'COMPLETED',
      staticSummary: `Deposit ${transfer.depositId}: 25.5 USDT on ethereum to ${transfer.customerId} (test mode, simulated)`,
      currentDetails: `25.5 USDT to ${transfer.customerId} — completed, 12/12`,
    });
    expect(await deposit(transfer.depositId)).toMatchObject({
      status: 'completed',
      amount: '25500000',
      fee: '2000000',
      net_amount: '23500000',
      price_usd: '1.00',
      amount_usd_cents: '2550',
      fee_usd_cents: '200',
      confirmations: 12,
      completed_at: expect.any(Date),
    });
    expect(await ledgerOf(transfer.depositId)).toEqual([
      { kind: 'deposit', account: 'customer_deposits', amount: '-25500000' },
      { kind: 'deposit', account: 'merchant_balance', amount: '23500000' },
      { kind: 'deposit', account: 'platform_fees', amount: '2000000' },
    ]);
    expect(await eventsOf(transfer.depositId)).toEqual(['deposit.detected', 'deposit.confirming', 'deposit.completed']);
  });

  it('fails with reason reorg, and books nothing, when the block is reorganised away before completion', async () => {
    const transfer = buildTransfer(stack.seeded, { amount: '10', requiredConfirmations: 12 });
    const handle = await start(transfer);
    await simulate(transfer, 'failed');
    expect(await handle.result()).toMatchObject({ status: 'failed', failureReason: 'reorg', confirmations: 6 });
    expect(await currentDetails(transfer)).toBe(`10 USDT to ${transfer.customerId} — failed at 6/12: its block left the chain (reorg)`);
    expect(await deposit(transfer.depositId)).toMatchObject({ status: 'failed', failure_reason: 'reorg', fee: null });
    expect(await ledgerOf(transfer.depositId)).toEqual([]);
    expect(await eventsOf(transfer.depositId)).toEqual(['deposit.detected', 'deposit.confirming', 'deposit.failed']);
  });

  it('reverses a completed deposit whose block is reorganised away: the ledger nets to zero', async () => {
    const transfer = buildTransfer(stack.seeded, { network: 'ethereum', currency: 'ETH', amount: '0.5', requiredConfirmations: 3 });
    const handle = await start(transfer);
    // Awaiting the simulator lets the server skip its block times; then the third report lands.
    await (await simulate(transfer, 'completed')).result();
    await waitFor('deposit completed', async () => (await handle.query(depositStateQuery)).status === 'completed');
    // Running, yet completed: the Web UI must not show it as merely running.
    expect(await currentDetails(transfer)).toMatch(
      new RegExp(`^0\\.5 ETH to ${transfer.customerId} — completed, 3/3 \\(watching for reorgs until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\)$`),
    );
    await handle.signal(confirmationSignal, { confirmations: 4, blockHash: transfer.blockHash, canonical: false });
    expect(await handle.result()).toMatchObject({ status: 'failed', failureReason: 'reorg', reversed: true });
    expect(await currentDetails(transfer)).toBe(`0.5 ETH to ${transfer.customerId} — reversed: its block left the chain after completion`);

    const ledger = await ledgerOf(transfer.depositId);
    expect(ledger.map((entry) => entry.kind)).toEqual(['deposit', 'deposit', 'deposit', 'reversal', 'reversal', 'reversal']);
    const byAccount = new Map<string, bigint>();
    for (const entry of ledger) byAccount.set(entry.account, (byAccount.get(entry.account) ?? 0n) + BigInt(entry.amount));
    expect([...byAccount.values()]).toEqual([0n, 0n, 0n]);
    expect(await eventsOf(transfer.depositId)).toEqual(['deposit.detected', 'deposit.confirming', 'deposit.completed', 'deposit.reversed']);
    expect(await deposit(transfer.depositId)).toMatchObject({ status: 'failed', failure_reason: 'reorg', reversed_at: expect.any(Date) });
  });

  it('fails with reason timeout after 24 hours without a confirmation', async () => {
    const transfer = buildTransfer(stack.seeded, { amount: '3' });
    const handle = await start(transfer);
    expect(await handle.result()).toMatchObject({ status: 'failed', failureReason: 'timeout', confirmations: 0 });
    expect(await currentDetails(transfer)).toMatch(/ — failed at 0\/12: timed out waiting for confirmations/);
    expect(await deposit(transfer.depositId)).toMatchObject({ status: 'failed', failure_reason: 'timeout' });
    expect(await eventsOf(transfer.depositId)).toEqual(['deposit.detected', 'deposit.failed']);
  });

  it('runs one workflow and books once when the same transfer is signalled-with-start twice', async () => {
    const transfer = buildTransfer(stack.seeded, { amount: '7', requiredConfirmations: 2 });
    const workflowId = depositWorkflowId(transfer);
    const again = { ...transfer, depositId: 'dep_from_a_second_detection' };
    const detect = (input: DepositTransfer) =>
      stack.env.client.workflow.signalWithStart(depositWorkflow, {
        taskQueue,
        workflowId,
        args: [{ transfer: input }],
        signal: confirmationSignal,
        signalArgs: [{ confirmations: 1, blockHash: transfer.blockHash, canonical: true }],
      });
    // A watcher that restarts reports the same transfer again, with an id of its own.
    const first = await detect(transfer);
    const second = await detect(again);
    expect(second.signaledRunId).toBe(first.signaledRunId);
    await first.signal(confirmationSignal, { confirmations: 2, blockHash: transfer.blockHash, canonical: true });
    expect(await first.result()).toMatchObject({ status: 'completed' });

    const rows = await stack.database.db.selectFrom('deposits').select('id').where('transaction_hash', '=', transfer.transactionHash).execute();
    expect(rows).toEqual([{ id: transfer.depositId }]);
    expect((await ledgerOf(transfer.depositId)).filter((entry) => entry.kind === 'deposit')).toHaveLength(3);
  });

  it('returns the event a transition already wrote when its activity is retried, so its webhooks still go out', async () => {
    const transfer = buildTransfer(stack.seeded, { amount: '9', requiredConfirmations: 1 });
    const detected = await recordDetectedDeposit(stack.database.db, transfer);
    expect((await recordDetectedDeposit(stack.database.db, transfer)).eventId).toBe(detected.eventId);
    const confirming = await recordConfirmations(stack.database.db, transfer.depositId, { confirmations: 1, blockHash: transfer.blockHash, first: true });
    expect((await recordConfirmations(stack.database.db, transfer.depositId, { confirmations: 1, blockHash: transfer.blockHash, first: true })).eventId).toBe(
      confirming.eventId,
    );
    const completed = await completeDeposit(stack.database.db, transfer.depositId, { confirmations: 1, priceUsd: '1.00' });
    const retried = await completeDeposit(stack.database.db, transfer.depositId, { confirmations: 1, priceUsd: '1.00' });
    expect(completed.eventId).toMatch(/^evt_/);
    expect(retried.eventId).toBe(completed.eventId);
    expect(await ledgerOf(transfer.depositId)).toHaveLength(3);
  });

  it('changes nothing when a signal names a deposit that does not exist', async () => {
    const before = await stack.database.db
      .selectFrom('deposits')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    const stranger = stack.env.client.workflow.getHandle('deposit:test:ethereum:0xnothing:0');
    await expect(stranger.signal(confirmationSignal, { confirmations: 12, blockHash: null, canonical: true })).rejects.toThrow(WorkflowNotFoundError);
    const after = await stack.database.db
      .selectFrom('deposits')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    expect(after.count).toBe(before.count);
  });
});
