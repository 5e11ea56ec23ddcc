/**
 * Webhook endpoints: the list and the create form, and an endpoint's page: its signing secret
 * (shown once, on the page that answers a create or a rotation), its signature format, disable /
 * enable, a test ping, and its recent deliveries.
 */
import type { Context } from 'koa';
import type { Inflow, Schemas } from '../../../sdk/src';
import { eventTypes } from '../../domain/events';
import type { WebhookSignatureFormat } from '../../domain/signatures';
import { facts } from '../components/facts';
import { idLink, table, type Column } from '../components/table';
import { optionalField } from '../forms';
import { html, type SafeHtml } from '../html';
import { csrfField, status, when, type Chrome } from '../layout';
import { redirect } from '../responses';
import type { DashboardPage, DashboardState } from '../view';
import { endpointWriteForms, endpointWriteRoutes } from './webhook-writes';

type Endpoint = Schemas['WebhookEndpoint'];
type EventWithDeliveries = Schemas['EventWithDeliveries'];

/** What each X-Webhook-Signature format verifies with, in the words of the samples merchants copy. */
const signatureFormatLabels = {
  compact: "compact: HMAC of the body as sent (TotoPay's Node sample, any raw-body check)",
  python_json_dumps: "python_json_dumps: HMAC of Python's json.dumps(payload) (TotoPay's Python sample)",
} as const satisfies Record<WebhookSignatureFormat, string>;

/** The labelled <select> of an endpoint's X-Webhook-Signature format, `chosen` selected. */
function signatureFormatField(id: string, chosen: keyof typeof signatureFormatLabels): SafeHtml {
  return html`<label for="${id}"
    >X-Webhook-Signature format
    <select id="${id}" name="x_webhook_signature_format">
      ${(Object.keys(signatureFormatLabels) as Array<keyof typeof signatureFormatLabels>).map(
        (format) => html`<option value="${format}" ${format === chosen ? html` selected` : ''}>${signatureFormatLabels[format]}</option>`,
      )}
    </select></label
  >`;
}

const endpointColumns: Array<Column<Endpoint>> = [
  { header: 'Endpoint', cell: (endpoint) => idLink(`/dashboard/webhooks/${endpoint.id}`, endpoint.id) },
  { header: 'URL', cell: (endpoint) => html`<code>${endpoint.url}</code>` },
  { header: 'State', cell: (endpoint) => (endpoint.disabled ? 'disabled' : 'enabled'), cellAttributes: html`data-field="state"` },
  { header: 'Events', cell: (endpoint) => endpoint.events.join(', '), hideNarrow: true },
];

async function endpointList(_ctx: Context, { inflow, chrome }: DashboardState) {
  const list = await inflow.webhookEndpoints.list({ limit: 100 });
  return {
    title: 'Webhook endpoints',
    body: html`${table(list.data, endpointColumns, { rowAttributes: (endpoint) => html`data-endpoint-id="${endpoint.id}"`, empty: 'No endpoints yet.' })}
      <section aria-labelledby="new-endpoint">
        <h2 id="new-endpoint">New endpoint</h2>
        <form id="create-endpoint" class="stack" method="post" action="/dashboard/webhooks">
          ${csrfField(chrome.csrfToken)}
          <label for="w-url">URL <input id="w-url" name="url" type="url" required placeholder="https://shop.example.com/inflow/webhooks" /></label>
          <label for="w-description">Description <input id="w-description" name="description" /></label>
          <fieldset>
            <legend>Events</legend>
            <label><input type="checkbox" name="events" value="*" checked /> All events (*)</label>
            ${eventTypes.filter((type) => type !== 'ping').map((type) => html`<label><input type="checkbox" name="events" value="${type}" /> ${type}</label>`)}
          </fieldset>
          ${signatureFormatField('w-signature-format', 'compact')}
          <button type="submit">Create endpoint</button>
        </form>
      </section>`,
  };
}

type Delivery = { event: EventWithDeliveries; delivery: EventWithDeliveries['deliveries'][number] };

const deliveryColumns: Array<Column<Delivery>> = [
  { header: 'Event', cell: ({ event }) => idLink(`/dashboard/events/${event.id}`, event.id) },
  { header: 'Type', cell: ({ event }) => event.event },
  { header: 'Status', cell: ({ delivery }) => status(delivery.status), cellAttributes: html`data-delivery-status` },
  { header: 'Attempts', cell: ({ delivery }) => delivery.attempts.length },
  { header: 'Last answer', cell: ({ delivery }) => delivery.attempts.at(-1)?.status_code ?? delivery.attempts.at(-1)?.error ?? '—', hideNarrow: true },
];

