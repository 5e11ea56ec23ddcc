/**
 * A payout or refund (docs/payouts.md), one workflow each, started from the outbox with its row.
 * It sends the payout's transaction (waiting while the hot wallet cannot cover it), follows it to
 * the network's confirmations, and ends completed (booked), failed (its hold released) or canceled.
 * Every step is an activity safe to repeat: the nonce and the signed bytes are recorded before they
 * are used, so a worker or signer lost at any point resumes without a second payment.
 */
import {
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Network } from '../domain/networks';
import { modeOf } from '../domain/mode';
import type { Activities, PayoutOutcome, PayoutWorkflowInput } from './definitions';
import { activityFailureTypes, payoutChangedSignal, searchAttributes } from './definitions';
import { askUntilFinal, sweepRunWorkflow } from './treasury.workflow';
import { activityRetry, patches } from './versions';

const steps = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: activityRetry });
/** Telling the operator a queue formed is tried a few times, never holding the payout up long (the event stays listed). */
const operatorDelivery = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { initialInterval: '5 seconds', maximumAttempts: 3 } });

/** How long a waiting payout waited before it looked again, in runs from before waits were woken (patch payout-wakes). */
const QUEUED_RETRY = '15 seconds';
/**
 * A waiting payout looks again after FIRST_RECHECK_MS, then after twice as long each time nothing
 * changed, up to its longest; the API's signal (approved, canceled) or the end of the sweep it asked
 * for wakes it at once. An approval may take days: the waits grow so its history does not.
 */
const FIRST_RECHECK_MS = 15_000;
const LONGEST_RECHECK_MS = { queued: 60_000, requires_approval: 300_000 } as const;
/** Past this many events a waiting payout continues as new, so no wait makes a long history. */
const HISTORY_LIMIT = 2_000;

export async function payoutWorkflow(input: PayoutWorkflowInput): Promise<PayoutOutcome> {
  const { payoutId } = input;
  // The payout's status as the `ObjectStatus` search attribute (`WorkflowType = 'payoutWorkflow' AND ObjectStatus = 'queued'`), kept as it moves.
  let shown: string | undefined = input.status;
  const show = (status: string) => {
    if (status === shown || !patched(patches.payoutStatusAttribute)) return;
    upsertSearchAttributes([{ key: searchAttributes.ObjectStatus, value: status }]);
    shown = status;
  };
  let woken = false;
  setHandler(payoutChangedSignal, () => {
    woken = true;
  });
  setCurrentDetails(`Payout ${payoutId}: sending`);
  let sent: { sentId: string; hash: string };
  let sweepAsked = false;
  let recheck = { status: input.status as string | undefined, afterMs: FIRST_RECHECK_MS };
  for (;;) {
    let answer;
    try {
      answer = await steps.sendPayout({ payoutId });
    } catch (error) {
      // Only a final refusal gets here (the signer's policy, a missing configuration): anything else is retried.
      const reason = refusalOf(error);
      await steps.failPayout({ payoutId, reason });
      show('failed');
      log.warn('payout failed', { payoutId, reason });
      setCurrentDetails(`Payout ${payoutId}: failed, ${reason}`);
      return 'failed';
    }
    if (answer.state === 'over') {
      show(answer.status);
      return answer.status;
    }
    if (answer.state === 'broadcast') {
      show('broadcast');
      sent = answer;
      break;
    }
    show(answer.status);
    if (recheck.status !== answer.status) recheck = { status: answer.status, afterMs: FIRST_RECHECK_MS };
    log.warn('payout waiting', { payoutId, status: answer.status, reason: answer.reason });
    if (answer.operatorEventId) await tellOperator(answer.operatorEventId);
    // The hot wallet is the treasury: a sweep of the network may bring it what this payout waits for.
    if (!sweepAsked && answer.status === 'queued')
      sweepAsked = await askForSweep(input, () => {
        woken = true;
      });
    if (!patched(patches.payoutWakes)) {
      setCurrentDetails(`Payout ${payoutId}: ${answer.status.replace('_', ' ')}, ${answer.reason}; looking again every ${QUEUED_RETRY}`);
      await sleep(QUEUED_RETRY);
      continue;
    }
    setCurrentDetails(
      `Payout ${payoutId}: ${answer.status.replace('_', ' ')}, ${answer.reason}; looking again when it changes, or in ${Math.round(recheck.afterMs / 1000)} s`,
    );
    await condition(() => woken, recheck.afterMs);
    woken = false;
    recheck.afterMs = Math.min(recheck.afterMs * 2, LONGEST_RECHECK_MS[answer.status]);
    if (workflowInfo().historyLength > HISTORY_LIMIT) await continueAsNew<typeof payoutWorkflow>({ ...input, status: answer.status });
  }
  setCurrentDetails(`Payout ${payoutId}: broadcast as ${sent.hash}, waiting for confirmations`);
  let failure = 'its transaction reverted';
  const final = await askUntilFinal(
    () => steps.confirmPayout({ sentId: sent.sentId }),
    (confirmation) => {
      if (confirmation.state === 'reverted' && confirmation.reason) failure = confirmation.reason;
      if (confirmation.state === 'waiting')
        setCurrentDetails(
          `Payout ${payoutId}: broadcast as ${sent.hash}, ${confirmation.confirmations}${confirmation.required ? ` of ${confirmation.required}` : ''} confirmations${confirmation.stuck ? ` (stuck: ${confirmation.stuck})` : ''}`,
        );
    },
  );
  show(final === 'confirmed' ? 'completed' : 'failed');
  setCurrentDetails(`Payout ${payoutId}: ${final === 'confirmed' ? 'completed' : `failed, ${failure}`}`);
  return final === 'confirmed' ? 'completed' : 'failed';
}

async function tellOperator(eventId: string): Promise<void> {
  try {
    await operatorDelivery.deliverOperatorEvent({ eventId });
  } catch (error) {
    log.warn('operator event not delivered', { eventId, error: (error as Error).message });
  }
}

/**
 * A sweep run of the payout's network, now, as `sweep --now` would start one; one per payout, left
 * to run on its own. `ended` is called when it ends: what it swept may be what the payout waits for.
 */
async function askForSweep(input: PayoutWorkflowInput, ended: () => void): Promise<boolean> {
  try {
    const run = await startChild(sweepRunWorkflow, {
      workflowId: `sweep-run:${modeOf(input.livemode)}:${input.network}:for-${input.payoutId}`,
      args: [{ livemode: input.livemode, network: input.network as Network }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    void run.result().then(ended, ended);
  } catch (error) {
    log.warn('no sweep started for a queued payout', { payoutId: input.payoutId, error: (error as Error).message });
  }
  return true;
}

function refusalOf(error: unknown): string {
  const cause = (error as { cause?: { type?: string; message?: string } }).cause;
  if (cause?.type === activityFailureTypes.signerRefused) return `the signer refused it: ${cause.message ?? ''}`.trim();
  return (cause?.message ?? (error as Error).message) || 'it could not be sent';
}
