/** Deposits: the filtered list, test mode's simulator, and a deposit's page (updated live by live.ts) with its refunds and, once completed, the refund form. */
import type { Context } from 'koa';
import { PermissionError, type Inflow, type Schemas } from '../../../sdk/src';
import { depositStatuses } from '../../domain/deposit-state';
import { networkNames, type Network } from '../../domain/networks';
import { depositTable } from '../components/deposit-table';
import { eventTable } from '../components/event-table';
import { facts } from '../components/facts';
import { choiceFilter, filterForm, pick } from '../components/filters';
import { downloadLink } from '../components/download';
import { transactionHash } from '../components/explorer';
import { cursorOf, nextPage } from '../components/pagination';
import { payoutTable } from '../components/payout-table';
import { html } from '../html';
import { csrfField, when, type Chrome } from '../layout';
import { redirect, sendCsv } from '../responses';
import type { DashboardPage, DashboardState } from '../view';
import { refundForm, refundWriteRoutes } from './payout-writes';

/** The list's filters from the page's query: those set, each one the API takes (anything else is no filter). */
function depositFilters(ctx: Context) {
  const status = pick(ctx.query.status, depositStatuses);
  const network = pick(ctx.query.network, networkNames);
  const customerId = typeof ctx.query.customer_id === 'string' && ctx.query.customer_id ? ctx.query.customer_id : undefined;
  return {
    shown: { status, network, customer_id: customerId },
    query: { ...(status ? { status } : {}), ...(network ? { network } : {}), ...(customerId ? { customer_id: customerId } : {}) },
  };
}

async function depositList(ctx: Context, { inflow, chrome }: DashboardState) {
  const filters = depositFilters(ctx);
  const { status: statusFilter, network, customer_id: customerId } = filters.shown;
  const after = cursorOf(ctx);
  const [list, customers] = await Promise.all([
    inflow.deposits.list({ limit: 50, ...filters.query, ...(after ? { starting_after: after } : {}) }),
    chrome.mode === 'test' ? inflow.customers.list({ limit: 100 }) : Promise.resolve(undefined),
  ]);
  return {
    title: 'Deposits',
    body: html`${filterForm({ id: 'deposit-filters', action: '/dashboard/deposits', label: 'Filter deposits' }, [
      choiceFilter('f-status', 'Status', 'status', depositStatuses, statusFilter),
      choiceFilter('f-network', 'Network', 'network', networkNames, network),
      html`<label for="f-customer">Customer id <input id="f-customer" name="customer_id" value="${customerId ?? ''}" placeholder="cus_…" /></label>`,
    ])}
    ${downloadLink('/dashboard/deposits/export', filters.shown)} ${depositTable(list.data)} ${nextPage('/dashboard/deposits', list, filters.shown)}
    ${customers ? simulateForm(chrome, customers.data) : ''}`,
  };
}

/** The filtered list as CSV: the API's export (`GET /deposits/export`) with the session's key, passed on as it streams. */
async function depositExport(ctx: Context, { inflow, chrome }: DashboardState) {
  sendCsv(ctx, `deposits-${chrome.mode}.csv`, await inflow.deposits.export(depositFilters(ctx).query));
}

const simulateForm = (chrome: Chrome, customers: Array<Schemas['Customer']>) =>
  html`<section aria-labelledby="simulate-heading">
    <h2 id="simulate-heading">Simulate a deposit (test mode)</h2>
    <form id="simulate" class="stack" method="post" action="/dashboard/deposits/simulate">
      ${csrfField(chrome.csrfToken)}
      <label for="s-customer"
        >Customer
        <select id="s-customer" name="customer_id" required>
          ${customers.map((customer) => html`<option value="${customer.id}">${customer.email ?? customer.name ?? customer.id} (${customer.id})</option>`)}
        </select></label
      >
      ${customers.length ? '' : html`<p>Create a customer first.</p>`}
      <label for="s-network"
        >Network
        <select id="s-network" name="network">
          ${networkNames.map((value) => html`<option>${value}</option>`)}
        </select></label
      >
      <label for="s-currency">Currency <input id="s-currency" name="currency" value="USDC" required /></label>
      <label for="s-amount">Amount <input id="s-amount" name="amount" inputmode="decimal" value="25" required /></label>
      <label for="s-outcome"
        >Outcome
        <select id="s-outcome" name="outcome">
          <option>completed</option>
          <option>failed</option>
        </select></label
      >
      <button type="submit">Simulate deposit</button>
    </form>
  </section>`;

async function simulateDeposit(ctx: Context, { inflow, form }: DashboardState) {
  const deposit = await inflow.deposits.simulate({
    customer_id: form.get('customer_id') ?? '',
    network: (form.get('network') ?? 'ethereum') as Network,
    currency: form.get('currency') ?? '',
    amount: form.get('amount') ?? '',
    outcome: form.get('outcome') === 'failed' ? 'failed' : 'completed',
  });
  redirect(ctx, `/dashboard/deposits/${encodeURIComponent(deposit.id)}`);
}

