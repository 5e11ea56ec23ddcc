/**
 * Requests: the request log of the session's mode. A lookup box takes the `Request-Id` an answer
 * carried (or a support ticket quotes) to the request's page; the list of recent requests filters
 * by result (failed or succeeded), method and exact status. All through the public API
 * (`inflow.requests`): a key without `requests` read access gets the API's 403 as the alert.
 */
import type { Context } from 'koa';
import type { Schemas } from '../../../sdk/src';
import { requestMethods } from '../../requests/requests.schema';
import { facts } from '../components/facts';
import { choiceFilter, filterForm, pick } from '../components/filters';
import { cursorOf, nextPage } from '../components/pagination';
import { idLink, table, type Column } from '../components/table';
import { html } from '../html';
import { when } from '../layout';
import { redirect } from '../responses';
import type { DashboardPage, DashboardState } from '../view';

type LoggedRequest = Schemas['Request'];

const results = ['failed', 'succeeded'] as const;

/** A status badge: failures in the failed colour, successes in the succeeded one. */
const statusBadge = (status: number) => html`<span class="status-${status >= 400 ? 'failed' : 'succeeded'}">${status}</span>`;

const columns: Array<Column<LoggedRequest>> = [
  { header: 'Request', cell: (request) => idLink(`/dashboard/requests/${request.id}`, request.id) },
  { header: 'Status', cell: (request) => statusBadge(request.status), cellAttributes: html`data-field="status"` },
  { header: 'Method', cell: (request) => request.method, cellAttributes: html`data-field="method"` },
  { header: 'Path', cell: (request) => html`<code>${request.path}</code>`, cellAttributes: html`data-field="path"` },
  { header: 'Error', cell: (request) => request.error?.code ?? '—', cellAttributes: html`data-field="error_code"`, hideNarrow: true },
  { header: 'When', cell: (request) => when(request.created_at), hideNarrow: true },
  { header: 'Duration', cell: (request) => `${request.duration_ms} ms`, hideNarrow: true },
];

/** The lookup box: a GET to the list, which sends a Request-Id on to its page. */
const lookupForm = html`<form
  id="request-lookup"
  class="inline card"
  method="get"
  action="/dashboard/requests"
  role="search"
  aria-label="Find a request by its Request-Id"
>
  <label for="r-id">Request-Id <input id="r-id" name="id" required autocomplete="off" spellcheck="false" placeholder="req_…" /></label>
  <button type="submit">Find</button>
</form>`;

async function requestList(ctx: Context, { inflow }: DashboardState) {
  if (typeof ctx.query.id === 'string' && ctx.query.id.trim()) {
    // The request's page says whether it exists (the API's 404, or its 400 for a malformed id).
    redirect(ctx, `/dashboard/requests/${encodeURIComponent(ctx.query.id.trim())}`);
    return;
  }
  const result = pick(ctx.query.result, results);
  const method = pick(ctx.query.method, requestMethods);
  const status = typeof ctx.query.status === 'string' && /^[1-5]\d\d$/.test(ctx.query.status) ? ctx.query.status : undefined;
  const after = cursorOf(ctx);
  const list = await inflow.requests.list({
    limit: 50,
    ...(result ? { failed: result === 'failed' ? 'true' : 'false' } : {}),
    ...(method ? { method } : {}),
    ...(status ? { status } : {}),
    ...(after ? { starting_after: after } : {}),
  });
  return {
    title: 'Requests',
    body: html`${lookupForm}
      ${filterForm({ id: 'request-filters', action: '/dashboard/requests', label: 'Filter requests' }, [
        choiceFilter('r-result', 'Result', 'result', results, result),
        choiceFilter('r-method', 'Method', 'method', requestMethods, method),
        html`<label for="r-status"
          >Status <input id="r-status" name="status" inputmode="numeric" pattern="[1-5][0-9][0-9]" size="4" value="${status ?? ''}" placeholder="404"
        /></label>`,
      ])}
      ${table(list.data, columns, { rowAttributes: (request) => html`data-request-id="${request.id}"`, empty: 'No requests.' })}
      ${nextPage('/dashboard/requests', list, { result, method, status })}
      <p>
        Every API request whose key authenticated, this mode's, newest first; kept 30 days unless the operator says otherwise. A request appears a fraction of a
        second after its answer. Never its body, its key or its query string.
      </p>`,
  };
}

async function requestDetail(ctx: Context, { inflow }: DashboardState) {
  const request = await inflow.requests.retrieve(ctx.params.id as string);
  const { error } = request;
  return {
    title: `${request.method} ${request.path}`,
    body: html`<section aria-labelledby="req-facts">
        <h2 id="req-facts">Status: <span data-request-status>${statusBadge(request.status)}</span></h2>
        ${facts([
          ['Request-Id', html`<code data-request-id="${request.id}">${request.id}</code>`],
          ['Method', request.method],
          ['Path', html`<code>${request.path}</code>`, html`data-request-path`],
          ['Operation', request.operation_id ?? '—'],
          ['API key', html`<a href="/dashboard/api-keys/${request.api_key_id}"><code>${request.api_key_id}</code></a>`],
          ['Idempotency-Key', request.idempotency_key ? html`<code>${request.idempotency_key}</code>` : '—'],
          ['Duration', `${request.duration_ms} ms`],
          ['When', when(request.created_at)],
        ])}
      </section>
      <section aria-labelledby="req-error">
        <h2 id="req-error">Error</h2>
        ${
          error
            ? facts([
                ['Type', error.type],
                ['Code', html`<code>${error.code}</code>`, html`data-error-code`],
                ['Message', error.message, html`data-error-message`],
                ['Parameter', error.param ?? '—'],
              ])
            : html`<p data-error-code="">None: the request succeeded.</p>`
        }
      </section>`,
  };
}

export const requestsPage: DashboardPage = {
  section: 'requests',
  routes: [
    { method: 'get', path: '/requests', build: requestList },
    { method: 'get', path: '/requests/:id', build: requestDetail },
  ],
};