/** An endpoint's page; `secret` is shown once, on the answer to a create or a rotation. */
async function endpointPage(inflow: Inflow, chrome: Chrome, endpoint: Endpoint, secret?: string) {
  // The API lists no deliveries per endpoint: its recent ones are those among the newest 50 events.
  const events = (await inflow.events.list({ limit: 50 })).data;
  const deliveries = events.flatMap((event) =>
    event.deliveries.filter((delivery) => delivery.endpoint_id === endpoint.id).map((delivery) => ({ event, delivery })),
  );
  return {
    title: `Webhook endpoint ${endpoint.id}`,
    body: html`${
        secret
          ? html`<div class="notice" role="status">
              <p>The signing secret. It is shown this once: store it now.</p>
              <code class="secret" data-secret>${secret}</code>
            </div>`
          : ''
      }
      <section aria-labelledby="we-facts">
        <h2 id="we-facts">Details</h2>
        ${facts([
          ['URL', html`<code>${endpoint.url}</code>`],
          [
            'State',
            `${endpoint.disabled ? 'disabled' : 'enabled'}${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}`,
            html`data-endpoint-state`,
          ],
          ['Events', endpoint.events.join(', ')],
          ['Description', endpoint.description ?? '—'],
          ['X-Webhook-Signature', signatureFormatLabels[endpoint.x_webhook_signature_format], html`data-signature-format`],
          ['Created', when(endpoint.created_at)],
        ])}
        <form id="signature-format" class="inline" method="post" action="/dashboard/webhooks/${endpoint.id}/signature-format">
          ${csrfField(chrome.csrfToken)} ${signatureFormatField('we-signature-format', endpoint.x_webhook_signature_format)}
          <button type="submit" class="secondary">Save</button>
        </form>
        <div class="inline">
          <form
            id="rotate-secret"
            method="post"
            action="/dashboard/webhooks/${endpoint.id}/rotate"
            data-confirm="Rotate the signing secret? The old one keeps working for a while."
          >
            ${csrfField(chrome.csrfToken)}<button type="submit">Rotate secret</button>
          </form>
          <form id="toggle-endpoint" method="post" action="/dashboard/webhooks/${endpoint.id}/toggle">
            ${csrfField(chrome.csrfToken)}<input type="hidden" name="disabled" value="${endpoint.disabled ? 'false' : 'true'}" /><button
              type="submit"
              class="secondary"
            >
              ${endpoint.disabled ? 'Enable' : 'Disable'}
            </button>
          </form>
          <form id="send-test" method="post" action="/dashboard/webhooks/${endpoint.id}/test">
            ${csrfField(chrome.csrfToken)}<button type="submit" class="secondary">Send test ping</button>
          </form>
        </div>
      </section>
      <section aria-labelledby="we-deliveries">
        <h2 id="we-deliveries">Recent deliveries</h2>
        ${table(deliveries, deliveryColumns, {
          rowAttributes: ({ delivery }) => html`data-delivery-id="${delivery.id}"`,
          empty: 'No deliveries among the latest 50 events.',
        })}
      </section>
      ${endpointWriteForms(endpoint, chrome)}`,
  };
}

async function createEndpoint(_ctx: Context, { inflow, form, chrome }: DashboardState) {
  const events = form.getAll('events');
  const endpoint = await inflow.webhookEndpoints.create({
    url: form.get('url') ?? '',
    events: events.length ? events : ['*'],
    ...optionalField('description', form.get('description')),
    ...optionalField('x_webhook_signature_format', form.get('x_webhook_signature_format')),
  } as Parameters<Inflow['webhookEndpoints']['create']>[0]);
  return endpointPage(inflow, chrome, endpoint, endpoint.secret);
}

async function endpointDetail(ctx: Context, { inflow, chrome }: DashboardState) {
  return endpointPage(inflow, chrome, await inflow.webhookEndpoints.retrieve(ctx.params.id as string));
}

async function rotateSecret(ctx: Context, { inflow, chrome }: DashboardState) {
  const endpoint = await inflow.webhookEndpoints.rotateSecret(ctx.params.id as string);
  return endpointPage(inflow, chrome, endpoint, endpoint.secret);
}

/** The form's change, then back to the endpoint's page (a redirect, so a reload sends nothing again). */
const thenBack = (change: (inflow: Inflow, id: string, state: DashboardState) => Promise<unknown>) => async (ctx: Context, state: DashboardState) => {
  const id = ctx.params.id as string;
  await change(state.inflow, id, state);
  redirect(ctx, `/dashboard/webhooks/${encodeURIComponent(id)}`);
};

const toggle = thenBack((inflow, id, { form }) => inflow.webhookEndpoints.update(id, { disabled: form.get('disabled') === 'true' }));
// The API validates the value: anything but its two formats comes back as the page's alert.
const setSignatureFormat = thenBack((inflow, id, { form }) =>
  inflow.webhookEndpoints.update(id, { x_webhook_signature_format: (form.get('x_webhook_signature_format') ?? '') as Endpoint['x_webhook_signature_format'] }),
);
const sendTest = thenBack((inflow, id) => inflow.webhookEndpoints.sendTest(id));

export const webhooksPage: DashboardPage = {
  section: 'webhooks',
  routes: [
    { method: 'get', path: '/webhooks', build: endpointList },
    { method: 'post', path: '/webhooks', build: createEndpoint },
    { method: 'get', path: '/webhooks/:id', build: endpointDetail },
    { method: 'post', path: '/webhooks/:id/rotate', build: rotateSecret },
    { method: 'post', path: '/webhooks/:id/toggle', build: toggle },
    { method: 'post', path: '/webhooks/:id/signature-format', build: setSignatureFormat },
    { method: 'post', path: '/webhooks/:id/test', build: sendTest },
    ...endpointWriteRoutes,
  ],
};
