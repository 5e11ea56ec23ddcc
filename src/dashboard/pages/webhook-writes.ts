/**
 * A webhook endpoint's edit form (URL, events, description, disabled) and delete, on its page.
 * The edit sends what the form says: an emptied description is cleared (null), the events are
 * those checked (none checked is sent as none, for the API to refuse).
 */
import type { Context } from 'koa';
import type { Inflow, Schemas } from '../../../sdk/src';
import { eventTypes } from '../../domain/events';
import { html, type SafeHtml } from '../html';
import { csrfField, type Chrome } from '../layout';
import { redirect } from '../responses';
import type { DashboardState } from '../view';

type Endpoint = Schemas['WebhookEndpoint'];

/** The edit and delete forms of an endpoint's page. */
export function endpointWriteForms(endpoint: Endpoint, chrome: Chrome): SafeHtml {
  const action = `/dashboard/webhooks/${endpoint.id}`;
  const subscribed = new Set<string>(endpoint.events);
  const choices = [
    '*',
    ...eventTypes.filter((type) => type !== 'ping'),
    ...endpoint.events.filter((type) => type !== '*' && !(eventTypes as readonly string[]).includes(type)),
  ];
  return html`<section aria-labelledby="we-edit">
      <h2 id="we-edit">Edit</h2>
      <form id="edit-endpoint" class="stack" method="post" action="${action}/edit">
        ${csrfField(chrome.csrfToken)}
        <label for="we-url">URL <input id="we-url" name="url" type="url" required value="${endpoint.url}" /></label>
        <label for="we-description">Description <input id="we-description" name="description" value="${endpoint.description ?? ''}" /></label>
        <fieldset>
          <legend>Events</legend>
          ${choices.map(
            (type) =>
              html`<label
                ><input type="checkbox" name="events" value="${type}" ${subscribed.has(type) ? html` checked` : ''} />
                ${type === '*' ? 'All events (*)' : type}</label
              >`,
          )}
        </fieldset>
        <label class="check"
          ><input type="checkbox" name="disabled" value="true" ${endpoint.disabled ? html` checked` : ''} /> Disabled (nothing is delivered)</label
        >
        <button type="submit">Save endpoint</button>
      </form>
    </section>
    <section aria-labelledby="we-delete">
      <h2 id="we-delete">Delete</h2>
      <p>Nothing more is delivered to it; its past deliveries stay on their events.</p>
      <form id="delete-endpoint" method="post" action="${action}/delete" data-confirm="Delete this endpoint? Nothing more is delivered to it.">
        ${csrfField(chrome.csrfToken)}<button type="submit" class="danger">Delete endpoint</button>
      </form>
    </section>`;
}

type Update = NonNullable<Parameters<Inflow['webhookEndpoints']['update']>[1]>;

async function updateEndpoint(ctx: Context, { inflow, form }: DashboardState) {
  const id = ctx.params.id as string;
  const description = (form.get('description') ?? '').trim();
  await inflow.webhookEndpoints.update(id, {
    url: (form.get('url') ?? '').trim(),
    events: form.getAll('events') as Update['events'],
    description: description || null,
    disabled: form.get('disabled') === 'true',
  });
  redirect(ctx, `/dashboard/webhooks/${encodeURIComponent(id)}`);
}

async function deleteEndpoint(ctx: Context, { inflow }: DashboardState) {
  await inflow.webhookEndpoints.del(ctx.params.id as string);
  redirect(ctx, '/dashboard/webhooks');
}

export const endpointWriteRoutes = [
  { method: 'post', path: '/webhooks/:id/edit', build: updateEndpoint },
  { method: 'post', path: '/webhooks/:id/delete', build: deleteEndpoint },
] as const;
