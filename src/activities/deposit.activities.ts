import { completeDeposit, failDeposit, recordConfirmations, recordDetectedDeposit, reverseDeposit, type DepositTransfer, type Transition } from '../deposits';
import type { Db } from '../db/database';
import type { Deposit } from '../db/tables/deposits.table';
import type { FailureReason } from '../domain/deposit-state';
import type { Network } from '../domain/networks';
import { PRICE_DECIMALS } from '../domain/fees';
import type { PriceSource } from '../prices';

/** What an activity hands back to the workflow: enough to drive it, small enough for history. */
export interface DepositSummary {
  status: Deposit['status'];
  confirmations: number;
  /** The event this transition emitted, for the workflow to deliver as webhooks. */
  eventId: string | null;
}

const summary = ({ deposit, eventId }: Transition): DepositSummary => ({ status: deposit.status, confirmations: deposit.confirmations, eventId });

export function createDepositActivities(deps: { db: Db; prices: PriceSource }) {
  const { db, prices } = deps;
  return {
    async recordDetectedDeposit(transfer: DepositTransfer): Promise<DepositSummary> {
      return summary(await recordDetectedDeposit(db, transfer));
    },
    async recordConfirmations(input: { depositId: string; confirmations: number; blockHash: string | null; first?: boolean }): Promise<DepositSummary> {
      return summary(await recordConfirmations(db, input.depositId, input.confirmations, input.blockHash, input.first));
    },
    /**
     * The price is captured by this activity, so a retried booking reuses the recorded rate. A
     * feed's extra decimals are cut to the 8 the fee arithmetic uses, rather than failing forever.
     */
    async lookUpPriceUsd(input: { network: string; currency: string }): Promise<string> {
      const price = (await prices.priceUsd(input.network as Network, input.currency)).trim();
      const match = /^(\d+)(?:\.(\d+))?$/.exec(price);
      if (!match) throw new Error(`the price source answered "${price}" for ${input.currency}, not a plain decimal`);
      return match[2] ? `${match[1]}.${match[2].slice(0, PRICE_DECIMALS)}` : match[1]!;
    },
    async completeDeposit(input: { depositId: string; confirmations: number; priceUsd: string }): Promise<DepositSummary> {
      return summary(await completeDeposit(db, input.depositId, input));
    },
    async failDeposit(input: { depositId: string; reason: FailureReason }): Promise<DepositSummary> {
      return summary(await failDeposit(db, input.depositId, input.reason));
    },
    async reverseDeposit(input: { depositId: string }): Promise<DepositSummary> {
      return summary(await reverseDeposit(db, input.depositId));
    },
  };
}
