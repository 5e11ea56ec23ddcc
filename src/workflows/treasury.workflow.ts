/**
 * Sweeps (docs/treasury.md). A run plans the sweeps due on one network in one mode and runs each as
 * a child workflow; a sweep tops up gas when its token needs it (on Tron, or borrows energy from the
 * gas wallet's stake and gives it back after), sends its transfer, and waits for each transaction
 * to be final before it books it. Every step is an activity safe to repeat (the
 * nonce and the signed bytes are recorded before they are used), so a worker lost at any point
 * resumes without paying twice.
 */
import { executeChild, log, ParentClosePolicy, patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities, ReconciliationResult, SweepConfirmation, SweepOutcome, SweepRunInput, SweepRunResult, SweepWorkflowInput } from './definitions';
import { CONFIRMATION_POLL_MS, nextAsk } from './confirmation-pace';
import { activityRetry, patches } from './versions';

const steps = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: activityRetry });
/** An operator's receiver may be down for a while: retried with backoff up to an hour apart, for about half a day (the next day's run tells again). */
const operatorDelivery = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '1 hour', maximumAttempts: 20 },
});
// A refused signature or a missing configuration is final (non-retryable failures); anything else is retried.

export async function sweepRunWorkflow(input: SweepRunInput): Promise<SweepRunResult> {
  const planned = await steps.planSweeps(input);
  log.info('sweeps planned', { network: input.network, livemode: input.livemode, planned: planned.length });
  const outcomes = await Promise.all(
    planned.map(({ sweepId, workflowId }) =>
      executeChild(sweepWorkflow, {
        workflowId,
        args: [{ sweepId }],
        // A run cut short leaves its sweeps to finish: each is already recorded and under way.
        parentClosePolicy: ParentClosePolicy.ABANDON,
      }).catch((error: Error): SweepOutcome => {
        log.warn('sweep failed', { sweepId, error: error.message });
        return 'failed';
      }),
    ),
  );
  return {
    planned: planned.length,
    completed: outcomes.filter((outcome) => outcome === 'completed').length,
    skipped: outcomes.filter((outcome) => outcome === 'skipped').length,
    failed: outcomes.filter((outcome) => outcome === 'failed').length,
  };
}

export async function sweepWorkflow({ sweepId }: SweepWorkflowInput): Promise<SweepOutcome> {
  const plan = await steps.prepareSweep({ sweepId });
  if (plan.action === 'skip') return 'skipped';
  // Energy lent to the address (Tron) is taken back whatever becomes of the transfer.
  let lent = false;
  let outcome: Outcome;
  try {
    outcome = await moveFunds(sweepId, plan.action, () => (lent = true));
  } catch (error) {
    if (lent) await reclaimEnergy(sweepId);
    await steps.finishSweep({ sweepId, completed: false, reason: (error as Error).message });
    throw error;
  }
  if (lent) await reclaimEnergy(sweepId);
  await steps.finishSweep(outcome.completed ? { sweepId, completed: true } : { sweepId, completed: false, reason: outcome.reason });
  if (!outcome.completed) return 'failed';
  log.info('sweep completed', { sweepId, workflowId: workflowInfo().workflowId });
  return 'completed';
}

type Outcome = { completed: true } | { completed: false; reason: string };

/** The top-up (when planned), the energy delegation (Tron, when planned), then the transfer, each waited for until final. */
async function moveFunds(sweepId: string, action: 'top_up' | 'send' | 'delegate', onLent: () => void): Promise<Outcome> {
  if (action === 'top_up' || action === 'delegate') {
    const topUp = await steps.sendSweepTransaction({ sweepId, purpose: 'gas_topup' });
    if (topUp.sentId !== null && (await untilFinal(topUp.sentId)) === 'reverted') return { completed: false, reason: `the gas top-up ${topUp.hash} reverted` };
  }
  if (action === 'delegate') {
    const delegation = await steps.sendSweepTransaction({ sweepId, purpose: 'energy_delegation' });
    if (delegation.sentId !== null) {
      onLent();
      if ((await untilFinal(delegation.sentId)) === 'reverted') return { completed: false, reason: `the energy delegation ${delegation.hash} failed` };
    }
  }
  const transfer = await steps.sendSweepTransaction({ sweepId, purpose: 'sweep' });
  if (transfer.sentId === null) throw new Error('a sweep transfer is always sent');
  if ((await untilFinal(transfer.sentId)) === 'reverted') return { completed: false, reason: `the sweep ${transfer.hash} reverted` };
  return { completed: true };
}

/** The gas wallet takes back the energy it lent (nothing is sent when the delegation never took). */
async function reclaimEnergy(sweepId: string): Promise<void> {
  const reclaim = await steps.sendSweepTransaction({ sweepId, purpose: 'energy_reclaim' });
  if (reclaim.sentId !== null && (await untilFinal(reclaim.sentId)) === 'reverted') log.warn('energy reclaim failed', { sweepId, hash: reclaim.hash });
}

/**
 * Asks until the transaction is final. Unmined, every 2 s (it may need sending again, or a higher
 * fee). Mined, about when the blocks it still needs will have come at the pace seen since it was
 * first seen mined (2 s to a minute): ethereum's 12 confirmations at 12 s are a dozen asks, not
 * seventy, each an activity and a timer in the history.
 */
async function untilFinal(sentId: string): Promise<'confirmed' | 'reverted'> {
  return askUntilFinal(() => steps.confirmSweepTransaction({ sentId }));
}

/** Asks `confirm` at the pace above until the transaction is final (a payout's too). */
export async function askUntilFinal(
  confirm: () => Promise<SweepConfirmation>,
  onWaiting?: (confirmation: SweepConfirmation) => void,
): Promise<'confirmed' | 'reverted'> {
  const paced = patched(patches.sweepConfirmationsPaced);
  let firstMined: { at: number; depth: number } | undefined;
  for (;;) {
    const confirmation = await confirm();
    onWaiting?.(confirmation);
    if (confirmation.state !== 'waiting') return confirmation.state;
    const now = Date.now();
    // A reorg that took it away starts the count again.
    if (confirmation.confirmations === 0) firstMined = undefined;
    else firstMined ??= { at: now, depth: confirmation.confirmations };
    await sleep(paced ? nextAsk(firstMined, confirmation, now) : CONFIRMATION_POLL_MS);
  }
}

/**
 * The daily check of the holdings ledger against the chain. Each difference is logged; the activity
 * records them with a `reconciliation.mismatch` operator event, delivered here to the operator's
 * webhook, retried for about half a day while it does not answer 2xx.
 */
export async function reconcileWorkflow(input: SweepRunInput): Promise<ReconciliationResult> {
  const report = await steps.reconcileHoldings({ ...input, runId: workflowInfo().workflowId });
  for (const difference of report.differences) log.warn('reconciliation.mismatch', { network: input.network, livemode: input.livemode, ...difference });
  log.info('reconciled', { network: input.network, livemode: input.livemode, checked: report.checked, differences: report.differences.length });
  if (report.operatorEventId) {
    try {
      const delivery = await operatorDelivery.deliverOperatorEvent({ eventId: report.operatorEventId });
      log.info('operator event', { eventId: report.operatorEventId, ...delivery });
    } catch (error) {
      // Still listed (npm run cli -- operator-events) with its last failure; the next day's run tells again if the difference remains.
      log.error('operator event not delivered', { eventId: report.operatorEventId, error: (error as Error).message });
    }
  }
  return report;
}
