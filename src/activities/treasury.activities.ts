import type { TreasuryActivities } from '../workflows/definitions';
import { confirmSweepTransaction, finishSweep, planSweeps, prepareSweep, sendSweepTransaction, type TreasuryDeps } from '../treasury/sweeps.service';
import { withActivityFailures } from './failures';
import { reconcile } from '../treasury/reconcile';

export function createTreasuryActivities(deps: TreasuryDeps): TreasuryActivities {
  return withActivityFailures({
    planSweeps: (input) => planSweeps(deps, input),
    prepareSweep: ({ sweepId }) => prepareSweep(deps, sweepId),
    sendSweepTransaction: ({ sweepId, purpose }) => sendSweepTransaction(deps, sweepId, purpose),
    confirmSweepTransaction: ({ sentId }) => confirmSweepTransaction(deps, sentId),
    finishSweep: ({ sweepId, completed, reason }) =>
      finishSweep(deps, sweepId, completed ? { completed: true } : { completed: false, reason: reason ?? 'failed' }),
    reconcileHoldings: (input) => reconcile(deps, input),
  });
}
