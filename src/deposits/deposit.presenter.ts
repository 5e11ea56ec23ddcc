/** A deposit as the API, its events and webhooks show it: amounts as decimal strings in the asset. */
import type { Deposit } from './deposits.table';
import { formatAmount, formatUsdCents } from '../domain/money';
import type { DepositObject } from './deposits.schema';

export function depositObject(deposit: Deposit): DepositObject {
  const amountOf = (units: string | null) => (units === null ? null : formatAmount(BigInt(units), deposit.decimals));
  const usdOf = (cents: string | null) => (cents === null ? null : formatUsdCents(BigInt(cents)));
  return {
    id: deposit.id,
    object: 'deposit',
    livemode: deposit.livemode,
    customer_id: deposit.customer_id,
    order_id: deposit.order_id,
    network: deposit.network,
    currency: deposit.currency,
    address: deposit.address,
    from_address: deposit.from_address,
    transaction_hash: deposit.transaction_hash,
    log_index: deposit.log_index,
    block_number: deposit.block_number === null ? null : Number(deposit.block_number),
    amount: amountOf(deposit.amount)!,
    fee: amountOf(deposit.fee),
    net_amount: amountOf(deposit.net_amount),
    amount_refunded: amountOf(deposit.amount_refunded)!,
    amount_usd: usdOf(deposit.amount_usd_cents),
    fee_usd: usdOf(deposit.fee_usd_cents),
    confirmations: deposit.confirmations,
    required_confirmations: deposit.required_confirmations,
    status: deposit.status,
    failure_reason: deposit.failure_reason,
    simulated: deposit.simulated,
    created_at: deposit.created_at.toISOString(),
    updated_at: deposit.updated_at.toISOString(),
    completed_at: deposit.completed_at?.toISOString() ?? null,
  };
}
