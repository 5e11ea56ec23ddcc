/** The balance as the API shows it: per network and currency in the asset, totals in USD. */
import type { Tenant } from '../db/database';
import type { BalanceRow, LedgerTransactionRow } from './ledger.repository';
import { formatAmount, formatUsdCents } from '../domain/money';
import { currencyOn, isNetwork } from '../domain/networks';
import type { BalanceObject, BalanceTransactionObject } from './balance.schema';

export function balanceObject(tenant: Tenant, rows: BalanceRow[]): BalanceObject {
  let receivedCents = 0n;
  let feesCents = 0n;
  const byCurrency = rows.map((row) => {
    receivedCents += BigInt(row.received_usd_cents);
    feesCents += BigInt(row.fees_usd_cents);
    const decimals = (isNetwork(row.network) && currencyOn(row.network, row.currency)?.decimals) || 0;
    return {
      network: row.network,
      currency: row.currency,
      total_received: formatAmount(BigInt(row.received), decimals),
      total_fees: formatAmount(BigInt(row.fees), decimals),
      net: formatAmount(BigInt(row.net), decimals),
      available: formatAmount(BigInt(row.available), decimals),
      pending: formatAmount(BigInt(row.pending), decimals),
      paid_out: formatAmount(BigInt(row.paid_out), decimals),
      deposit_count: Number(row.deposit_count),
    };
  });
  return {
    object: 'balance',
    livemode: tenant.livemode,
    by_currency: byCurrency,
    total_received_usd: formatUsdCents(receivedCents),
    total_fees_usd: formatUsdCents(feesCents),
    net_usd: formatUsdCents(receivedCents - feesCents),
  };
}

/** A ledger transaction as the API shows it: its entries' sums in the deposit's currency (its decimals), USD with cents. */
export function balanceTransactionObject(row: LedgerTransactionRow): BalanceTransactionObject {
  const amountOf = (units: string) => formatAmount(BigInt(units), row.decimals);
  const amountUsdCents = BigInt(row.amount_usd_cents);
  const feeUsdCents = BigInt(row.fee_usd_cents);
  return {
    id: row.id,
    object: 'balance_transaction',
    type: row.kind,
    deposit_id: row.deposit_id,
    payout_id: row.payout_id,
    livemode: row.livemode,
    network: row.network,
    currency: row.currency,
    amount: amountOf(row.amount),
    fee: amountOf(row.fee),
    net: amountOf(row.net),
    amount_usd: formatUsdCents(amountUsdCents),
    fee_usd: formatUsdCents(feeUsdCents),
    net_usd: formatUsdCents(amountUsdCents - feeUsdCents),
    created_at: row.created_at.toISOString(),
  };
}
