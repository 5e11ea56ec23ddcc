import Router from '@koa/router';
import type { Db } from '../../../db/database';
import { balanceByCurrency } from '../../../db/repositories/ledger.repository';
import { formatAmount, formatUsdCents } from '../../../domain/money';
import { currencyOn, isNetwork } from '../../../domain/networks';
import { callerOf, type AppState } from '../../context';

/** `GET /balance`: what the caller's mode has received, paid in fees and netted, from the ledger. */
export function balanceRoutes(deps: { db: Db }): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/balance', async (ctx) => {
    const caller = callerOf(ctx);
    const rows = await balanceByCurrency(deps.db, caller);
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
        deposit_count: Number(row.deposit_count),
      };
    });
    ctx.body = {
      object: 'balance',
      livemode: caller.livemode,
      by_currency: byCurrency,
      total_received_usd: formatUsdCents(receivedCents),
      total_fees_usd: formatUsdCents(feesCents),
      net_usd: formatUsdCents(receivedCents - feesCents),
    };
  });
  return router;
}
