/** Orders: the list by status, and an order's page with its address (and QR code), deposits and metadata. */
import type { Context } from 'koa';
import type { Schemas } from '../../../sdk/src';
import { orderStatuses } from '../../domain/order-state';
import { facts, metadataFacts } from '../components/facts';
import { choiceFilter, filterForm, pick } from '../components/filters';
import { cursorOf, nextPage } from '../components/pagination';
import { qrCode } from '../components/qr-code';
import { idLink, table, type Column } from '../components/table';
import { html } from '../html';
import { status, when } from '../layout';
import type { DashboardPage, DashboardState } from '../view';
import { cancelOrderForm, createOrderForm, orderWriteRoutes } from './order-writes';

const columns: Array<Column<Schemas['Order']>> = [
  { header: 'Order', cell: (order) => idLink(`/dashboard/orders/${order.id}`, order.id) },
  { header: 'Status', cell: (order) => status(order.status), cellAttributes: html`data-field="status"` },
  { header: 'Amount', cell: (order) => `${order.amount} ${order.currency}` },
  { header: 'External id', cell: (order) => order.external_id, hideNarrow: true },
  { header: 'Expires', cell: (order) => when(order.expires_at), hideNarrow: true },
];

async function orderList(ctx: Context, { inflow, chrome }: DashboardState) {
  const statusFilter = pick(ctx.query.status, orderStatuses);
  const after = cursorOf(ctx);
  const list = await inflow.orders.list({ limit: 50, ...(statusFilter ? { status: statusFilter } : {}), ...(after ? { starting_after: after } : {}) });
  return {
    title: 'Orders',
    body: html`${filterForm({ action: '/dashboard/orders', label: 'Filter orders' }, [choiceFilter('o-status', 'Status', 'status', orderStatuses, statusFilter)])}
    ${table(list.data, columns, { rowAttributes: (order) => html`data-order-id="${order.id}"`, empty: 'No orders.' })}
    ${nextPage('/dashboard/orders', list, { status: statusFilter })} ${createOrderForm(chrome)}`,
  };
}

async function orderDetail(ctx: Context, { inflow, chrome }: DashboardState) {
  const order = await inflow.orders.retrieve(ctx.params.id as string);
  const code = await qrCode(order.address, `QR code of the order's ${order.network} address`);
  const fiat = order.fiat_amount ? ` (${order.fiat_amount} ${order.fiat_currency ?? ''} at ${order.exchange_rate ?? '?'})` : '';
  return {
    title: `Order ${order.external_id}`,
    body: html`<section aria-labelledby="ord-facts">
        <h2 id="ord-facts">Status: <span data-order-status class="status-${order.status}">${order.status}</span></h2>
        ${facts([
          ['Id', html`<code>${order.id}</code>`],
          ['External id', order.external_id],
          ['Amount', `${order.amount} ${order.currency}${fiat}`],
          ['Received', `${order.amount_received} ${order.currency}${order.overpaid ? ' (overpaid)' : ''}${order.late ? ' (late payment)' : ''}`],
          ['Fee', `${order.fee} ${order.currency}`],
          ['Net', `${order.net_amount} ${order.currency}`],
          ['Network', order.network],
          ['Address', html`<code data-address data-network="${order.network}">${order.address}</code>`],
          ['Customer', order.customer_id ? html`<a href="/dashboard/customers/${order.customer_id}">${order.customer_id}</a>` : '—'],
          [
            'Payment page',
            order.payment_url ? html`<a href="${order.payment_url}" data-payment-url rel="noreferrer" target="_blank">Open the payer's page</a>` : '—',
          ],
          ['Callback URL', order.callback_url ?? '—'],
          ['Success URL', order.success_url ?? '—'],
          ['Cancel URL', order.cancel_url ?? '—'],
          ['Expires', when(order.expires_at)],
          ['Created', when(order.created_at)],
          ['Completed', when(order.completed_at)],
          ['Deposits', order.deposits.length ? order.deposits.map((id) => html`<a href="/dashboard/deposits/${id}"><code>${id}</code></a> `) : '—'],
        ])}
        ${code} ${cancelOrderForm(order, chrome)}
      </section>
      <section aria-labelledby="ord-meta">
        <h2 id="ord-meta">Metadata</h2>
        ${metadataFacts(order.metadata)}
      </section>`,
  };
}

export const ordersPage: DashboardPage = {
  section: 'orders',
  routes: [{ method: 'get', path: '/orders', build: orderList }, { method: 'get', path: '/orders/:id', build: orderDetail }, ...orderWriteRoutes],
};
