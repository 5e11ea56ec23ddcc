/** Deposits as a table: the deposits page and a customer's recent deposits. */
import type { Schemas } from '../../../sdk/src';
import { html } from '../html';
import { status, when } from '../layout';
import { idLink, table, type Column } from './table';

const columns: Array<Column<Schemas['Deposit']>> = [
  { header: 'Deposit', cell: (deposit) => idLink(`/dashboard/deposits/${deposit.id}`, deposit.id) },
  { header: 'Status', cell: (deposit) => status(deposit.status), cellAttributes: html`data-field="status"` },
  { header: 'Amount', cell: (deposit) => `${deposit.amount} ${deposit.currency}` },
  { header: 'Network', cell: (deposit) => deposit.network, hideNarrow: true },
  { header: 'Confirmations', cell: (deposit) => `${deposit.confirmations} / ${deposit.required_confirmations}`, hideNarrow: true },
  { header: 'Created', cell: (deposit) => when(deposit.created_at), hideNarrow: true },
];

export const depositTable = (deposits: Array<Schemas['Deposit']>) =>
  table(deposits, columns, { rowAttributes: (deposit) => html`data-deposit-id="${deposit.id}"`, empty: 'No deposits.' });
