/**
 * A payout or refund (docs/payouts.md), one workflow each, started from the outbox with its row.
 * It sends the payout's transaction (waiting while the hot wallet cannot cover it), follows it to
 * the network's confirmations, and ends completed (booked), failed (its hold released) or canceled.
 * Every step is an activity safe to repeat: the nonce and the signed bytes are recorded before they
 * are used, so a worker or signer lost at any point resumes without a second payment.
 */
import { log, proxyActivities, setCurrentDetails, sleep } from '@temporalio/workflow';
import type { Activities, PayoutOutcome, PayoutWorkflowInput } from './definitions';
import { activityFailureTypes } from './definitions';
import { askUntilFinal } from './treasury.workflow';
import { activityRetry } from './versions';

const steps = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: activityRetry });

/** How long a payout the hot wallet cannot cover waits before it looks again (a sweep may have filled it). */
const QUEUED_RETRY = '15 seconds';

export async function payoutWorkflow(input: PayoutWorkflowInput): Promise<PayoutOutcome> {
  const { payoutId } = input;
  setCurrentDetails(`Payout ${payoutId}: sending`);
  let sent: { sentId: string; hash: string };
  for (;;) {
    let answer;
    try {
      answer = await steps.sendPayout({ payoutId });
    } catch (error) {
      // Only a final refusal gets here (the signer's policy, a missing configuration): anything else is retried.
      const reason = refusalOf(error);
      await steps.failPayout({ payoutId, reason });
      log.warn('payout failed', { payoutId, reason });
      setCurrentDetails(`Payout ${payoutId}: failed, ${reason}`);
      return 'failed';
    }
    if (answer.state === 'over') return answer.status;
    if (answer.state === 'broadcast') {
      sent = answer;
      break;
    }
    setCurrentDetails(`Payout ${payoutId}: queued, ${answer.reason}; looking again every ${QUEUED_RETRY}`);
    log.warn('payout queued', { payoutId, reason: answer.reason });
    await sleep(QUEUED_RETRY);
  }
  setCurrentDetails(`Payout ${payoutId}: broadcast as ${sent.hash}, waiting for confirmations`);
  const final = await askUntilFinal(
    () => steps.confirmPayout({ sentId: sent.sentId }),
    (confirmation) => {
      if (confirmation.state === 'waiting')
        setCurrentDetails(
          `Payout ${payoutId}: broadcast as ${sent.hash}, ${confirmation.confirmations}${confirmation.required ? ` of ${confirmation.required}` : ''} confirmations${confirmation.stuck ? ` (stuck: ${confirmation.stuck})` : ''}`,
        );
    },
  );
  setCurrentDetails(`Payout ${payoutId}: ${final === 'confirmed' ? 'completed' : 'failed, its transaction reverted'}`);
  return final === 'confirmed' ? 'completed' : 'failed';
}

function refusalOf(error: unknown): string {
  const cause = (error as { cause?: { type?: string; message?: string } }).cause;
  if (cause?.type === activityFailureTypes.signerRefused) return `the signer refused it: ${cause.message ?? ''}`.trim();
  return (cause?.message ?? (error as Error).message) || 'it could not be sent';
}
