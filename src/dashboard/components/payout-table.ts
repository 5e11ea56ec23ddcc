/** Payouts as a table: the payouts page and a deposit's refunds. */
import type { Schemas } from '../../../sdk/src';
import { html } from '../html';
import { status, when } from '../layout';
import { idLink, table, type Column } from './table';

const columns: Array<Column<Schemas['Payout']>> = [
  { header: 'Payout', cell: (payout) => idLink(`/dashboard/payouts/${payout.id}`, payout.id) },
  { header: 'Status', cell: (payout) => status(payout.status), cellAttributes: html`data-field="status"` },
  { header: 'Amount', cell: (payout) => `${payout.amount} ${payout.currency}`, cellAttributes: html`data-field="amount"` },
  { header: 'Fee', cell: (payout) => `${payout.fee} ${payout.currency}`, hideNarrow: true },
  { header: 'Network', cell: (payout) => payout.network, hideNarrow: true },
  { header: 'Destination', cell: (payout) => html`<code>${payout.destination}</code>`, hideNarrow: true },
  {
    header: 'Refund of',
    cell: (payout) => (payout.deposit_id ? idLink(`/dashboard/deposits/${payout.deposit_id}`, payout.deposit_id) : '—'),
    hideNarrow: true,
  },
  { header: 'Created', cell: (payout) => when(payout.created_at), hideNarrow: true },
];

export const payoutTable = (payouts: Array<Schemas['Payout']>, empty = 'No payouts.') =>
  table(payouts, columns, { rowAttributes: (payout) => html`data-payout-id="${payout.id}"`, empty });
