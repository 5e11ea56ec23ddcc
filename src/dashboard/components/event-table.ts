/** Events as a table, each with how its webhooks went: the events page and a deposit's events. */
import type { Schemas } from '../../../sdk/src';
import { html } from '../html';
import { status, when } from '../layout';
import { idLink, table, type Column } from './table';

type Event = Schemas['EventWithDeliveries'];

/** Each delivery's status, its number of attempts and the last HTTP status. */
const attemptsOf = (event: Event) =>
  event.deliveries.length
    ? event.deliveries.map((delivery) => {
        const last = delivery.attempts.at(-1);
        const count = delivery.attempts.length;
        const lastHttp = last?.status_code ? html`, last HTTP ${String(last.status_code)}` : '';
        return html`<span>${status(delivery.status)} (${count} attempt${count === 1 ? '' : 's'}${lastHttp}) </span>`;
      })
    : 'none';

const columns: Array<Column<Event>> = [
  { header: 'Event', cell: (event) => idLink(`/dashboard/events/${event.id}`, event.id) },
  { header: 'Type', cell: (event) => event.event },
  { header: 'Webhook attempts', cell: attemptsOf },
  { header: 'Created', cell: (event) => when(event.created_at), hideNarrow: true },
];

export const eventTable = (events: Event[]) => table(events, columns, { rowAttributes: (event) => html`data-event-id="${event.id}"`, empty: 'No events.' });
