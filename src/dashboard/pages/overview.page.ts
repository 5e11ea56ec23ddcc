/** The overview: the balance, and charts of the newest 500 deposits (the API has no aggregates). */
import type { Context } from 'koa';
import type { Schemas } from '../../../sdk/src';
import { barChart, type Bar } from '../charts';
import { table, type Column } from '../components/table';
import { html } from '../html';
import type { DashboardPage, DashboardState } from '../view';

const balanceColumns: Array<Column<Schemas['Balance']['by_currency'][number]>> = [
  { header: 'Network', cell: (row) => row.network },
  { header: 'Currency', cell: (row) => row.currency },
  { header: 'Received', cell: (row) => row.total_received },
  { header: 'Fees', cell: (row) => row.total_fees },
  { header: 'Net', cell: (row) => row.net },
  { header: 'Available', cell: (row) => row.available, cellAttributes: html`data-field="available"` },
  { header: 'Pending payouts', cell: (row) => row.pending, cellAttributes: html`data-field="pending"`, hideNarrow: true },
  { header: 'Paid out', cell: (row) => row.paid_out, cellAttributes: html`data-field="paid_out"`, hideNarrow: true },
  { header: 'Deposits', cell: (row) => row.deposit_count },
];

async function overview(_ctx: Context, { inflow, clock }: DashboardState) {
  const [balance, deposits] = await Promise.all([inflow.balance.retrieve(), inflow.deposits.list({ limit: 100 }).autoPagingToArray({ limit: 500 })]);
  const days: Bar[] = [];
  const today = new Date(clock().toISOString().slice(0, 10));
  for (let back = 13; back >= 0; back--) {
    const day = new Date(today.getTime() - back * 86_400_000).toISOString().slice(0, 10);
    days.push({ label: day.slice(5), value: deposits.filter((deposit) => deposit.created_at.startsWith(day)).length });
  }
  const completed = deposits
    .filter((deposit) => deposit.completed_at)
    .slice(0, 20)
    .reverse();
  const durations = completed.map((deposit) => ({
    label: deposit.id.slice(-4),
    value: Math.round((Date.parse(deposit.completed_at as string) - Date.parse(deposit.created_at)) / 1000),
  }));
  return {
    title: 'Overview',
    body: html`<section data-balance aria-labelledby="balance-heading">
        <h2 id="balance-heading">Balance</h2>
        <p>
          Net: <strong>$<span data-net-usd>${balance.net_usd}</span></strong> USD (received $${balance.total_received_usd}, fees $${balance.total_fees_usd})
        </p>
        ${table(balance.by_currency, balanceColumns, {
          rowAttributes: (row) => html`data-balance-row data-currency="${row.currency}" data-network="${row.network}"`,
          caption: 'Balance per currency',
        })}
        ${
          balance.by_currency.length
            ? html`<p>
                Available is what can be paid out now: the net less what payouts and refunds sent (with their fees) and less what those in flight hold
                (pending).
              </p>`
            : html`<p>No completed deposits yet.</p>`
        }
      </section>
      <section aria-labelledby="chart-days">
        <h2 id="chart-days">Deposits per day (last 14 days)</h2>
        ${barChart('deposits-per-day', 'Deposits per day', days, 'deposits')}
      </section>
      <section aria-labelledby="chart-ttc">
        <h2 id="chart-ttc">Time to completion (last ${durations.length} completed deposits, seconds)</h2>
        ${barChart('time-to-completion', 'Seconds from detection to completion', durations, 'seconds')}
      </section>`,
  };
}

export const overviewPage: DashboardPage = { section: 'overview', routes: [{ method: 'get', path: '/', build: overview }] };
