/** Customers: the list and the create form, and a customer's page with its addresses as text and QR codes. */
import type { Context } from 'koa';
import type { Schemas } from '../../../sdk/src';
import { depositTable } from '../components/deposit-table';
import { facts, metadataFacts } from '../components/facts';
import { cursorOf, nextPage } from '../components/pagination';
import { qrCode } from '../components/qr-code';
import { idLink, table, type Column } from '../components/table';
import { optionalField } from '../forms';
import { html } from '../html';
import { csrfField, when } from '../layout';
import { redirect } from '../responses';
import type { DashboardPage, DashboardState } from '../view';
import { customerWriteForms, customerWriteRoutes, parseMetadata } from './customer-writes';

const columns: Array<Column<Schemas['Customer']>> = [
  { header: 'Customer', cell: (customer) => idLink(`/dashboard/customers/${customer.id}`, customer.id) },
  { header: 'Email', cell: (customer) => customer.email ?? '—' },
  { header: 'Name', cell: (customer) => customer.name ?? '—', hideNarrow: true },
  { header: 'External id', cell: (customer) => customer.external_id ?? '—', hideNarrow: true },
  { header: 'Created', cell: (customer) => when(customer.created_at), hideNarrow: true },
];

async function customerList(ctx: Context, { inflow, chrome }: DashboardState) {
  const after = cursorOf(ctx);
  const list = await inflow.customers.list({ limit: 50, ...(after ? { starting_after: after } : {}) });
  return {
    title: 'Customers',
    body: html`${table(list.data, columns, { rowAttributes: (customer) => html`data-customer-id="${customer.id}"`, empty: 'No customers yet.' })}
      ${nextPage('/dashboard/customers', list)}
      <section aria-labelledby="new-customer">
        <h2 id="new-customer">New customer</h2>
        <form id="create-customer" class="stack" method="post" action="/dashboard/customers">
          ${csrfField(chrome.csrfToken)}
          <label for="c-email">Email <input id="c-email" name="email" type="email" autocomplete="off" /></label>
          <label for="c-name">Name <input id="c-name" name="name" autocomplete="off" /></label>
          <label for="c-external">External id <input id="c-external" name="external_id" autocomplete="off" /></label>
          <label for="c-metadata">Metadata (one key=value a line) <textarea id="c-metadata" name="metadata" rows="3"></textarea></label>
          <button type="submit">Create customer</button>
        </form>
      </section>`,
  };
}

async function createCustomer(ctx: Context, { inflow, form }: DashboardState) {
  const metadata = parseMetadata(form.get('metadata'));
  const customer = await inflow.customers.create({
    ...optionalField('email', form.get('email')),
    ...optionalField('name', form.get('name')),
    ...optionalField('external_id', form.get('external_id')),
    ...(metadata ? { metadata } : {}),
  });
  redirect(ctx, `/dashboard/customers/${encodeURIComponent(customer.id)}`);
}

async function customerDetail(ctx: Context, { inflow, chrome }: DashboardState) {
  const id = ctx.params.id as string;
  const [customer, deposits] = await Promise.all([inflow.customers.retrieve(id), inflow.deposits.list({ customer_id: id, limit: 20 })]);
  const codes = await Promise.all(customer.addresses.map((entry) => qrCode(entry.address, `QR code of the ${entry.network} address`)));
  return {
    title: `Customer ${customer.email ?? customer.name ?? customer.id}`,
    body: html`<section aria-labelledby="cus-facts">
        <h2 id="cus-facts">Details</h2>
        ${facts([
          ['Id', html`<code>${customer.id}</code>`],
          ['Email', customer.email ?? '—'],
          ['Name', customer.name ?? '—'],
          ['External id', customer.external_id ?? '—'],
          ['Archived', customer.archived ? 'yes' : 'no'],
          ['Created', when(customer.created_at)],
        ])}
      </section>
      <section aria-labelledby="cus-meta">
        <h2 id="cus-meta">Metadata</h2>
        ${metadataFacts(customer.metadata)}
      </section>
      <section aria-labelledby="cus-addr">
        <h2 id="cus-addr">Deposit addresses</h2>
        <div class="qr-grid">
          ${customer.addresses.map(
            (entry, index) =>
              html`<figure class="card">
                <figcaption>
                  <strong>${entry.network}</strong> (${entry.currencies.join(', ')})<br /><code data-address data-network="${entry.network}"
                    >${entry.address}</code
                  >
                </figcaption>
                ${codes[index]}
              </figure>`,
          )}
        </div>
      </section>
      <section aria-labelledby="cus-dep">
        <h2 id="cus-dep">Recent deposits</h2>
        ${depositTable(deposits.data)}
      </section>
      ${customerWriteForms(customer, chrome)}`,
  };
}

export const customersPage: DashboardPage = {
  section: 'customers',
  routes: [
    { method: 'get', path: '/customers', build: customerList },
    { method: 'post', path: '/customers', build: createCustomer },
    { method: 'get', path: '/customers/:id', build: customerDetail },
    ...customerWriteRoutes,
  ],
};
