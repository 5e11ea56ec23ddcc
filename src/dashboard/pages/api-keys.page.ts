/**
 * API keys of the session's mode: the list and the create form (full or read-only), and a key's
 * page with roll (a grace period in seconds for the old key) and delete. The secret is shown once,
 * on the page that answers a create or a roll. All through the public API: a key without
 * `api_keys` write access gets the API's 403 as the page's alert.
 */
import type { Context } from 'koa';
import type { Schemas } from '../../../sdk/src';
import { facts } from '../components/facts';
import { idLink, table, type Column } from '../components/table';
import { html, type SafeHtml } from '../html';
import { csrfField, when } from '../layout';
import { redirect } from '../responses';
import { deleteSession, replaceSessionKey } from '../sessions';
import type { DashboardPage, DashboardState } from '../view';

type ApiKey = Schemas['ApiKey'];

const permissionsText = (permissions: ApiKey['permissions']) =>
  typeof permissions === 'string'
    ? permissions
    : Object.entries(permissions)
        .map(([resource, access]) => `${resource}: ${access}`)
        .join(', ');

/** The id of the key this session uses in its mode (GET /account: any key may ask). */
const sessionKeyId = async ({ inflow }: DashboardState) => (await inflow.account.retrieve()).api_key.id;

function columns(current: string): Array<Column<ApiKey>> {
  return [
    { header: 'Key', cell: (key) => idLink(`/dashboard/api-keys/${key.id}`, key.id) },
    { header: 'Name', cell: (key) => html`${key.name}${key.id === current ? html` <strong data-current-key>(this session's key)</strong>` : ''}` },
    { header: 'Redacted', cell: (key) => html`<code>${key.redacted}</code>`, hideNarrow: true },
    { header: 'Permissions', cell: (key) => permissionsText(key.permissions), cellAttributes: html`data-field="permissions"` },
    { header: 'Expires', cell: (key) => when(key.expires_at), hideNarrow: true },
    { header: 'Created', cell: (key) => when(key.created_at), hideNarrow: true },
  ];
}

async function keyList(_ctx: Context, state: DashboardState) {
  const [list, current] = await Promise.all([state.inflow.apiKeys.list({ limit: 100 }), sessionKeyId(state)]);
  return {
    title: `API keys (${state.chrome.mode} mode)`,
    body: html`${table(list.data, columns(current), { rowAttributes: (key) => html`data-api-key-id="${key.id}"`, empty: 'No keys.' })}
      <section aria-labelledby="new-key">
        <h2 id="new-key">New key</h2>
        <form id="create-api-key" class="stack" method="post" action="/dashboard/api-keys">
          ${csrfField(state.chrome.csrfToken)}
          <label for="k-name">Name <input id="k-name" name="name" required autocomplete="off" placeholder="Support (read-only)" /></label>
          <label for="k-permissions"
            >Permissions
            <select id="k-permissions" name="permissions">
              <option value="full">full: read and write everything</option>
              <option value="read_only">read_only: read everything, write nothing</option>
            </select></label
          >
          <button type="submit">Create key</button>
        </form>
      </section>`,
  };
}

/** The secret of a key just made, shown this once. */
const secretNotice = (secret: string | undefined): SafeHtml =>
  secret
    ? html`<div class="notice" role="status">
        <p>The secret key. It is shown this once: store it now.</p>
        <code class="secret" data-secret>${secret}</code>
      </div>`
    : html``;

/** A key's page; `secret` is shown once, on the answer to a create or a roll. */
function keyPage(key: ApiKey, state: DashboardState, current: string, secret?: string) {
  const mine = key.id === current;
  return {
    title: `API key ${key.name}`,
    body: html`${secretNotice(secret)}
      <section aria-labelledby="key-facts">
        <h2 id="key-facts">Details</h2>
        ${facts([
          ['Id', html`<code>${key.id}</code>`],
          ['Key', html`<code data-redacted>${key.redacted}</code>`],
          ['Permissions', permissionsText(key.permissions), html`data-permissions`],
          ['Mode', key.livemode ? 'live' : 'test'],
          ['Used by this session', mine ? 'yes' : 'no'],
          ['Expires', when(key.expires_at), html`data-expires-at`],
          ['Rolled to', key.rolled_to ? html`<a href="/dashboard/api-keys/${key.rolled_to}"><code>${key.rolled_to}</code></a>` : '—'],
          ['Created', when(key.created_at)],
        ])}
      </section>
      ${
        key.rolled_to
          ? ''
          : html`<section aria-labelledby="key-roll">
              <h2 id="key-roll">Roll</h2>
              <p>A new secret replaces this one; the old one keeps working for the grace period you choose (0: stops now).</p>
              <form
                id="roll-api-key"
                class="inline"
                method="post"
                action="/dashboard/api-keys/${key.id}/roll"
                data-confirm="Roll this key? Its secret is replaced by a new one."
              >
                ${csrfField(state.chrome.csrfToken)}
                <label for="k-grace">Grace (seconds, at most 604800) <input id="k-grace" name="expires_in" inputmode="numeric" value="0" required /></label>
                <button type="submit">Roll key</button>
              </form>
            </section>`
      }
      <section aria-labelledby="key-delete">
        <h2 id="key-delete">Delete</h2>
        <p>${mine ? 'This is the key this session uses: deleting it signs you out.' : 'Requests with this key are refused at once.'}</p>
        <form
          id="delete-api-key"
          method="post"
          action="/dashboard/api-keys/${key.id}/delete"
          data-confirm="Delete this key? Requests with it are refused at once."
        >
          ${csrfField(state.chrome.csrfToken)}<button type="submit" class="danger">Delete key</button>
        </form>
      </section>`,
  };
}

async function createKey(_ctx: Context, state: DashboardState) {
  const permissions = state.form.get('permissions') === 'read_only' ? 'read_only' : 'full';
  const key = await state.inflow.apiKeys.create({ name: state.form.get('name') ?? '', permissions });
  return keyPage(key, state, await sessionKeyId(state), key.secret);
}

async function keyDetail(ctx: Context, state: DashboardState) {
  const [key, current] = await Promise.all([state.inflow.apiKeys.retrieve(ctx.params.id as string), sessionKeyId(state)]);
  return keyPage(key, state, current);
}

/** The grace field: a whole number of seconds, else sent as typed for the API to refuse. */
const graceSeconds = (value: string | undefined) => (/^\d{1,9}$/.test((value ?? '').trim()) ? Number(value) : (value as unknown as number));

async function rollKey(ctx: Context, state: DashboardState) {
  const current = await sessionKeyId(state);
  const rolled = await state.inflow.apiKeys.roll(ctx.params.id as string, { expires_in: graceSeconds(state.form.get('expires_in')) });
  // The session's own key: the session goes on with the new one (the old may stop working now).
  if (ctx.params.id === current && rolled.secret) {
    await replaceSessionKey(state.db, state.secretKey, state.session, state.chrome.mode, rolled.secret);
  }
  return keyPage(rolled, state, ctx.params.id === current ? rolled.id : current, rolled.secret);
}

async function deleteKey(ctx: Context, state: DashboardState) {
  const id = ctx.params.id as string;
  const current = await sessionKeyId(state);
  await state.inflow.apiKeys.del(id);
  if (id !== current) return redirect(ctx, '/dashboard/api-keys');
  // The session's own key is gone: so is the session.
  await deleteSession(state.db, state.session.id, state.clock());
  redirect(ctx, '/dashboard/login');
}

export const apiKeysPage: DashboardPage = {
  section: 'api-keys',
  routes: [
    { method: 'get', path: '/api-keys', build: keyList },
    { method: 'post', path: '/api-keys', build: createKey },
    { method: 'get', path: '/api-keys/:id', build: keyDetail },
    { method: 'post', path: '/api-keys/:id/roll', build: rollKey },
    { method: 'post', path: '/api-keys/:id/delete', build: deleteKey },
  ],
};
