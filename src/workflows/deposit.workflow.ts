/**
 * One deposit, from detection to completion (or failure), durable across any crash: it waits on
 * confirmation reports, applies the flat fee at completion, books the ledger exactly once through
 * idempotent activities, then keeps listening for a while for a reorg that would reverse it.
 */
import { msToNumber } from '@temporalio/common/lib/time';
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { isLate, isReorged, nextStatus, type DepositStatus } from '../domain/deposit-state';
import {
  activityFailureTypes,
  confirmationSignal,
  DEFAULT_NO_PROGRESS_TIMEOUT,
  depositStateQuery,
  orderPaymentSignal,
  orderWorkflowId,
  REVERSAL_WINDOW_MS,
  searchAttributes,
  simulationWorkflowId,
  type Activities,
  type ConfirmationReport,
  type DepositState,
  type DepositSummary,
  type DepositTransfer,
  type DepositWorkflowInput,
} from './definitions';
import { depositDetails, depositSearchAttributes, simulationStartMetadata, type DepositWait } from './metadata';
import { simulatedConfirmationsWorkflow } from './simulated-confirmations.workflow';
import { activityRetry, patches } from './versions';
import { startDeliveries } from './webhook-delivery.workflow';

const stepOptions = {
  startToCloseTimeout: '30 seconds',
  // Database or price-feed trouble is retried until it passes; nothing is lost meanwhile.
  retry: activityRetry,
} as const;
/**
 * Each step (a transition's transaction, a price lookup) is short, so it runs as a local activity:
 * the worker holding the workflow task runs it and records its result in the same task, one
 * history event instead of an activity task's three plus the workflow task it wakes. A worker lost
 * mid-step leaves the task to time out and another runs the step again; every step is idempotent.
 */
const localSteps = proxyLocalActivities<Activities>(stepOptions);
/** For deposits started before steps became local activities (versions.ts: depositStepsAsLocalActivities). */
const activitySteps = proxyActivities<Activities>(stepOptions);
type Steps = typeof localSteps;

export async function depositWorkflow(input: DepositWorkflowInput): Promise<DepositState> {
  const { transfer } = input;
  // Decided once, from the first workflow task, so a replay takes the path its history took throughout.
  const activities: Steps = patched(patches.depositStepsAsLocalActivities) ? localSteps : activitySteps;
  const followsItsBlock = patched(patches.depositFollowsItsBlock);
  const state: DepositState = {
    depositId: transfer.depositId,
    status: 'detected',
    confirmations: 0,
    requiredConfirmations: transfer.requiredConfirmations,
    blockHash: transfer.blockHash,
    failureReason: null,
    reversed: false,
  };
  const reports: ConfirmationReport[] = [];
  setHandler(confirmationSignal, (report) => void reports.push(report));
  setHandler(depositStateQuery, () => state);
  // The Web UI's one line on where this deposit is: "25 USDT to cus_… — confirming, 7/12".
  let wait: DepositWait = {};
  const showDetails = () => setCurrentDetails(depositDetails(transfer, state, wait));
  showDetails();

  // Filterable in the Web UI from the first moment (a start through client.ts sets these already;
  // this covers any other): `DepositId = "dep_…"`, `ObjectStatus = "confirming" AND Network = "ethereum"`.
  upsertSearchAttributes(depositSearchAttributes(transfer, state.status));
  let recorded = await deliver(transfer, activities.recordDetectedDeposit(transfer));
  setStatus(state, recorded.status);
  // Failed or reversed by a reorg, and now back in a canonical block paying the same: detected
  // again, it confirms and completes anew (the watcher read its new inclusion before starting this run).
  if (input.reincluded && isReorged({ status: recorded.status, failureReason: recorded.failureReason })) {
    log.info('a deposit a reorg took away is back on the chain; re-opening it', { depositId: state.depositId, blockHash: transfer.blockHash });
    recorded = await deliver(
      transfer,
      activities.reopenDeposit({
        depositId: state.depositId,
        blockNumber: transfer.blockNumber,
        blockHash: transfer.blockHash,
        blockTime: transfer.blockTime ?? null,
        amount: transfer.amount,
      }),
    );
    state.failureReason = recorded.failureReason;
    setStatus(state, recorded.status);
  }
  // Reported again after it timed out (a watcher that was down, a rescan): late money, still welcome.
  // It waits for its confirmations as a confirming deposit would; only completion changes its row.
  if (isLate({ status: recorded.status, failureReason: recorded.failureReason })) {
    log.info('a deposit that timed out is reported again; waiting for its confirmations', { depositId: state.depositId });
    wait = { late: true };
    setStatus(state, 'confirming');
  }
  showDetails();
  if (input.simulation) {
    // Test mode's chain: started by the deposit itself, so it never signals a deposit not yet running.
    const { workflowId } = workflowInfo();
    const simulation = { depositWorkflowId: workflowId, ...input.simulation };
    await startChild(simulatedConfirmationsWorkflow, {
      workflowId: simulationWorkflowId(workflowId),
      args: [simulation],
      ...simulationStartMetadata(transfer, simulation),
    });
  }

  while (state.status === 'detected' || state.status === 'confirming') {
    if (!(await condition(() => reports.length > 0, input.noProgressTimeout ?? DEFAULT_NO_PROGRESS_TIMEOUT, { summary: 'no-progress timeout' }))) {
      await deliver(transfer, activities.failDeposit({ depositId: state.depositId, reason: 'timeout' }));
      state.failureReason = 'timeout';
      setStatus(state, 'failed');
      break;
    }
    const report = takeReport(reports);
    // A reorg moved the transaction, and the watcher read it again in its new block: its count starts there.
    const moved = followsItsBlock && report.canonical && report.blockHash !== null && report.blockHash !== state.blockHash;
    if (moved) state.confirmations = report.confirmations;
    if (report.blockHash) state.blockHash = report.blockHash;
    const next = nextStatus(state.status, report, state.requiredConfirmations);
    if (next === 'failed') {
      await deliver(transfer, activities.failDeposit({ depositId: state.depositId, reason: 'reorg' }));
      state.failureReason = 'reorg';
    } else if (next === 'completed') {
      // Counted now, so that a wait for a usable price reads "confirming, 12/12; waiting for a usable price".
      state.confirmations = Math.max(state.confirmations, report.confirmations);
      const priceUsd = await priceUsdOf(activities, transfer, (retryAt) => {
        wait = { ...wait, priceRetryAt: retryAt };
        showDetails();
      });
      wait = {};
      await deliver(
        transfer,
        activities.completeDeposit({
          depositId: state.depositId,
          confirmations: report.confirmations,
          priceUsd,
          ...(followsItsBlock ? { blockHash: report.blockHash, blockNumber: report.blockNumber ?? null } : {}),
        }),
      );
    } else if (report.confirmations > state.confirmations || moved) {
      await deliver(
        transfer,
        activities.recordConfirmations({
          depositId: state.depositId,
          confirmations: report.confirmations,
          blockHash: report.blockHash,
          ...(followsItsBlock ? { blockNumber: report.blockNumber ?? null } : {}),
          first: state.status === 'detected',
        }),
      );
    }
    state.confirmations = moved ? report.confirmations : Math.max(state.confirmations, report.confirmations);
    setStatus(state, next);
    showDetails();
  }

  const reversalWindow = input.reversalWindow === undefined ? REVERSAL_WINDOW_MS : msToNumber(input.reversalWindow);
  if (state.status === 'completed' && reversalWindow > 0) {
    // Still running, yet completed: the details say so, and until when a reorg could reverse it.
    wait = { reorgWatchUntil: Date.now() + reversalWindow };
    showDetails();
    while (await condition(() => reports.length > 0, reversalWindow, { summary: 'reorg watch' })) {
      const report = takeReport(reports);
      state.confirmations = Math.max(state.confirmations, report.confirmations);
      if (!report.canonical) {
        await deliver(transfer, activities.reverseDeposit({ depositId: state.depositId }));
        state.failureReason = 'reorg';
        state.reversed = true;
        setStatus(state, 'failed');
        break;
      }
      wait = { reorgWatchUntil: Date.now() + reversalWindow };
      showDetails();
    }
  }
  wait = {};
  showDetails();
  return state;
}

