/**
 * The order create form (network, currency, a crypto amount or a fiat amount, external id,
 * expiry) on the orders list, and cancel on an order's page. The API checks every value: what it
 * refuses comes back as the page's alert.
 */
import type { Context } from 'koa';
import type { Inflow, Schemas } from '../../../sdk/src';
import { networkNames } from '../../domain/networks';
import { optionalField } from '../forms';
import { html, type SafeHtml } from '../html';
import { csrfField, type Chrome } from '../layout';
import { redirect } from '../responses';
import type { DashboardState } from '../view';

/** The create form, below the orders list. */
export function createOrderForm(chrome: Chrome): SafeHtml {
  return html`<section aria-labelledby="new-order">
    <h2 id="new-order">New order</h2>
    <form id="create-order" class="stack" method="post" action="/dashboard/orders">
      ${csrfField(chrome.csrfToken)}
      <label for="o-external">External id (your order number, unique) <input id="o-external" name="external_id" required autocomplete="off" /></label>
      <label for="o-network"
        >Network
        <select id="o-network" name="network">
          ${networkNames.map((network) => html`<option>${network}</option>`)}
        </select></label
      >
      <label for="o-currency">Currency <input id="o-currency" name="currency" value="USDT" required /></label>
      <label for="o-amount">Amount in the currency (or leave empty and give a fiat amount) <input id="o-amount" name="amount" inputmode="decimal" /></label>
      <label for="o-fiat">Fiat amount <input id="o-fiat" name="fiat_amount" inputmode="decimal" /></label>
      <label for="o-fiat-currency"
        >Fiat currency
        <select id="o-fiat-currency" name="fiat_currency">
          <option>USD</option>
          <option>EUR</option>
        </select></label
      >
      <label for="o-expires">Expires in (seconds) <input id="o-expires" name="expires_in" inputmode="numeric" value="900" /></label>
      <button type="submit">Create order</button>
    </form>
  </section>`;
}

/** The cancel form of an order's page, while it can still be paid. */
export function cancelOrderForm(order: Schemas['Order'], chrome: Chrome): SafeHtml {
  if (order.status !== 'pending') return html``;
  return html`<form id="cancel-order" method="post" action="/dashboard/orders/${order.id}/cancel" data-confirm="Cancel this order? It can no longer be paid.">
    ${csrfField(chrome.csrfToken)}<button type="submit" class="danger">Cancel order</button>
  </form>`;
}

/** A whole number when the field is one; otherwise as typed, for the API to refuse. */
const wholeNumber = (value: string | undefined) => {
  const text = (value ?? '').trim();
  return /^\d{1,9}$/.test(text) ? { expires_in: Number(text) } : text ? { expires_in: text as unknown as number } : {};
};

async function createOrder(ctx: Context, { inflow, form }: DashboardState) {
  const fiat = optionalField('fiat_amount', form.get('fiat_amount'));
  const order = await inflow.orders.create({
    external_id: form.get('external_id') ?? '',
    network: form.get('network') ?? '',
    currency: (form.get('currency') ?? '').trim(),
    ...optionalField('amount', form.get('amount')),
    ...fiat,
    ...('fiat_amount' in fiat ? optionalField('fiat_currency', form.get('fiat_currency')) : {}),
    ...wholeNumber(form.get('expires_in')),
  } as Parameters<Inflow['orders']['create']>[0]);
  redirect(ctx, `/dashboard/orders/${encodeURIComponent(order.id)}`);
}

async function cancelOrder(ctx: Context, { inflow }: DashboardState) {
  const id = ctx.params.id as string;
  await inflow.orders.cancel(id);
  redirect(ctx, `/dashboard/orders/${encodeURIComponent(id)}`);
}

export const orderWriteRoutes = [
  { method: 'post', path: '/orders', build: createOrder },
  { method: 'post', path: '/orders/:id/cancel', build: cancelOrder },
] as const;
