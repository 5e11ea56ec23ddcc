/** A payout as the API, its events and webhooks show it: amounts as decimal strings in the currency. */
import { formatAmount } from '../domain/money';
import type { PayoutObject } from './payouts.schema';
import type { Payout } from './payouts.table';

export function payoutObject(payout: Payout): PayoutObject {
  return {
    id: payout.id,
    object: 'payout',
    livemode: payout.livemode,
    status: payout.status,
    network: payout.network,
    currency: payout.currency,
    amount: formatAmount(BigInt(payout.amount), payout.decimals),
    fee: formatAmount(BigInt(payout.fee), payout.decimals),
    fee_basis: payout.fee_basis,
    destination: payout.destination,
    external_id: payout.external_id,
    deposit_id: payout.deposit_id,
    transaction_hash: payout.transaction_hash,
    failure_reason: payout.failure_reason,
    approved_at: payout.approved_at?.toISOString() ?? null,
    metadata: payout.metadata,
    created_at: payout.created_at.toISOString(),
    updated_at: payout.updated_at.toISOString(),
    broadcast_at: payout.broadcast_at?.toISOString() ?? null,
    completed_at: payout.completed_at?.toISOString() ?? null,
  };
}
