/**
 * A payout or refund (docs/payouts.md), one workflow each, started from the outbox with its row.
 * It sends the payout's transaction (waiting while the hot wallet cannot cover it), follows it to
 * the network's confirmations, and ends completed (booked), failed (its hold released) or canceled.
 * Every step is an activity safe to repeat: the nonce and the signed bytes are recorded before they
 * are used, so a worker or signer lost at any point resumes without a second payment.
 */
import { log, ParentClosePolicy, patched, proxyActivities, setCurrentDetails, sleep, startChild, upsertSearchAttributes } from '@temporalio/workflow';
import type { Network } from '../domain/networks';
import { modeOf } from '../domain/mode';
import type { Activities, PayoutOutcome, PayoutWorkflowInput } from './definitions';
import { activityFailureTypes, searchAttributes } from './definitions';
import { askUntilFinal, sweepRunWorkflow } from './treasury.workflow';
import { activityRetry, patches } from './versions';

const steps = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: activityRetry });
/** Telling the operator a queue formed is tried a few times, never holding the payout up long (the event stays listed). */
const operatorDelivery = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { initialInterval: '5 seconds', maximumAttempts: 3 } });

/** How long a payout the hot wallet cannot cover waits before it looks again (a sweep may have filled it). */
const QUEUED_RETRY = '15 seconds';

export async function payoutWorkflow(input: PayoutWorkflowInput): Promise<PayoutOutcome> {
  const { payoutId } = input;
  // The payout's status as the `ObjectStatus` search attribute (`WorkflowType = 'payoutWorkflow' AND ObjectStatus = 'queued'`), kept as it moves.
  let shown: string | undefined = input.status;
  const show = (status: string) => {
    if (status === shown || !patched(patches.payoutStatusAttribute)) return;
    upsertSearchAttributes([{ key: searchAttributes.ObjectStatus, value: status }]);
    shown = status;
  };
  setCurrentDetails(`Payout ${payoutId}: sending`);
  let sent: { sentId: string; hash: string };
  let sweepAsked = false;
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
    setCurrentDetails(`Payout ${payoutId}: ${answer.status.replace('_', ' ')}, ${answer.reason}; looking again every ${QUEUED_RETRY}`);
    log.warn('payout queued', { payoutId, reason: answer.reason });
    if (answer.operatorEventId) await tellOperator(answer.operatorEventId);
    // The hot wallet is the treasury: a sweep of the network may bring it what this payout waits for.
    if (!sweepAsked && answer.status === 'queued') sweepAsked = await askForSweep(input);
    await sleep(QUEUED_RETRY);
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

/** A sweep run of the payout's network, now, as `sweep --now` would start one; one per payout, left to run on its own. */
async function askForSweep(input: PayoutWorkflowInput): Promise<boolean> {
  try {
    await startChild(sweepRunWorkflow, {
      workflowId: `sweep-run:${modeOf(input.livemode)}:${input.network}:for-${input.payoutId}`,
      args: [{ livemode: input.livemode, network: input.network as Network }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
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
