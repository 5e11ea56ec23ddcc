/** Payouts: the list by status, and a payout's page (refunds included) with its transaction, its approval and its cancel while nothing is signed. */
import type { Context } from 'koa';
import { payoutStatuses } from '../../payouts/payouts.table';
import { transactionHash } from '../components/explorer';
import { facts, metadataFacts } from '../components/facts';
import { choiceFilter, filterForm, pick } from '../components/filters';
import { cursorOf, nextPage } from '../components/pagination';
import { payoutTable } from '../components/payout-table';
import { html } from '../html';
import { when } from '../layout';
import type { DashboardPage, DashboardState } from '../view';
import { payoutWriteForms, payoutWriteRoutes } from './payout-writes';

async function payoutList(ctx: Context, { inflow }: DashboardState) {
  const statusFilter = pick(ctx.query.status, payoutStatuses);
  const after = cursorOf(ctx);
  const list = await inflow.payouts.list({ limit: 50, ...(statusFilter ? { status: statusFilter } : {}), ...(after ? { starting_after: after } : {}) });
  return {
    title: 'Payouts',
    body: html`<p>
        Payouts send part of the available balance from the treasury's hot wallet (<code>POST /payouts</code>); refunds, made on a completed deposit's page, are
        payouts too. What one holds is back in the balance if it fails or is canceled.
      </p>
      ${filterForm({ id: 'payout-filters', action: '/dashboard/payouts', label: 'Filter payouts' }, [
        choiceFilter('p-status', 'Status', 'status', payoutStatuses, statusFilter),
      ])}
      ${payoutTable(list.data)} ${nextPage('/dashboard/payouts', list, { status: statusFilter })}`,
  };
}

async function payoutDetail(ctx: Context, { inflow, chrome }: DashboardState) {
  const payout = await inflow.payouts.retrieve(ctx.params.id as string);
  return {
    title: `${payout.deposit_id ? 'Refund' : 'Payout'} ${payout.id}`,
    body: html`<section aria-labelledby="po-facts">
        <h2 id="po-facts">Status: <span data-payout-status class="status-${payout.status}">${payout.status}</span></h2>
        ${facts([
          ['Id', html`<code>${payout.id}</code>`],
          ['Amount', `${payout.amount} ${payout.currency}`, html`data-amount`],
          [
            'Fee',
            `${payout.fee} ${payout.currency}${payout.fee_basis === 'measured' ? (payout.status === 'completed' ? ' (the network cost)' : ' at most (the network cost)') : ''}`,
            html`data-fee`,
          ],
          ['Network', payout.network],
          ['Destination', html`<code data-destination>${payout.destination}</code>`],
          ['Transaction', payout.transaction_hash ? transactionHash(payout.network, payout.transaction_hash, payout.livemode) : '—', html`data-transaction`],
          ['Refund of', payout.deposit_id ? html`<a href="/dashboard/deposits/${payout.deposit_id}"><code>${payout.deposit_id}</code></a>` : '—'],
          ['External id', payout.external_id ?? '—'],
          !!payout.failure_reason && ['Failure', payout.failure_reason, html`data-failure-reason`],
          ['Created', when(payout.created_at)],
          !!payout.approved_at && ['Approved', when(payout.approved_at)],
          ['Broadcast', when(payout.broadcast_at)],
          ['Ended', when(payout.completed_at), html`data-ended-at`],
        ])}
        ${payoutWriteForms(payout, chrome)}
      </section>
      <section aria-labelledby="po-meta">
        <h2 id="po-meta">Metadata</h2>
        ${metadataFacts(payout.metadata)}
      </section>`,
  };
}

export const payoutsPage: DashboardPage = {
  section: 'payouts',
  routes: [{ method: 'get', path: '/payouts', build: payoutList }, { method: 'get', path: '/payouts/:id', build: payoutDetail }, ...payoutWriteRoutes],
};
