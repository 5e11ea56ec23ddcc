/** Balance: the ledger's transactions (a completed deposit booked, reversed after a reorg, or a completed payout), filtered, paged and downloadable as CSV. */
import type { Context } from 'koa';
import type { Inflow, Schemas } from '../../../sdk/src';
import { currencyNames, networkNames } from '../../domain/networks';
import { downloadLink } from '../components/download';
import { choiceFilter, filterForm, pick } from '../components/filters';
import { cursorOf, nextPage } from '../components/pagination';
import { idLink, table, type Column } from '../components/table';
import { html } from '../html';
import { when } from '../layout';
import { sendCsv } from '../responses';
import type { DashboardPage, DashboardState } from '../view';

const types = ['deposit', 'reversal', 'payout'] as const;
/** The filter's values as the SDK types them (the document's enum of currencyNames). */
type Currency = NonNullable<NonNullable<Parameters<Inflow['balanceTransactions']['export']>[0]>['currency']>;

const columns: Array<Column<Schemas['BalanceTransaction']>> = [
  { header: 'Transaction', cell: (transaction) => html`<code>${transaction.id}</code>` },
  { header: 'Type', cell: (transaction) => transaction.type, cellAttributes: html`data-field="type"` },
  { header: 'Amount', cell: (transaction) => `${transaction.amount} ${transaction.currency}`, cellAttributes: html`data-field="amount"` },
  { header: 'Fee', cell: (transaction) => `${transaction.fee} ${transaction.currency}`, hideNarrow: true },
  { header: 'Net', cell: (transaction) => `${transaction.net} ${transaction.currency}`, cellAttributes: html`data-field="net"` },
  { header: 'Net (USD)', cell: (transaction) => `$${transaction.net_usd}`, hideNarrow: true },
  { header: 'Network', cell: (transaction) => transaction.network, hideNarrow: true },
  {
    header: 'Deposit or payout',
    cell: (transaction) =>
      transaction.deposit_id
        ? idLink(`/dashboard/deposits/${transaction.deposit_id}`, transaction.deposit_id)
        : transaction.payout_id
          ? idLink(`/dashboard/payouts/${transaction.payout_id}`, transaction.payout_id)
          : '—',
    hideNarrow: true,
  },
  { header: 'Created', cell: (transaction) => when(transaction.created_at), hideNarrow: true },
];

/** The list's filters from the page's query: those set, each one the API takes (anything else is no filter). */
function transactionFilters(ctx: Context) {
  const type = pick(ctx.query.type, types);
  const network = pick(ctx.query.network, networkNames);
  const currency = pick(ctx.query.currency, currencyNames) as Currency | undefined;
  const depositId = typeof ctx.query.deposit_id === 'string' && ctx.query.deposit_id ? ctx.query.deposit_id : undefined;
  return {
    shown: { type, network, currency, deposit_id: depositId },
    query: { ...(type ? { type } : {}), ...(network ? { network } : {}), ...(currency ? { currency } : {}), ...(depositId ? { deposit_id: depositId } : {}) },
  };
}

async function transactionList(ctx: Context, { inflow }: DashboardState) {
  const filters = transactionFilters(ctx);
  const after = cursorOf(ctx);
  const list = await inflow.balanceTransactions.list({ limit: 50, ...filters.query, ...(after ? { starting_after: after } : {}) });
  return {
    title: 'Balance transactions',
    body: html`<p>
        The ledger: one transaction per completed deposit, one (negative) per deposit reversed after a reorg, and one (negative) per completed payout or refund.
        The overview sums them.
      </p>
      ${filterForm({ id: 'balance-filters', action: '/dashboard/balance', label: 'Filter balance transactions' }, [
        choiceFilter('b-type', 'Type', 'type', types, filters.shown.type),
        choiceFilter('b-network', 'Network', 'network', networkNames, filters.shown.network),
        choiceFilter('b-currency', 'Currency', 'currency', currencyNames, filters.shown.currency),
        html`<label for="b-deposit"
          >Deposit id <input id="b-deposit" name="deposit_id" value="${filters.shown.deposit_id ?? ''}" placeholder="dep_…"
        /></label>`,
      ])}
      ${downloadLink('/dashboard/balance/export', filters.shown)}
      ${table(list.data, columns, { rowAttributes: (transaction) => html`data-balance-transaction-id="${transaction.id}"`, empty: 'No balance transactions.' })}
      ${nextPage('/dashboard/balance', list, filters.shown)}`,
  };
}

/** The filtered ledger as CSV: the API's export (`GET /balance/transactions/export`) with the session's key, passed on as it streams. */
async function transactionExport(ctx: Context, { inflow, chrome }: DashboardState) {
  sendCsv(ctx, `balance-transactions-${chrome.mode}.csv`, await inflow.balanceTransactions.export(transactionFilters(ctx).query));
}

export const balancePage: DashboardPage = {
  section: 'balance',
  routes: [
    { method: 'get', path: '/balance', build: transactionList },
    { method: 'get', path: '/balance/export', build: transactionExport },
  ],
};
