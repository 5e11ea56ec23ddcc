/**
 * A customer's edit form (email, name, external id, metadata) and archive, on its page. The edit
 * sends what the form says the customer is: an emptied field is cleared (null), and a metadata
 * line removed is a key removed (the API merges metadata, so removed keys are sent as "").
 */
import type { Context } from 'koa';
import type { Schemas } from '../../../sdk/src';
import { html, type SafeHtml } from '../html';
import { csrfField, type Chrome } from '../layout';
import { redirect } from '../responses';
import type { DashboardState } from '../view';

type Customer = Schemas['Customer'];

/** The create and edit forms' metadata: one `key=value` a line (a line without `=` is a key with an empty value). */
export function parseMetadata(text: string | undefined): Record<string, string> | undefined {
  const entries = (text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf('=');
      return at < 0 ? [line, ''] : [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    });
  return entries.length ? Object.fromEntries(entries) : undefined;
}

const metadataText = (metadata: Record<string, string>) =>
  Object.entries(metadata)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');

/** The edit and archive forms of a customer's page. */
export function customerWriteForms(customer: Customer, chrome: Chrome): SafeHtml {
  const action = `/dashboard/customers/${customer.id}`;
  return html`<section aria-labelledby="cus-edit">
      <h2 id="cus-edit">Edit</h2>
      <form id="edit-customer" class="stack" method="post" action="${action}/edit">
        ${csrfField(chrome.csrfToken)}
        <label for="ce-email">Email <input id="ce-email" name="email" type="email" autocomplete="off" value="${customer.email ?? ''}" /></label>
        <label for="ce-name">Name <input id="ce-name" name="name" autocomplete="off" value="${customer.name ?? ''}" /></label>
        <label for="ce-external">External id <input id="ce-external" name="external_id" autocomplete="off" value="${customer.external_id ?? ''}" /></label>
        <label for="ce-metadata"
          >Metadata (one key=value a line; a line removed is a key removed)
          <textarea id="ce-metadata" name="metadata" rows="4">${metadataText(customer.metadata)}</textarea>
        </label>
        <button type="submit">Save customer</button>
      </form>
    </section>
    ${
      customer.archived
        ? ''
        : html`<section aria-labelledby="cus-archive">
            <h2 id="cus-archive">Archive</h2>
            <p>An archived customer leaves the default list; its addresses stay watched and credited.</p>
            <form id="archive-customer" method="post" action="${action}/archive" data-confirm="Archive this customer?">
              ${csrfField(chrome.csrfToken)}<button type="submit" class="danger">Archive customer</button>
            </form>
          </section>`
    }`;
}

const orNull = (value: string | undefined) => (value && value.trim() ? value.trim() : null);

async function updateCustomer(ctx: Context, { inflow, form }: DashboardState) {
  const id = ctx.params.id as string;
  const before = await inflow.customers.retrieve(id);
  const wanted = parseMetadata(form.get('metadata')) ?? {};
  // Merged by the API: every key no longer in the form is sent as "" (removed).
  const removed = Object.fromEntries(
    Object.keys(before.metadata)
      .filter((key) => !(key in wanted))
      .map((key) => [key, '']),
  );
  const metadata = { ...removed, ...wanted };
  await inflow.customers.update(id, {
    email: orNull(form.get('email')),
    name: orNull(form.get('name')),
    external_id: orNull(form.get('external_id')),
    ...(Object.keys(metadata).length ? { metadata } : {}),
  });
  redirect(ctx, `/dashboard/customers/${encodeURIComponent(id)}`);
}

async function archiveCustomer(ctx: Context, { inflow }: DashboardState) {
  const id = ctx.params.id as string;
  await inflow.customers.archive(id);
  redirect(ctx, `/dashboard/customers/${encodeURIComponent(id)}`);
}

export const customerWriteRoutes = [
  { method: 'post', path: '/customers/:id/edit', build: updateCustomer },
  { method: 'post', path: '/customers/:id/archive', build: archiveCustomer },
] as const;
