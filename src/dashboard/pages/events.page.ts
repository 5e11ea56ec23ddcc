/** Events: the list by type, and an event's page with each delivery's attempts and *Resend to endpoints*. */
import type { Context } from 'koa';
import type { Schemas } from '../../../sdk/src';
import { eventTypes } from '../../domain/events';
import { eventTable } from '../components/event-table';
import { facts } from '../components/facts';
import { choiceFilter, filterForm, pick } from '../components/filters';
import { cursorOf, nextPage } from '../components/pagination';
import { table, type Column } from '../components/table';
import { html } from '../html';
import { csrfField, when } from '../layout';
import { redirect } from '../responses';
import type { DashboardPage, DashboardState } from '../view';

type Delivery = Schemas['EventWithDeliveries']['deliveries'][number];

const attemptColumns: Array<Column<Delivery['attempts'][number]>> = [
  { header: '#', cell: (attempt) => attempt.attempt },
  { header: 'When', cell: (attempt) => when(attempt.attempted_at) },
  { header: 'HTTP status', cell: (attempt) => attempt.status_code ?? attempt.error ?? '—', cellAttributes: html`data-field="status_code"` },
  { header: 'Latency (ms)', cell: (attempt) => attempt.latency_ms ?? '—', cellAttributes: html`data-field="latency_ms"` },
  { header: 'Answer', cell: (attempt) => html`<code>${attempt.response_body ?? ''}</code>`, cellAttributes: html`data-field="response_body"` },
];

async function eventList(ctx: Context, { inflow }: DashboardState) {
  const type = pick(ctx.query.type, eventTypes);
  const after = cursorOf(ctx);
  const list = await inflow.events.list({ limit: 50, ...(type ? { type } : {}), ...(after ? { starting_after: after } : {}) });
  return {
    title: 'Events',
    body: html`${filterForm({ action: '/dashboard/events', label: 'Filter events' }, [choiceFilter('e-type', 'Type', 'type', eventTypes, type)])}
    ${eventTable(list.data)} ${nextPage('/dashboard/events', list, { type })}`,
  };
}

/** Where the event's object is shown, by its id's prefix. */
function objectPage(objectId: string | undefined): string | undefined {
  if (objectId?.startsWith('dep_')) return `/dashboard/deposits/${objectId}`;
  if (objectId?.startsWith('cus_')) return `/dashboard/customers/${objectId}`;
  if (objectId?.startsWith('ord_')) return `/dashboard/orders/${objectId}`;
  return undefined;
}

const deliveryCard = (delivery: Delivery) =>
  html`<div class="card" data-delivery-id="${delivery.id}">
    <h3>
      ${delivery.endpoint_id ? html`Endpoint <a href="/dashboard/webhooks/${delivery.endpoint_id}">${delivery.endpoint_id}</a>` : html`Order callback ${delivery.order_id ?? ''}`}${delivery.redelivery ? ' (resent)' : ''}:
      <span data-delivery-status>${delivery.status}</span>
    </h3>
    ${table(delivery.attempts, attemptColumns, { rowAttributes: (attempt) => html`data-attempt="${attempt.attempt}"` })}
    ${delivery.attempts.length ? '' : html`<p>No attempt yet.</p>`}
  </div>`;

async function eventDetail(ctx: Context, { inflow, chrome }: DashboardState) {
  const event = await inflow.events.retrieve(ctx.params.id as string);
  const objectId = typeof event.data.id === 'string' ? event.data.id : undefined;
  const objectLink = objectPage(objectId);
  return {
    title: `Event ${event.event}`,
    body: html`<section aria-labelledby="ev-facts">
        <h2 id="ev-facts">Details</h2>
        ${facts([
          ['Id', html`<code data-event-id="${event.id}">${event.id}</code>`],
          ['Type', event.event],
          ['Created', when(event.created_at)],
          ['Object', objectLink ? html`<a href="${objectLink}">${objectId}</a>` : (objectId ?? '—')],
        ])}
        <form id="resend" method="post" action="/dashboard/events/${event.id}/resend">
          ${csrfField(chrome.csrfToken)}<button type="submit">Resend to endpoints</button>
        </form>
      </section>
      <section aria-labelledby="ev-deliveries">
        <h2 id="ev-deliveries">Deliveries</h2>
        ${event.deliveries.length ? event.deliveries.map(deliveryCard) : html`<p>No deliveries: no endpoint was subscribed to this event.</p>`}
      </section>
      <section aria-labelledby="ev-data">
        <h2 id="ev-data">Data</h2>
        <pre class="mono card">${JSON.stringify(event.data, null, 2)}</pre>
      </section>`,
  };
}

async function resendEvent(ctx: Context, { inflow }: DashboardState) {
  const id = ctx.params.id as string;
  await inflow.events.resend(id);
  redirect(ctx, `/dashboard/events/${encodeURIComponent(id)}`);
}

export const eventsPage: DashboardPage = {
  section: 'events',
  routes: [
    { method: 'get', path: '/events', build: eventList },
    { method: 'get', path: '/events/:id', build: eventDetail },
    { method: 'post', path: '/events/:id/resend', build: resendEvent },
  ],
};