/** Events about an object: the API has no filter by object, so the newest 100 are searched. */
async function eventsAbout(inflow: Inflow, objectId: string) {
  const newest = (await inflow.events.list({ limit: 100 })).data;
  return { events: newest.filter((event) => event.data.id === objectId), newestId: newest[0]?.id };
}

/** The transaction hash, with an explorer link for a live, on-chain deposit. */
function transaction(deposit: Schemas['Deposit']) {
  return html`${transactionHash(deposit.network, deposit.transaction_hash, !deposit.simulated && deposit.livemode)}${deposit.simulated ? ' (simulated)' : ''}`;
}

/** The deposit's refunds; undefined for a key that may read deposits but not payouts (the page shows the deposit without them). */
async function refundsOf(inflow: Inflow, depositId: string): Promise<Array<Schemas['Payout']> | undefined> {
  try {
    return await inflow.payouts.list({ deposit_id: depositId, limit: 100 }).autoPagingToArray({ limit: 1000 });
  } catch (error) {
    if (error instanceof PermissionError) return undefined;
    throw error;
  }
}

async function depositDetail(ctx: Context, { inflow, chrome }: DashboardState) {
  const id = ctx.params.id as string;
  // The newest event first, then the deposit: the page's stream resumes after that event, so no
  // change made after the deposit was read can be missed (one made before may come again).
  const { events, newestId } = await eventsAbout(inflow, id);
  const deposit = await inflow.deposits.retrieve(id);
  const refunds = await refundsOf(inflow, deposit.id);
  const confirmations = `${deposit.confirmations} / ${deposit.required_confirmations}`;
  return {
    title: `Deposit ${deposit.id}`,
    body: html`<section
        data-live-deposit="${deposit.id}"
        data-updated-at="${deposit.updated_at}"
        data-stream-after="${newestId ?? ''}"
        aria-labelledby="dep-heading"
      >
        <h2 id="dep-heading">Status: <span data-deposit-status class="status-${deposit.status}">${deposit.status}</span></h2>
        <p class="skip" aria-live="polite" data-live-region></p>
        ${facts([
          [
            'Confirmations',
            html`<progress
                data-confirmations
                value="${Math.min(deposit.confirmations, deposit.required_confirmations)}"
                max="${deposit.required_confirmations}"
                aria-label="Confirmations"
              >
                ${confirmations}
              </progress>
              <span data-confirmations-text>${confirmations}</span>`,
          ],
          ['Amount', `${deposit.amount} ${deposit.currency}${deposit.amount_usd ? ` ($${deposit.amount_usd})` : ''}`],
          ['Fee', deposit.fee === null ? '—' : `${deposit.fee} ${deposit.currency}`, html`data-fee`],
          ['Net', deposit.net_amount === null ? '—' : `${deposit.net_amount} ${deposit.currency}`, html`data-net`],
          deposit.status === 'completed' && ['Refunded', `${deposit.amount_refunded} ${deposit.currency}`, html`data-refunded`],
          ['Network', deposit.network],
          ['Address', html`<code>${deposit.address}</code>`],
          ['From', html`<code>${deposit.from_address ?? '—'}</code>`],
          ['Transaction', transaction(deposit)],
          ['Block', deposit.block_number ?? '—'],
          ['Customer', deposit.customer_id ? html`<a href="/dashboard/customers/${deposit.customer_id}">${deposit.customer_id}</a>` : '—'],
          ['Order', deposit.order_id ? html`<a href="/dashboard/orders/${deposit.order_id}">${deposit.order_id}</a>` : '—'],
          !!deposit.failure_reason && ['Failure', deposit.failure_reason],
          ['Created', when(deposit.created_at)],
          ['Completed', when(deposit.completed_at), html`data-completed-at`],
        ])}
      </section>
      ${
        refunds?.length
          ? html`<section aria-labelledby="dep-refunds">
              <h2 id="dep-refunds">Refunds</h2>
              ${payoutTable(refunds)}
            </section>`
          : ''
      }
      ${refundForm(deposit, chrome)}
      <section aria-labelledby="dep-events">
        <h2 id="dep-events">Events</h2>
        ${eventTable(events)}
      </section>`,
  };
}

export const depositsPage: DashboardPage = {
  section: 'deposits',
  routes: [
    { method: 'get', path: '/deposits', build: depositList },
    { method: 'post', path: '/deposits/simulate', build: simulateDeposit },
    // Before the deposit's page, which would take `export` for an id.
    { method: 'get', path: '/deposits/export', build: depositExport },
    { method: 'get', path: '/deposits/:id', build: depositDetail },
    ...refundWriteRoutes,
  ],
};
