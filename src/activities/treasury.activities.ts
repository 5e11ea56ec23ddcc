import { log } from '@temporalio/activity';
import type { PayoutActivities, TreasuryActivities } from '../workflows/definitions';
import { confirmSweepTransaction, finishSweep, planSweeps, prepareSweep, sendSweepTransaction, type TreasuryDeps } from '../treasury/sweeps.service';
import { withActivityFailures } from './failures';
import { reconcile } from '../treasury/reconcile';
import { deliverOperatorEvent, type OperatorWebhook } from '../events/operator-events';
import { confirmPayout, failPayout, sendPayout } from '../treasury/payout-sending';

export function createTreasuryActivities(deps: TreasuryDeps, operatorWebhook?: OperatorWebhook): TreasuryActivities & PayoutActivities {
  return withActivityFailures({
    planSweeps: (input) => planSweeps(deps, input),
    prepareSweep: ({ sweepId }) => prepareSweep(deps, sweepId),
    sendSweepTransaction: ({ sweepId, purpose }) => sendSweepTransaction(deps, sweepId, purpose),
    confirmSweepTransaction: async ({ sentId }) => {
      const confirmation = await confirmSweepTransaction(deps, sentId);
      if (confirmation.state === 'waiting' && confirmation.replaced)
        log.warn('sweep transaction stuck: replaced with a higher fee, same nonce', { sentId, ...confirmation.replaced });
      if (confirmation.state === 'waiting' && confirmation.stuck) log.warn('sweep transaction stuck and not replaced', { sentId, why: confirmation.stuck });
      return confirmation;
    },
    finishSweep: ({ sweepId, completed, reason }) =>
      finishSweep(deps, sweepId, completed ? { completed: true } : { completed: false, reason: reason ?? 'failed' }),
    reconcileHoldings: (input) => reconcile(deps, input),
    deliverOperatorEvent: ({ eventId }) => deliverOperatorEvent(deps.db, operatorWebhook, eventId),
    sendPayout: ({ payoutId }) => sendPayout(deps, payoutId),
    confirmPayout: async ({ sentId }) => {
      const confirmation = await confirmPayout(deps, sentId);
      if (confirmation.state === 'waiting' && confirmation.replaced)
        log.warn('payout transaction stuck: replaced with a higher fee, same nonce', { sentId, ...confirmation.replaced });
      if (confirmation.state === 'waiting' && confirmation.stuck) log.warn('payout transaction stuck and not replaced', { sentId, why: confirmation.stuck });
      return confirmation;
    },
    failPayout: ({ payoutId, reason }) => failPayout(deps, payoutId, reason),
  });
}
