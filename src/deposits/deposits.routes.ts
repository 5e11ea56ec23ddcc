import { Readable } from 'node:stream';
import Router from '@koa/router';
import { callerOf, transactionOf, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { prepare, transaction } from '../api/middleware/transaction';
import { inputOf } from '../api/middleware/validate';
import { csvRows } from '../api/csv';
import { route, streamed } from '../api/operation';
import { paginate } from '../api/pagination';
import type { PayoutSettings } from '../config';
import type { Db } from '../db/database';
import type { Mode } from '../domain/mode';
import type { Network } from '../domain/networks';
import type { PriceSource } from '../prices/price-source';
import { createRefund, preparePayout } from '../payouts/payouts.service';
import { findDeposit, listDeposits } from './deposits.repository';
import { ResourceMissingError } from '../domain/errors';
import type { Logger } from '../logger';
import { depositObject } from './deposit.presenter';
import { depositCsvColumns, depositOperations as operations } from './deposits.schema';
import { simulateDeposit } from './simulate';

export interface DepositRouteDeps {
  db: Db;
  logger: Logger;
  /** For refunds: each mode's USD prices (the payout fee) and the operator's payout settings. */
  prices: Record<Mode, PriceSource>;
  payouts?: PayoutSettings | undefined;
  /** Overrides every network's block time for simulated confirmations (tests, demos). */
  simulatedBlockTimeMs?: number | undefined;
}

export function depositRoutes(deps: DepositRouteDeps): Router<AppState> {
  const router = new Router<AppState>();

  route(router, operations.list, async (ctx) => {
    const caller = callerOf(ctx);
    const { customer_id, status, network, order_id, transaction_hash, ...page } = inputOf(ctx, operations.list.query);
    return paginate(page, {
      fetch: (window) => listDeposits(deps.db, caller, { customer_id, status, network, order_id, transaction_hash }, window),
      exists: async (id) => (await findDeposit(deps.db, caller, id)) !== undefined,
      present: (rows) => rows.map(depositObject),
    });
  });

  // Before retrieve: `/deposits/export` would otherwise be read as a deposit's id.
  route(router, operations.export, async (ctx) => {
    const caller = callerOf(ctx);
    const { 'created[gte]': createdFrom, 'created[lt]': createdBefore, ...filters } = inputOf(ctx, operations.export.query);
    const pageSize = 500;
    const rows = csvRows(
      depositCsvColumns,
      (startingAfter) => listDeposits(deps.db, caller, filters, { limit: pageSize, startingAfter, createdFrom, createdBefore }),
      pageSize,
      (deposit) => {
        const object = depositObject(deposit);
        return depositCsvColumns.map((column) => object[column]);
      },
    );
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="deposits-${caller.mode}.csv"`);
    ctx.body = Readable.from(rows);
    return streamed;
  });

  route(router, operations.simulate, transaction(deps.db), idempotency(), async (ctx) => {
    const deposit = await simulateDeposit(transactionOf(ctx), callerOf(ctx), inputOf(ctx, operations.simulate.body), {
      blockTimeMs: deps.simulatedBlockTimeMs,
    });
    return depositObject(deposit);
  });

  route(router, operations.retrieve, async (ctx) => {
    const id = ctx.params.id ?? '';
    const deposit = await findDeposit(deps.db, callerOf(ctx), id);
    if (!deposit) throw new ResourceMissingError(`No such deposit: '${id}'`, 'id');
    return depositObject(deposit);
  });

  // The deposit, the operator's settings and the fee's price are read before the transaction opens.
  const refund = prepare(async (ctx) => {
    const caller = callerOf(ctx);
    const id = ctx.params.id ?? '';
    const deposit = await findDeposit(deps.db, caller, id);
    if (!deposit) throw new ResourceMissingError(`No such deposit: '${id}'`, 'id');
    const { destination, amount } = inputOf(ctx, operations.refund.body);
    const network = deposit.network as Network;
    return {
      deposit,
      prepared: await preparePayout(
        caller,
        { network, currency: deposit.currency, destination, amount },
        { settings: deps.payouts, prices: deps.prices[caller.mode] },
      ),
    };
  });
  route(router, operations.refund, refund, transaction(deps.db), idempotency(), async (ctx) => {
    const { deposit, prepared } = refund.of(ctx);
    return createRefund(transactionOf(ctx), callerOf(ctx), deposit, inputOf(ctx, operations.refund.body), prepared);
  });

  return router;
}
