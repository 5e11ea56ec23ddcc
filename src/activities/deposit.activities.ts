import type { Db } from '../db/database';
import type { FailureReason } from '../domain/deposit-state';
import { activityFailureTypes, StepFailure } from '../domain/failures';
import { PRICE_DECIMALS } from '../domain/fees';
import { modeOf, type Mode } from '../domain/mode';
import type { Network } from '../domain/networks';
import {
  completeDeposit,
  failDeposit,
  recordConfirmations,
  recordDetectedDeposit,
  reopenDeposit,
  reverseDeposit,
  type Transition,
} from '../deposits/transitions';
import type { PriceSource } from '../prices/price-source';
import type { DepositActivities, DepositSummary } from '../workflows/definitions';
import { withActivityFailures } from './failures';

/** The transition as the workflow takes it: the deposit's state, and the event it emitted with its deliveries. */
async function summary(transition: Promise<Transition>): Promise<DepositSummary> {
  const { deposit, eventId, deliveries } = await transition;
  return { status: deposit.status, failureReason: deposit.failure_reason as FailureReason | null, confirmations: deposit.confirmations, eventId, deliveries };
}

export function createDepositActivities(deps: { db: Db; prices: Record<Mode, PriceSource> }): DepositActivities {
  const { db, prices } = deps;
  return withActivityFailures({
    async recordDetectedDeposit(transfer) {
      return summary(recordDetectedDeposit(db, transfer));
    },
    async recordConfirmations(input) {
      return summary(recordConfirmations(db, input.depositId, input));
    },
    /**
     * The price is captured by this activity, so a retried booking reuses the recorded rate. A
     * feed's extra decimals are cut to the 8 the fee arithmetic uses, rather than failing forever.
     */
    async lookUpPriceUsd(input) {
      const price = (await prices[modeOf(input.livemode)].priceUsd(input.network as Network, input.currency)).trim();
      const match = /^(\d+)(?:\.(\d+))?$/.exec(price);
      if (!match) {
        throw new StepFailure(activityFailureTypes.priceUnparseable, `the price source answered "${price}" for ${input.currency}, not a plain decimal`);
      }
      return match[2] ? `${match[1]}.${match[2].slice(0, PRICE_DECIMALS)}` : match[1]!;
    },
    async completeDeposit(input) {
      return summary(completeDeposit(db, input.depositId, input));
    },
    async failDeposit(input) {
      return summary(failDeposit(db, input.depositId, input.reason));
    },
    async reverseDeposit(input) {
      return summary(reverseDeposit(db, input.depositId));
    },
    async reopenDeposit(input) {
      return summary(reopenDeposit(db, input.depositId, input));
    },
  });
}