/** How long a deposit waits before asking a price source that answered nonsense again. */
const PRICE_RETRY_INTERVAL = '5 minutes';

/**
 * The price to complete at. A source that answers something unparseable fails the lookup at once
 * (retrying it would read the same answer); the deposit is not failed for it: it says so in the
 * history and the log, then asks again after a pause, until an operator has repaired the source.
 */
async function priceUsdOf(activities: Steps, transfer: DepositTransfer, onRetry: (retryAt: number) => void): Promise<string> {
  for (;;) {
    try {
      return await activities.lookUpPriceUsd({ network: transfer.network, currency: transfer.currency, livemode: transfer.livemode });
    } catch (error) {
      // An activity task's failure wraps the activity's; a local activity's may come unwrapped.
      const cause = error instanceof ActivityFailure ? error.cause : error;
      if (!(cause instanceof ApplicationFailure && cause.type === activityFailureTypes.priceUnparseable)) throw error;
      log.error('the price source answered nonsense; asking again later', {
        depositId: transfer.depositId,
        reason: cause.message,
        retryIn: PRICE_RETRY_INTERVAL,
      });
      onRetry(Date.now() + msToNumber(PRICE_RETRY_INTERVAL));
      await sleep(PRICE_RETRY_INTERVAL, { summary: 'ask the price source again' });
    }
  }
}

/**
 * Awaits a transition and sends the event it wrote, if any, to the merchant's webhook endpoints.
 * A deposit to an order's address that completes or fails (a reversal included) also tells the
 * order, which then counts its payments again; detection and confirmations change nothing it
 * decides (at its expiry it finds payments still confirming in the database, and waits for them).
 */
async function deliver(transfer: DepositTransfer, transition: Promise<DepositSummary>): Promise<DepositSummary> {
  const summary = await transition;
  await startDeliveries(summary);
  if (summary.eventId && transfer.orderId && (summary.status === 'completed' || summary.status === 'failed')) {
    try {
      await getExternalWorkflowHandle(orderWorkflowId({ livemode: transfer.livemode, orderId: transfer.orderId })).signal(orderPaymentSignal, {
        depositId: transfer.depositId,
      });
    } catch (error) {
      // Its workflow has ended (the order settled; the transition itself marked the payment late),
      // or never started (Temporal was down when the order was made): said in the log, for operators.
      log.warn('the order of this deposit did not take its signal', {
        orderId: transfer.orderId,
        depositId: transfer.depositId,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return summary;
}

/**
 * The next report to act on: a reorg report is never skipped, and a run of ordinary reports
 * that arrived while an activity ran collapses into the latest, so history grows with progress,
 * not with the number of signals.
 */
function takeReport(reports: ConfirmationReport[]): ConfirmationReport {
  const reorg = reports.findIndex((report) => !report.canonical);
  const index = reorg === -1 ? reports.length - 1 : reorg;
  const [report] = reports.splice(0, index + 1).slice(-1);
  return report!;
}

function setStatus(state: DepositState, status: DepositStatus): void {
  if (state.status !== status) upsertSearchAttributes([{ key: searchAttributes.ObjectStatus, value: status }]);
  state.status = status;
}
