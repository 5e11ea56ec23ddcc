import { Readable } from 'node:stream';
import Router from '@koa/router';
import { callerOf, type AppState } from '../api/context';
import { csvRows } from '../api/csv';
import { inputOf } from '../api/middleware/validate';
import { route, streamed } from '../api/operation';
import { paginate } from '../api/pagination';
import type { Db } from '../db/database';
import { ResourceMissingError } from '../domain/errors';
import { balanceByCurrency, findLedgerTransaction, listLedgerTransactions } from './ledger.repository';
import { balanceObject, balanceTransactionObject } from './balance.presenter';
import { balanceTransactionCsvColumns, balanceOperations as operations } from './balance.schema';

/**
 * `GET /balance`: what the caller's mode has received, paid in fees and netted, from the ledger;
 * `GET /balance/transactions` (and its CSV export, and one by id): the ledger's transactions.
 */
export function balanceRoutes(deps: { db: Db }): Router<AppState> {
  const router = new Router<AppState>();
  route(router, operations.retrieve, async (ctx) => {
    const caller = callerOf(ctx);
    return balanceObject(caller, await balanceByCurrency(deps.db, caller));
  });

  route(router, operations.listTransactions, async (ctx) => {
    const caller = callerOf(ctx);
    const { deposit_id, payout_id, network, currency, type, ...page } = inputOf(ctx, operations.listTransactions.query);
    return paginate(page, {
      fetch: (window) => listLedgerTransactions(deps.db, caller, { deposit_id, payout_id, network, currency, type }, window),
      exists: async (id) => (await findLedgerTransaction(deps.db, caller, id)) !== undefined,
      present: (rows) => rows.map(balanceTransactionObject),
    });
  });

  // Before retrieve: `/balance/transactions/export` would otherwise be read as a transaction's id.
  route(router, operations.exportTransactions, async (ctx) => {
    const caller = callerOf(ctx);
    const { 'created[gte]': createdFrom, 'created[lt]': createdBefore, ...filters } = inputOf(ctx, operations.exportTransactions.query);
    const pageSize = 500;
    const rows = csvRows(
      balanceTransactionCsvColumns,
      (startingAfter) => listLedgerTransactions(deps.db, caller, filters, { limit: pageSize, startingAfter, createdFrom, createdBefore }),
      pageSize,
      (row) => {
        const object = balanceTransactionObject(row);
        return balanceTransactionCsvColumns.map((column) => object[column]);
      },
    );
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="balance-transactions-${caller.mode}.csv"`);
    ctx.body = Readable.from(rows);
    return streamed;
  });

  route(router, operations.retrieveTransaction, async (ctx) => {
    const id = ctx.params.id ?? '';
    const row = await findLedgerTransaction(deps.db, callerOf(ctx), id);
    if (!row) throw new ResourceMissingError(`No such balance transaction: '${id}'`, 'id');
    return balanceTransactionObject(row);
  });
  return router;
}
