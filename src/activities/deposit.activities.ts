import { ApplicationFailure } from '@temporalio/common';
import type { Db, Executor } from '../db/database';
import type { FailureReason } from '../domain/deposit-state';
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
import { withDeliveries } from '../webhooks/deliveries';
import { activityFailureTypes, type DepositActivities, type DepositSummary } from '../workflows/definitions';

/** The transition, and the deliveries of the event it emitted recorded in its transaction, as the workflow takes them. */
async function summary(db: Db, transition: (transaction: Executor) => Promise<Transition>): Promise<DepositSummary> {
  const { deposit, eventId, deliveries } = await withDeliveries(db, transition);
  return { status: deposit.status, failureReason: deposit.failure_reason as FailureReason | null, confirmations: deposit.confirmations, eventId, deliveries };
}

export function createDepositActivities(deps: { db: Db; prices: Record<Mode, PriceSource> }): DepositActivities {
  const { db, prices } = deps;
  return {
    async recordDetectedDeposit(transfer) {
      return summary(db, (transaction) => recordDetectedDeposit(transaction, transfer));
    },
    async recordConfirmations(input) {
      return summary(db, (transaction) => recordConfirmations(transaction, input.depositId, input));
    },
    /**
     * The price is captured by this activity, so a retried booking reuses the recorded rate. A
     * feed's extra decimals are cut to the 8 the fee arithmetic uses, rather than failing forever.
     */
    async lookUpPriceUsd(input) {
      const price = (await prices[modeOf(input.livemode)].priceUsd(input.network as Network, input.currency)).trim();
      const match = /^(\d+)(?:\.(\d+))?$/.exec(price);
      if (!match) {
        throw ApplicationFailure.create({
          type: activityFailureTypes.priceUnparseable,
          message: `the price source answered "${price}" for ${input.currency}, not a plain decimal`,
          nonRetryable: true,
        });
      }
      return match[2] ? `${match[1]}.${match[2].slice(0, PRICE_DECIMALS)}` : match[1]!;
    },
    async completeDeposit(input) {
      return summary(db, (transaction) => completeDeposit(transaction, input.depositId, input));
    },
    async failDeposit(input) {
      return summary(db, (transaction) => failDeposit(transaction, input.depositId, input.reason));
    },
    async reverseDeposit(input) {
      return summary(db, (transaction) => reverseDeposit(transaction, input.depositId));
    },
    async reopenDeposit(input) {
      return summary(db, (transaction) => reopenDeposit(transaction, input.depositId, input));
    },
  };
}
