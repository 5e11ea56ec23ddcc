/**
 * The merchant dashboard at /dashboard: server-rendered pages built on the public API only. Each
 * request calls inflow's own REST API over loopback with the session's key through the SDK, so
 * the dashboard can do nothing the key cannot (a read-only key sees pages and gets a 403 alert on
 * writes). Only the session table is read directly. See docs/dashboard.md.
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import getRawBody from 'raw-body';
import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import { Inflow, InflowError, AuthenticationError } from '../../sdk/src';
import type { Schemas } from '../../sdk/src';
import { forwardedValue, fromTrustedProxy } from '../api/client-address';
import type { Db } from '../db/database';
import { modeOfKey } from '../domain/api-keys';
import { depositStatuses } from '../domain/deposit-state';
import { eventTypes } from '../domain/events';
import type { Mode } from '../domain/mode';
import { networkNames, type Network } from '../domain/networks';
import { orderStatuses } from '../domain/order-state';
import type { WebhookSignatureFormat } from '../domain/signatures';
import { script, stylesheet } from './assets';
import { barChart } from './charts';
import { html, trustedMarkup, type SafeHtml } from './html';
import { alert, bare, csrfField, page, status, when, type Chrome, type Section } from './layout';
import { findActiveApiKeyByHash } from '../db/repositories/api-keys.repository';
import { hashApiKey } from '../domain/api-keys';
import {
  createSession,
  deleteSession,
  findSession,
  LEGACY_SESSION_COOKIE,
  sameSecret,
  sessionCookiesFor,
  SESSION_TTL_MS,
  switchSessionMode,
  type DashboardSession,
} from './sessions';

export const DASHBOARD_PREFIX = '/dashboard';
const FORM_LIMIT_BYTES = 64 * 1024;

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

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
const EXPLORERS: Record<string, string> = {
  ethereum: 'https://etherscan.io/tx/',
  polygon: 'https://polygonscan.com/tx/',
  bsc: 'https://bscscan.com/tx/',
  arbitrum: 'https://arbiscan.io/tx/',
  base: 'https://basescan.org/tx/',
  tron: 'https://tronscan.org/#/transaction/',
};

interface DashboardState {
  session: DashboardSession;
  inflow: Inflow;
  chrome: Chrome;
  form: Form;
}

type Form = { get(name: string): string | undefined; getAll(name: string): string[] };

/**
 * Every cookie of the dashboard: Path=/ and no Domain (host-only), HttpOnly, SameSite=Strict; and
 * Secure, which `__Host-` requires, unless it is the development cookie of a plain-http loopback
 * origin (sessions.ts: Safari keeps no Secure cookie from http://localhost).
 */
function cookieFlags(maxAgeSeconds: number, secure: boolean): string {
  return `Path=/;${secure ? ' Secure;' : ''} HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

/** The cookie's value; undefined when absent or sent twice (one of the two was planted, and which is unknowable). */
function readCookie(ctx: Context, name: string): string | undefined {
  const values: string[] = [];
  for (const part of (ctx.get('Cookie') || '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) values.push(rest.join('='));
  }
  return values.length === 1 ? values[0] : undefined;
}

function send(ctx: Context, body: SafeHtml, statusCode = 200): void {
  ctx.status = statusCode;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body.value;
}

function redirect(ctx: Context, location: string): void {
  ctx.status = 303;
  ctx.set('Location', location);
  ctx.body = '';
}

/** Where the dashboard's own pages are, as DashboardDeps' publicOrigin and trustedProxies say to judge it. */
interface OriginSettings {
  publicOrigin?: string | undefined;
  trustedProxies?: string[] | undefined;
}

const FORWARDED_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The origin browsers see this dashboard at: INFLOW_PUBLIC_URL's when set; else, from a peer in
 * INFLOW_TRUSTED_PROXIES, the scheme and host it forwards (X-Forwarded-Proto, X-Forwarded-Host or
 * Host); else the connection's own scheme and the Host header. Forwarded headers from any other
 * peer are ignored: anyone can send them.
 */
export function expectedOrigin(ctx: Context, settings: OriginSettings): string | undefined {
  if (settings.publicOrigin) return settings.publicOrigin;
  if (fromTrustedProxy(ctx, settings.trustedProxies)) {
    // The values the nearest proxy set, by the rule the per-address limits use (client-address.ts).
    const proto = forwardedValue(ctx, 'X-Forwarded-Proto', settings.trustedProxies) ?? ctx.protocol;
    const host = forwardedValue(ctx, 'X-Forwarded-Host', settings.trustedProxies) ?? ctx.get('Host');
    if ((proto !== 'http' && proto !== 'https') || !FORWARDED_HOST.test(host)) return undefined;
    return `${proto}://${host}`.toLowerCase();
  }
  return `${ctx.protocol}://${ctx.host}`;
}

/** Same origin as this dashboard: the Origin header when sent, else the Referer. Neither → refused. */
function sameOrigin(ctx: Context, expected: string | undefined): boolean {
  if (!expected) return false;
  const origin = ctx.get('Origin');
  if (origin) return origin === expected;
  const referer = ctx.get('Referer');
  if (!referer) return false;
  try {
    return new URL(referer).origin === expected;
  } catch {
    return false;
  }
}

class FormUnreadable extends Error {}

async function readForm(ctx: Context): Promise<Form> {
  let raw: string;
  try {
    raw = await getRawBody(ctx.req, { limit: FORM_LIMIT_BYTES, encoding: 'utf8', length: ctx.get('Content-Length') || undefined });
  } catch {
    throw new FormUnreadable('The form could not be read (at most 64 KB).');
  }
  const params = new URLSearchParams(ctx.is('application/x-www-form-urlencoded') ? raw : '');
  return { get: (name) => params.get(name) ?? undefined, getAll: (name) => params.getAll(name) };
}

/** Where "back" goes after a refused form: the page it came from (same origin), else the overview. */
function backTo(ctx: Context, expected: string | undefined): string {
  if (ctx.method !== 'POST') return ctx.path;
  try {
    const referer = new URL(ctx.get('Referer'));
    if (referer.origin === expected && referer.pathname.startsWith(`${DASHBOARD_PREFIX}`)) return referer.pathname + referer.search;
  } catch {
    // No usable Referer.
  }
  return DASHBOARD_PREFIX;
}

const refused = (ctx: Context, message: string) =>
  send(
    ctx,
    bare(
      'Refused',
      html`<h1>Request refused</h1>
        ${alert(message)}
        <p><a href="/dashboard">Back to the dashboard</a></p>`,
    ),
    403,
  );

/** Security headers on every dashboard answer, pages or not. */
function securityHeaders(): Middleware {
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (error) {
      if (!(error instanceof FormUnreadable)) throw error;
      send(
        ctx,
        bare(
          'Refused',
          html`<h1>Request refused</h1>
            ${alert(error.message)}
            <p><a href="/dashboard">Back to the dashboard</a></p>`,
        ),
        413,
      );
    }
  };
}

function loginPage(ctx: Context, options: { token: string; message?: string; mode?: Mode; statusCode?: number }): void {
  const heading = options.mode ? `Sign in to ${options.mode} mode` : 'Sign in to inflow';
  send(
    ctx,
    bare(
      heading,
      html`<div class="login card">
        <h1>${heading}</h1>
        ${alert(options.message)}
        <form id="login" class="stack" method="post" action="/dashboard/login">
          ${csrfField(options.token)}
          <label for="key"
            >Secret API key
            <input
              id="key"
              name="key"
              type="password"
              autocomplete="off"
              required
              spellcheck="false"
              placeholder="${options.mode === 'live' ? 'sk_live_…' : options.mode === 'test' ? 'sk_test_…' : 'sk_test_… or sk_live_…'}"
            />
          </label>
          <button type="submit">Sign in</button>
        </form>
        <p>The key stays on the server, sealed in your session; it is never put in a page or a URL.</p>
      </div>`,
    ),
    options.statusCode ?? 200,
  );
}

/** What the dashboard needs of the app's dependencies (a subset of AppDeps). */
export interface DashboardDeps {
  db: Db;
  /** INFLOW_SECRET_KEY: seals the keys sessions hold. */
  secretKey: Buffer;
  clock?: (() => Date) | undefined;
  /** INFLOW_PUBLIC_URL's origin: the only one forms are accepted from when set (behind a TLS-terminating proxy). */
  publicOrigin?: string | undefined;
  /** INFLOW_TRUSTED_PROXIES: peers whose X-Forwarded-Proto/Host are believed. */
  trustedProxies?: string[] | undefined;
  /** Runs before the sign-in form's handler: the per-address limit on refused keys (rate-limit.ts). */
  signInLimit?: Middleware | undefined;
}

export function dashboardRoutes(deps: DashboardDeps): Router {
  const clock = deps.clock ?? (() => new Date());
  const router = new Router({ prefix: DASHBOARD_PREFIX });
  router.use(securityHeaders());

  router.get('/assets/dashboard.css', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'text/css; charset=utf-8';
    ctx.body = stylesheet;
  });
  router.get('/assets/dashboard.js', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.body = script;
  });

  /** The merchant a key belongs to (undefined once deleted or expired). */
  const merchantOf = async (key: string) => (await findActiveApiKeyByHash(deps.db, hashApiKey(key), clock()))?.merchant_id;
  const loopback = (ctx: Context) => `http://127.0.0.1:${ctx.req.socket.localPort}`;
  const client = (ctx: Context, key: string) => new Inflow(key, { baseUrl: loopback(ctx), maxRetries: 0, timeoutMs: 15_000 });

  const origin = (ctx: Context) => expectedOrigin(ctx, deps);
  /** The cookie names and flags this request's origin gets; only those names are read. */
  const cookies = (ctx: Context) => sessionCookiesFor(origin(ctx));
  const setCookie = (ctx: Context, name: string, value: string, maxAgeSeconds: number) =>
    ctx.append('Set-Cookie', `${name}=${value}; ${cookieFlags(maxAgeSeconds, cookies(ctx).secure)}`);
  const currentSession = (ctx: Context) => findSession(deps.db, deps.secretKey, readCookie(ctx, cookies(ctx).session), clock());

  /** Login CSRF: a double-submitted random token in a cookie scoped to the login path. */
  const loginToken = (ctx: Context) => {
    const token = randomBytes(24).toString('base64url');
    setCookie(ctx, cookies(ctx).login, token, 3600);
    return token;
  };
  /** Plain http to a host other than loopback: browsers drop the Secure cookie, so say so rather than loop back to this form. */
  const insecureOrigin = (ctx: Context) => {
    const seen = origin(ctx);
    return seen?.startsWith('http:') && cookies(ctx).secure
      ? `This dashboard is open over plain http (${seen}): browsers keep its session cookie only over https. Serve it over https (INFLOW_PUBLIC_URL, or a proxy in INFLOW_TRUSTED_PROXIES: docs/dashboard.md), or open it at http://localhost for development.`
      : undefined;
  };

  router.get('/login', async (ctx) => {
    const wanted = ctx.query.mode === 'live' || ctx.query.mode === 'test' ? ctx.query.mode : undefined;
    const session = await currentSession(ctx);
    if (session && !wanted) return redirect(ctx, '/dashboard');
    // Signed in already and asking for another mode's key: the session's CSRF token protects it.
    const warning = insecureOrigin(ctx);
    loginPage(ctx, { token: session ? session.csrfToken : loginToken(ctx), ...(wanted ? { mode: wanted } : {}), ...(warning ? { message: warning } : {}) });
  });

  // On the route itself, so every spelling the router matches (a trailing slash, any case) is limited.
  router.post('/login', deps.signInLimit ?? ((_ctx, next) => next()), async (ctx) => {
    if (!sameOrigin(ctx, origin(ctx))) return refused(ctx, 'This form must be sent from the dashboard itself.');
    const form = await readForm(ctx);
    const session = await currentSession(ctx);
    const expected = session ? session.csrfToken : readCookie(ctx, cookies(ctx).login);
    if (!expected || !sameSecret(form.get('csrf'), expected))
      return refused(ctx, 'The form expired or did not come from this dashboard. Reload the page and try again.');
    const key = (form.get('key') ?? '').trim();
    const mode = modeOfKey(key);
    const again = (message: string) => loginPage(ctx, { token: session ? session.csrfToken : loginToken(ctx), message, statusCode: 401 });
    if (!mode) return again('That is not a secret API key: it starts with sk_test_ or sk_live_ and has 43 characters after that.');
    try {
      await client(ctx, key).balance.retrieve();
    } catch (error) {
      // Any answer but 401 proves the key: a key without balance access is still a key.
      if (error instanceof AuthenticationError) return again('The key was refused: it is unknown, deleted or expired.');
      if (!(error instanceof InflowError) || error.statusCode === undefined) return again('The API could not be reached to check the key.');
    }
    // A fresh session on every sign-in, and the one the browser brought is dropped: its cookie may
    // have been planted, and extending it would hand the key just entered to whoever planted it.
    const keys: Partial<Record<Mode, string>> = { [mode]: key };
    if (session) {
      const other: Mode = mode === 'test' ? 'live' : 'test';
      // The other mode's key comes along only when it is the same merchant's: a planted session
      // cannot mix another merchant's account into this one.
      const otherKey = session.keys[other];
      if (otherKey && (await merchantOf(otherKey)) === (await merchantOf(key))) keys[other] = otherKey;
      await deleteSession(deps.db, session.id, clock());
    }
    const created = await createSession(deps.db, deps.secretKey, keys, mode, clock());
    setCookie(ctx, cookies(ctx).session, created.token, SESSION_TTL_MS / 1000);
    setCookie(ctx, cookies(ctx).login, '', 0);
    // The unprefixed cookie of earlier versions (Path=/dashboard) would otherwise linger beside it
    // (beside the development cookie of the same name, it would make the session's cookie sent twice).
    ctx.append('Set-Cookie', `${LEGACY_SESSION_COOKIE}=; Path=${DASHBOARD_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=0`);
    redirect(ctx, '/dashboard');
  });

  // Everything below needs a session; a POST also needs its CSRF token and a same-origin request.
  const signedIn: Middleware = async (ctx: Context, next: Next) => {
    const session = await currentSession(ctx);
    if (!session) return redirect(ctx, '/dashboard/login');
    let form: Form = { get: () => undefined, getAll: () => [] };
    if (ctx.method === 'POST') {
      if (!sameOrigin(ctx, origin(ctx))) return refused(ctx, 'This form must be sent from the dashboard itself.');
      form = await readForm(ctx);
      if (!sameSecret(form.get('csrf'), session.csrfToken))
        return refused(ctx, 'The form expired or did not come from this dashboard. Reload the page and try again.');
    }
    const key = session.keys[session.mode];
    if (!key) return redirect(ctx, `/dashboard/login?mode=${session.mode}`);
    const modes = (['test', 'live'] as const).filter((mode) => session.keys[mode]);
    const state: DashboardState = { session, inflow: client(ctx, key), chrome: { mode: session.mode, csrfToken: session.csrfToken, modes }, form };
    ctx.state.dashboard = state;
    return next();
  };

  const dash = (ctx: Context) => ctx.state.dashboard as DashboardState;

  /** Renders a page; an API error (403, 400, 404…) becomes the page's alert, with the API's status, never a 500. */
  const view =
    (section: Section, build: (ctx: Context, state: DashboardState) => Promise<{ title: string; body: SafeHtml } | void>) => async (ctx: Context) => {
      const state = dash(ctx);
      const chrome = { ...state.chrome, section };
      try {
        const result = await build(ctx, state);
        if (result) send(ctx, page(result.title, chrome, result.body));
      } catch (error) {
        if (!(error instanceof InflowError)) throw error;
        const code = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 502;
        send(
          ctx,
          page(
            'Something was refused',
            chrome,
            html`${alert(`${error.message}${error.requestId ? ` (request ${error.requestId})` : ''}`)}
              <p><a href="${backTo(ctx, origin(ctx))}">${ctx.method === 'POST' ? 'Back to the form' : 'Try again'}</a> · <a href="/dashboard">Overview</a></p>`,
          ),
          code,
        );
      }
    };

  router.post('/logout', signedIn, async (ctx) => {
    await deleteSession(deps.db, dash(ctx).session.id, clock());
    setCookie(ctx, cookies(ctx).session, '', 0);
    redirect(ctx, '/dashboard/login');
  });

  router.post('/mode', signedIn, async (ctx) => {
    const { session, form } = dash(ctx);
    const mode = form.get('mode');
    if (mode !== 'test' && mode !== 'live') return refused(ctx, 'Unknown mode.');
    if (!session.keys[mode]) return redirect(ctx, `/dashboard/login?mode=${mode}`);
    await switchSessionMode(deps.db, session, mode);
    redirect(ctx, '/dashboard');
  });

  // ---- Overview ----
  router.get(
    '/',
    signedIn,
    view('overview', async (_ctx, { inflow }) => {
      const [balance, deposits] = await Promise.all([inflow.balance.retrieve(), inflow.deposits.list({ limit: 100 }).autoPagingToArray({ limit: 500 })]);
      const days: Array<{ label: string; value: number }> = [];
      const today = new Date(clock().toISOString().slice(0, 10));
      for (let back = 13; back >= 0; back--) {
        const day = new Date(today.getTime() - back * 86_400_000).toISOString().slice(0, 10);
        days.push({ label: day.slice(5), value: deposits.filter((deposit) => deposit.created_at.startsWith(day)).length });
      }
      const completed = deposits
        .filter((deposit) => deposit.completed_at)
        .slice(0, 20)
        .reverse();
      const durations = completed.map((deposit) => ({
        label: deposit.id.slice(-4),
        value: Math.round((Date.parse(deposit.completed_at as string) - Date.parse(deposit.created_at)) / 1000),
      }));
      return {
        title: 'Overview',
        body: html`<section data-balance aria-labelledby="balance-heading">
            <h2 id="balance-heading">Balance</h2>
            <p>
              Net: <strong>$<span data-net-usd>${balance.net_usd}</span></strong> USD (received $${balance.total_received_usd}, fees $${balance.total_fees_usd})
            </p>
            <div class="table-wrap">
              <table>
                <caption class="skip">
                  Balance per currency
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Network</th>
                    <th scope="col">Currency</th>
                    <th scope="col">Received</th>
                    <th scope="col">Fees</th>
                    <th scope="col">Net</th>
                    <th scope="col">Deposits</th>
                  </tr>
                </thead>
                <tbody>
                  ${balance.by_currency.map(
                    (row) =>
                      html`<tr data-balance-row data-currency="${row.currency}" data-network="${row.network}">
                        <td>${row.network}</td>
                        <td>${row.currency}</td>
                        <td>${row.total_received}</td>
                        <td>${row.total_fees}</td>
                        <td>${row.net}</td>
                        <td>${row.deposit_count}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
            ${balance.by_currency.length ? '' : html`<p>No completed deposits yet.</p>`}
          </section>
          <section aria-labelledby="chart-days">
            <h2 id="chart-days">Deposits per day (last 14 days)</h2>
            ${barChart('deposits-per-day', 'Deposits per day', days, 'deposits')}
          </section>
          <section aria-labelledby="chart-ttc">
            <h2 id="chart-ttc">Time to completion (last ${durations.length} completed deposits, seconds)</h2>
            ${barChart('time-to-completion', 'Seconds from detection to completion', durations, 'seconds')}
          </section>`,
      };
    }),
  );

  // ---- Deposits ----
  const depositRow = (deposit: Schemas['Deposit']) =>
    html`<tr data-deposit-id="${deposit.id}">
      <td>
        <a href="/dashboard/deposits/${deposit.id}"><code>${deposit.id}</code></a>
      </td>
      <td data-field="status">${status(deposit.status)}</td>
      <td>${deposit.amount} ${deposit.currency}</td>
      <td class="hide-narrow">${deposit.network}</td>
      <td class="hide-narrow">${deposit.confirmations} / ${deposit.required_confirmations}</td>
      <td class="hide-narrow">${when(deposit.created_at)}</td>
    </tr>`;

  const depositTable = (deposits: Schemas['Deposit'][]) =>
    deposits.length
      ? html`<div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Deposit</th>
                <th scope="col">Status</th>
                <th scope="col">Amount</th>
                <th scope="col" class="hide-narrow">Network</th>
                <th scope="col" class="hide-narrow">Confirmations</th>
                <th scope="col" class="hide-narrow">Created</th>
              </tr>
            </thead>
            <tbody>
              ${deposits.map(depositRow)}
            </tbody>
          </table>
        </div>`
      : html`<p>No deposits.</p>`;

  const pick = <T extends string>(value: unknown, allowed: readonly T[]): T | undefined => (allowed.includes(value as T) ? (value as T) : undefined);
  /** A list page's cursor from its query. */
  const cursorOf = (ctx: { query: Record<string, unknown> }) =>
    typeof ctx.query.starting_after === 'string' && ctx.query.starting_after ? ctx.query.starting_after : undefined;
  /** A list filter's labelled <select>: "Any", then the allowed values, the chosen one selected. */
  const choiceFilter = (id: string, label: string, name: string, values: readonly string[], chosen: string | undefined) =>
    html`<label for="${id}"
      >${label}
      <select id="${id}" name="${name}">
        <option value="">Any</option>
        ${values.map((value) => html`<option${value === chosen ? html` selected` : ''}>${value}</option>`)}
      </select></label
    >`;

  router.get(
    '/deposits',
    signedIn,
    view('deposits', async (ctx, { inflow, chrome }) => {
      const statusFilter = pick(ctx.query.status, depositStatuses);
      const network = pick(ctx.query.network, networkNames);
      const customerId = typeof ctx.query.customer_id === 'string' && ctx.query.customer_id ? ctx.query.customer_id : undefined;
      const after = cursorOf(ctx);
      const [list, customers] = await Promise.all([
        inflow.deposits.list({
          limit: 50,
          ...(statusFilter ? { status: statusFilter } : {}),
          ...(network ? { network } : {}),
          ...(customerId ? { customer_id: customerId } : {}),
          ...(after ? { starting_after: after } : {}),
        }),
        chrome.mode === 'test' ? inflow.customers.list({ limit: 100 }) : Promise.resolve(undefined),
      ]);
      const last = list.data.at(-1);
      const next = new URLSearchParams({
        ...(statusFilter ? { status: statusFilter } : {}),
        ...(network ? { network } : {}),
        ...(customerId ? { customer_id: customerId } : {}),
        ...(last ? { starting_after: last.id } : {}),
      });
      return {
        title: 'Deposits',
        body: html`<form id="deposit-filters" class="inline card" method="get" action="/dashboard/deposits" role="search" aria-label="Filter deposits">
            ${choiceFilter('f-status', 'Status', 'status', depositStatuses, statusFilter)}
            ${choiceFilter('f-network', 'Network', 'network', networkNames, network)}
            <label for="f-customer">Customer id <input id="f-customer" name="customer_id" value="${customerId ?? ''}" placeholder="cus_…" /></label>
            <button type="submit">Filter</button>
          </form>
          ${depositTable(list.data)} ${list.has_more ? html`<p><a href="/dashboard/deposits?${next.toString()}">Next page</a></p>` : ''}
          ${customers ? simulateForm(chrome, customers.data) : ''}`,
      };
    }),
  );

  const simulateForm = (chrome: Chrome, customers: Schemas['Customer'][]) =>
    html`<section aria-labelledby="simulate-heading">
      <h2 id="simulate-heading">Simulate a deposit (test mode)</h2>
      <form id="simulate" class="stack" method="post" action="/dashboard/deposits/simulate">
        ${csrfField(chrome.csrfToken)}
        <label for="s-customer"
          >Customer
          <select id="s-customer" name="customer_id" required>
            ${customers.map((customer) => html`<option value="${customer.id}">${customer.email ?? customer.name ?? customer.id} (${customer.id})</option>`)}
          </select></label
        >
        ${customers.length ? '' : html`<p>Create a customer first.</p>`}
        <label for="s-network"
          >Network
          <select id="s-network" name="network">
            ${networkNames.map((value) => html`<option>${value}</option>`)}
          </select></label
        >
        <label for="s-currency">Currency <input id="s-currency" name="currency" value="USDC" required /></label>
        <label for="s-amount">Amount <input id="s-amount" name="amount" inputmode="decimal" value="25" required /></label>
        <label for="s-outcome"
          >Outcome
          <select id="s-outcome" name="outcome">
            <option>completed</option>
            <option>failed</option>
          </select></label
        >
        <button type="submit">Simulate deposit</button>
      </form>
    </section>`;

  router.post(
    '/deposits/simulate',
    signedIn,
    view('deposits', async (ctx, { inflow, form }) => {
      const deposit = await inflow.deposits.simulate({
        customer_id: form.get('customer_id') ?? '',
        network: (form.get('network') ?? 'ethereum') as Network,
        currency: form.get('currency') ?? '',
        amount: form.get('amount') ?? '',
        outcome: form.get('outcome') === 'failed' ? 'failed' : 'completed',
      });
      redirect(ctx, `/dashboard/deposits/${encodeURIComponent(deposit.id)}`);
    }),
  );

  /** Events about an object: the API has no filter by object, so the newest 100 are searched. */
  const eventsAbout = async (inflow: Inflow, objectId: string) => {
    const newest = (await inflow.events.list({ limit: 100 })).data;
    return { events: newest.filter((event) => event.data.id === objectId), newestId: newest[0]?.id };
  };

  const eventsTable = (events: Schemas['EventWithDeliveries'][]) =>
    events.length
      ? html`<div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Type</th>
                <th scope="col">Webhook attempts</th>
                <th scope="col" class="hide-narrow">Created</th>
              </tr>
            </thead>
            <tbody>
              ${events.map(
                (event) =>
                  html`<tr data-event-id="${event.id}">
                    <td>
                      <a href="/dashboard/events/${event.id}"><code>${event.id}</code></a>
                    </td>
                    <td>${event.event}</td>
                    <td>
                      ${event.deliveries.length ? event.deliveries.map((delivery) => html`<span>${status(delivery.status)} (${delivery.attempts.length} attempt${delivery.attempts.length === 1 ? '' : 's'}${delivery.attempts.at(-1)?.status_code ? html`, last HTTP ${String(delivery.attempts.at(-1)?.status_code)}` : ''}) </span>`) : 'none'}
                    </td>
                    <td class="hide-narrow">${when(event.created_at)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>`
      : html`<p>No events.</p>`;

  router.get(
    '/deposits/:id',
    signedIn,
    view('deposits', async (ctx, { inflow }) => {
      const id = ctx.params.id as string;
      // The newest event first, then the deposit: the page's stream resumes after that event, so no
      // change made after the deposit was read can be missed (one made before may come again).
      const { events, newestId } = await eventsAbout(inflow, id);
      const deposit = await inflow.deposits.retrieve(id);
      const explorer = EXPLORERS[deposit.network];
      return {
        title: `Deposit ${deposit.id}`,
        body: html`<section
            data-live-deposit="${deposit.id}"
            data-updated-at="${deposit.updated_at}"
            data-stream-after="${newestId ?? ''}"
            aria-labelledby="dep-heading"
          >
            <h2 id="dep-heading">Status: <span data-deposit-status class="status-${deposit.status}">${deposit.status}</span></h2>
            <p class="skip" aria-live="polite" data-live-region></p>
            <dl class="facts">
              <dt>Confirmations</dt>
              <dd>
                <progress
                  data-confirmations
                  value="${Math.min(deposit.confirmations, deposit.required_confirmations)}"
                  max="${deposit.required_confirmations}"
                  aria-label="Confirmations"
                >
                  ${deposit.confirmations} / ${deposit.required_confirmations}
                </progress>
                <span data-confirmations-text>${deposit.confirmations} / ${deposit.required_confirmations}</span>
              </dd>
              <dt>Amount</dt>
              <dd>${deposit.amount} ${deposit.currency}${deposit.amount_usd ? ` ($${deposit.amount_usd})` : ''}</dd>
              <dt>Fee</dt>
              <dd data-fee>${deposit.fee === null ? '—' : `${deposit.fee} ${deposit.currency}`}</dd>
              <dt>Net</dt>
              <dd data-net>${deposit.net_amount === null ? '—' : `${deposit.net_amount} ${deposit.currency}`}</dd>
              <dt>Network</dt>
              <dd>${deposit.network}</dd>
              <dt>Address</dt>
              <dd><code>${deposit.address}</code></dd>
              <dt>From</dt>
              <dd><code>${deposit.from_address ?? '—'}</code></dd>
              <dt>Transaction</dt>
              <dd>
                <code>${deposit.transaction_hash}</code
                >${explorer && !deposit.simulated && deposit.livemode ? html` <a href="${explorer}${deposit.transaction_hash}" rel="noopener noreferrer">View on explorer</a>` : deposit.simulated ? ' (simulated)' : ''}
              </dd>
              <dt>Block</dt>
              <dd>${deposit.block_number ?? '—'}</dd>
              <dt>Customer</dt>
              <dd>${deposit.customer_id ? html`<a href="/dashboard/customers/${deposit.customer_id}">${deposit.customer_id}</a>` : '—'}</dd>
              <dt>Order</dt>
              <dd>${deposit.order_id ? html`<a href="/dashboard/orders/${deposit.order_id}">${deposit.order_id}</a>` : '—'}</dd>
              ${
                deposit.failure_reason
                  ? html`<dt>Failure</dt>
                      <dd>${deposit.failure_reason}</dd>`
                  : ''
              }
              <dt>Created</dt>
              <dd>${when(deposit.created_at)}</dd>
              <dt>Completed</dt>
              <dd data-completed-at>${when(deposit.completed_at)}</dd>
            </dl>
          </section>
          <section aria-labelledby="dep-events">
            <h2 id="dep-events">Events</h2>
            ${eventsTable(events)}
          </section>`,
      };
    }),
  );

  // ---- Live updates: the public event stream relayed as server-sent events ----
  router.get('/stream', signedIn, async (ctx) => {
    const { inflow } = dash(ctx);
    // Resume where the browser's EventSource left off (its Last-Event-ID), or after the page's newest event.
    const resume = [ctx.get('Last-Event-ID'), typeof ctx.query.after === 'string' ? ctx.query.after : ''].find((id) => /^evt_[0-9a-z]{1,40}$/.test(id));
    const abort = new AbortController();
    const response = ctx.res;
    response.on('close', () => abort.abort());
    ctx.req.socket.setTimeout(0);
    ctx.status = 200;
    ctx.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no', Connection: 'close' });
    // Written by hand, as the API's own stream is: Koa would treat the browser leaving as an error.
    ctx.respond = false;
    response.writeHead(200);
    const write = (chunk: string) => {
      if (!abort.signal.aborted && !response.writableEnded) response.write(chunk);
    };
    // The browser reconnects on its own (with Last-Event-ID) after a dropped stream; not too eagerly.
    write('retry: 5000\n: connected\n\n');
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), 15_000);
    try {
      for await (const event of inflow.events.stream({ types: 'deposit.*' }, { signal: abort.signal, ...(resume ? { lastEventId: resume } : {}) })) {
        const deposit = event.data as Partial<Schemas['Deposit']>;
        const payload = {
          id: deposit.id,
          status: deposit.status,
          confirmations: deposit.confirmations,
          required_confirmations: deposit.required_confirmations,
          updated_at: deposit.updated_at,
          fee: deposit.fee ?? null,
          net_amount: deposit.net_amount ?? null,
          currency: deposit.currency,
          completed_at: deposit.completed_at ?? null,
        };
        write(`event: deposit\nid: ${event.id}\ndata: ${JSON.stringify(payload)}\n\n`);
      }
    } catch (error) {
      if (!abort.signal.aborted)
        write(`event: stream-error\ndata: ${JSON.stringify({ message: error instanceof Error ? error.message : 'stream failed' })}\n\n`);
    } finally {
      clearInterval(heartbeat);
      if (!response.writableEnded) response.end();
    }
  });

  // ---- Customers ----
  router.get(
    '/customers',
    signedIn,
    view('customers', async (ctx, { inflow, chrome }) => {
      const after = cursorOf(ctx);
      const list = await inflow.customers.list({ limit: 50, ...(after ? { starting_after: after } : {}) });
      const last = list.data.at(-1);
      return {
        title: 'Customers',
        body: html`${
            list.data.length
              ? html`<div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Customer</th>
                        <th scope="col">Email</th>
                        <th scope="col" class="hide-narrow">Name</th>
                        <th scope="col" class="hide-narrow">External id</th>
                        <th scope="col" class="hide-narrow">Created</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${list.data.map(
                        (customer) =>
                          html`<tr data-customer-id="${customer.id}">
                            <td>
                              <a href="/dashboard/customers/${customer.id}"><code>${customer.id}</code></a>
                            </td>
                            <td>${customer.email ?? '—'}</td>
                            <td class="hide-narrow">${customer.name ?? '—'}</td>
                            <td class="hide-narrow">${customer.external_id ?? '—'}</td>
                            <td class="hide-narrow">${when(customer.created_at)}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
              : html`<p>No customers yet.</p>`
          }
          ${list.has_more && last ? html`<p><a href="/dashboard/customers?starting_after=${last.id}">Next page</a></p>` : ''}
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
    }),
  );

  const parseMetadata = (text: string | undefined): Record<string, string> | undefined => {
    const entries = (text ?? '')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at).trim(), line.slice(at + 1).trim()];
      });
    return entries.length ? Object.fromEntries(entries) : undefined;
  };
  const optional = (name: string, value: string | undefined) => (value && value.trim() ? { [name]: value.trim() } : {});

  router.post(
    '/customers',
    signedIn,
    view('customers', async (ctx, { inflow, form }) => {
      const metadata = parseMetadata(form.get('metadata'));
      const customer = await inflow.customers.create({
        ...optional('email', form.get('email')),
        ...optional('name', form.get('name')),
        ...optional('external_id', form.get('external_id')),
        ...(metadata ? { metadata } : {}),
      });
      redirect(ctx, `/dashboard/customers/${encodeURIComponent(customer.id)}`);
    }),
  );

  const metadataList = (metadata: Record<string, string>) =>
    Object.keys(metadata).length
      ? html`<dl class="facts" data-metadata>
          ${Object.entries(metadata).map(
            ([key, value]) =>
              html`<dt>${key}</dt>
                <dd>${value}</dd>`,
          )}
        </dl>`
      : html`<p data-metadata>No metadata.</p>`;

  const qrSvg = async (text: string, label: string): Promise<SafeHtml> => {
    // The package draws paths from the address's bits: the address itself never appears in the markup.
    const svg = await QRCode.toString(text, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
    return trustedMarkup(svg.replace('<svg ', `<svg data-qr role="img" aria-label="${html`${label}`.value}" `));
  };

  router.get(
    '/customers/:id',
    signedIn,
    view('customers', async (ctx, { inflow }) => {
      const id = ctx.params.id as string;
      const [customer, deposits] = await Promise.all([inflow.customers.retrieve(id), inflow.deposits.list({ customer_id: id, limit: 20 })]);
      const codes = await Promise.all(customer.addresses.map((entry) => qrSvg(entry.address, `QR code of the ${entry.network} address`)));
      return {
        title: `Customer ${customer.email ?? customer.name ?? customer.id}`,
        body: html`<section aria-labelledby="cus-facts">
            <h2 id="cus-facts">Details</h2>
            <dl class="facts">
              <dt>Id</dt>
              <dd><code>${customer.id}</code></dd>
              <dt>Email</dt>
              <dd>${customer.email ?? '—'}</dd>
              <dt>Name</dt>
              <dd>${customer.name ?? '—'}</dd>
              <dt>External id</dt>
              <dd>${customer.external_id ?? '—'}</dd>
              <dt>Archived</dt>
              <dd>${customer.archived ? 'yes' : 'no'}</dd>
              <dt>Created</dt>
              <dd>${when(customer.created_at)}</dd>
            </dl>
          </section>
          <section aria-labelledby="cus-meta">
            <h2 id="cus-meta">Metadata</h2>
            ${metadataList(customer.metadata)}
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
          </section>`,
      };
    }),
  );

  // ---- Orders ----
  router.get(
    '/orders',
    signedIn,
    view('orders', async (ctx, { inflow }) => {
      const statusFilter = pick(ctx.query.status, orderStatuses);
      const after = cursorOf(ctx);
      const list = await inflow.orders.list({ limit: 50, ...(statusFilter ? { status: statusFilter } : {}), ...(after ? { starting_after: after } : {}) });
      const last = list.data.at(-1);
      return {
        title: 'Orders',
        body: html`<form class="inline card" method="get" action="/dashboard/orders" role="search" aria-label="Filter orders">
            ${choiceFilter('o-status', 'Status', 'status', orderStatuses, statusFilter)}
            <button type="submit">Filter</button>
          </form>
          ${
            list.data.length
              ? html`<div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Order</th>
                        <th scope="col">Status</th>
                        <th scope="col">Amount</th>
                        <th scope="col" class="hide-narrow">External id</th>
                        <th scope="col" class="hide-narrow">Expires</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${list.data.map(
                        (order) =>
                          html`<tr data-order-id="${order.id}">
                            <td>
                              <a href="/dashboard/orders/${order.id}"><code>${order.id}</code></a>
                            </td>
                            <td data-field="status">${status(order.status)}</td>
                            <td>${order.amount} ${order.currency}</td>
                            <td class="hide-narrow">${order.external_id}</td>
                            <td class="hide-narrow">${when(order.expires_at)}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
              : html`<p>No orders.</p>`
          }
          ${list.has_more && last ? html`<p><a href="/dashboard/orders?${new URLSearchParams({ ...(statusFilter ? { status: statusFilter } : {}), starting_after: last.id }).toString()}">Next page</a></p>` : ''}`,
      };
    }),
  );

  router.get(
    '/orders/:id',
    signedIn,
    view('orders', async (ctx, { inflow }) => {
      const order = await inflow.orders.retrieve(ctx.params.id as string);
      const code = await qrSvg(order.address, `QR code of the order's ${order.network} address`);
      return {
        title: `Order ${order.external_id}`,
        body: html`<section aria-labelledby="ord-facts">
            <h2 id="ord-facts">Status: <span data-order-status class="status-${order.status}">${order.status}</span></h2>
            <dl class="facts">
              <dt>Id</dt>
              <dd><code>${order.id}</code></dd>
              <dt>External id</dt>
              <dd>${order.external_id}</dd>
              <dt>Amount</dt>
              <dd>
                ${order.amount}
                ${order.currency}${order.fiat_amount ? ` (${order.fiat_amount} ${order.fiat_currency ?? ''} at ${order.exchange_rate ?? '?'})` : ''}
              </dd>
              <dt>Received</dt>
              <dd>${order.amount_received} ${order.currency}${order.overpaid ? ' (overpaid)' : ''}${order.late ? ' (late payment)' : ''}</dd>
              <dt>Fee</dt>
              <dd>${order.fee} ${order.currency}</dd>
              <dt>Net</dt>
              <dd>${order.net_amount} ${order.currency}</dd>
              <dt>Network</dt>
              <dd>${order.network}</dd>
              <dt>Address</dt>
              <dd><code data-address data-network="${order.network}">${order.address}</code></dd>
              <dt>Customer</dt>
              <dd>${order.customer_id ? html`<a href="/dashboard/customers/${order.customer_id}">${order.customer_id}</a>` : '—'}</dd>
              <dt>Callback URL</dt>
              <dd>${order.callback_url ?? '—'}</dd>
              <dt>Expires</dt>
              <dd>${when(order.expires_at)}</dd>
              <dt>Created</dt>
              <dd>${when(order.created_at)}</dd>
              <dt>Completed</dt>
              <dd>${when(order.completed_at)}</dd>
              <dt>Deposits</dt>
              <dd>${order.deposits.length ? order.deposits.map((id) => html`<a href="/dashboard/deposits/${id}"><code>${id}</code></a> `) : '—'}</dd>
            </dl>
            ${code}
          </section>
          <section aria-labelledby="ord-meta">
            <h2 id="ord-meta">Metadata</h2>
            ${metadataList(order.metadata)}
          </section>`,
      };
    }),
  );

  // ---- Webhook endpoints ----
  router.get(
    '/webhooks',
    signedIn,
    view('webhooks', async (_ctx, { inflow, chrome }) => {
      const list = await inflow.webhookEndpoints.list({ limit: 100 });
      return {
        title: 'Webhook endpoints',
        body: html`${
            list.data.length
              ? html`<div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Endpoint</th>
                        <th scope="col">URL</th>
                        <th scope="col">State</th>
                        <th scope="col" class="hide-narrow">Events</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${list.data.map(
                        (endpoint) =>
                          html`<tr data-endpoint-id="${endpoint.id}">
                            <td>
                              <a href="/dashboard/webhooks/${endpoint.id}"><code>${endpoint.id}</code></a>
                            </td>
                            <td><code>${endpoint.url}</code></td>
                            <td data-field="state">${endpoint.disabled ? 'disabled' : 'enabled'}</td>
                            <td class="hide-narrow">${endpoint.events.join(', ')}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
              : html`<p>No endpoints yet.</p>`
          }
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
    }),
  );

  const endpointPage = async (inflow: Inflow, chrome: Chrome, endpoint: Schemas['WebhookEndpoint'], secret?: string) => {
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
          <dl class="facts">
            <dt>URL</dt>
            <dd><code>${endpoint.url}</code></dd>
            <dt>State</dt>
            <dd data-endpoint-state>${endpoint.disabled ? 'disabled' : 'enabled'}${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}</dd>
            <dt>Events</dt>
            <dd>${endpoint.events.join(', ')}</dd>
            <dt>Description</dt>
            <dd>${endpoint.description ?? '—'}</dd>
            <dt>X-Webhook-Signature</dt>
            <dd data-signature-format>${signatureFormatLabels[endpoint.x_webhook_signature_format]}</dd>
            <dt>Created</dt>
            <dd>${when(endpoint.created_at)}</dd>
          </dl>
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
          ${
            deliveries.length
              ? html`<div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Event</th>
                        <th scope="col">Type</th>
                        <th scope="col">Status</th>
                        <th scope="col">Attempts</th>
                        <th scope="col" class="hide-narrow">Last answer</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${deliveries.map(
                        ({ event, delivery }) =>
                          html`<tr data-delivery-id="${delivery.id}">
                            <td>
                              <a href="/dashboard/events/${event.id}"><code>${event.id}</code></a>
                            </td>
                            <td>${event.event}</td>
                            <td data-delivery-status>${status(delivery.status)}</td>
                            <td>${delivery.attempts.length}</td>
                            <td class="hide-narrow">${delivery.attempts.at(-1)?.status_code ?? delivery.attempts.at(-1)?.error ?? '—'}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
              : html`<p>No deliveries among the latest 50 events.</p>`
          }
        </section>`,
    };
  };

  router.post(
    '/webhooks',
    signedIn,
    view('webhooks', async (_ctx, { inflow, form, chrome }) => {
      const events = form.getAll('events');
      const endpoint = await inflow.webhookEndpoints.create({
        url: form.get('url') ?? '',
        events: events.length ? events : ['*'],
        ...optional('description', form.get('description')),
        ...optional('x_webhook_signature_format', form.get('x_webhook_signature_format')),
      } as Parameters<Inflow['webhookEndpoints']['create']>[0]);
      return endpointPage(inflow, chrome, endpoint, endpoint.secret);
    }),
  );

  router.get(
    '/webhooks/:id',
    signedIn,
    view('webhooks', async (ctx, { inflow, chrome }) => endpointPage(inflow, chrome, await inflow.webhookEndpoints.retrieve(ctx.params.id as string))),
  );

  router.post(
    '/webhooks/:id/rotate',
    signedIn,
    view('webhooks', async (ctx, { inflow, chrome }) => {
      const endpoint = await inflow.webhookEndpoints.rotateSecret(ctx.params.id as string);
      return endpointPage(inflow, chrome, endpoint, endpoint.secret);
    }),
  );

  router.post(
    '/webhooks/:id/toggle',
    signedIn,
    view('webhooks', async (ctx, { inflow, form }) => {
      const id = ctx.params.id as string;
      await inflow.webhookEndpoints.update(id, { disabled: form.get('disabled') === 'true' });
      redirect(ctx, `/dashboard/webhooks/${encodeURIComponent(id)}`);
    }),
  );

  router.post(
    '/webhooks/:id/signature-format',
    signedIn,
    view('webhooks', async (ctx, { inflow, form }) => {
      const id = ctx.params.id as string;
      // The API validates the value: anything but its two formats comes back as the page's alert.
      const format = (form.get('x_webhook_signature_format') ?? '') as Schemas['WebhookEndpoint']['x_webhook_signature_format'];
      await inflow.webhookEndpoints.update(id, { x_webhook_signature_format: format });
      redirect(ctx, `/dashboard/webhooks/${encodeURIComponent(id)}`);
    }),
  );

  router.post(
    '/webhooks/:id/test',
    signedIn,
    view('webhooks', async (ctx, { inflow }) => {
      const id = ctx.params.id as string;
      await inflow.webhookEndpoints.sendTest(id);
      redirect(ctx, `/dashboard/webhooks/${encodeURIComponent(id)}`);
    }),
  );

  // ---- Events ----
  router.get(
    '/events',
    signedIn,
    view('events', async (ctx, { inflow }) => {
      const type = pick(ctx.query.type, eventTypes);
      const after = cursorOf(ctx);
      const list = await inflow.events.list({ limit: 50, ...(type ? { type } : {}), ...(after ? { starting_after: after } : {}) });
      const last = list.data.at(-1);
      return {
        title: 'Events',
        body: html`<form class="inline card" method="get" action="/dashboard/events" role="search" aria-label="Filter events">
            ${choiceFilter('e-type', 'Type', 'type', eventTypes, type)}
            <button type="submit">Filter</button>
          </form>
          ${eventsTable(list.data)}
          ${list.has_more && last ? html`<p><a href="/dashboard/events?${new URLSearchParams({ ...(type ? { type } : {}), starting_after: last.id }).toString()}">Next page</a></p>` : ''}`,
      };
    }),
  );

  router.get(
    '/events/:id',
    signedIn,
    view('events', async (ctx, { inflow, chrome }) => {
      const event = await inflow.events.retrieve(ctx.params.id as string);
      const objectId = typeof event.data.id === 'string' ? event.data.id : undefined;
      const objectLink = objectId?.startsWith('dep_')
        ? `/dashboard/deposits/${objectId}`
        : objectId?.startsWith('cus_')
          ? `/dashboard/customers/${objectId}`
          : objectId?.startsWith('ord_')
            ? `/dashboard/orders/${objectId}`
            : undefined;
      return {
        title: `Event ${event.event}`,
        body: html`<section aria-labelledby="ev-facts">
            <h2 id="ev-facts">Details</h2>
            <dl class="facts">
              <dt>Id</dt>
              <dd><code data-event-id="${event.id}">${event.id}</code></dd>
              <dt>Type</dt>
              <dd>${event.event}</dd>
              <dt>Created</dt>
              <dd>${when(event.created_at)}</dd>
              <dt>Object</dt>
              <dd>${objectLink ? html`<a href="${objectLink}">${objectId}</a>` : (objectId ?? '—')}</dd>
            </dl>
            <form id="resend" method="post" action="/dashboard/events/${event.id}/resend">
              ${csrfField(chrome.csrfToken)}<button type="submit">Resend to endpoints</button>
            </form>
          </section>
          <section aria-labelledby="ev-deliveries">
            <h2 id="ev-deliveries">Deliveries</h2>
            ${
              event.deliveries.length
                ? event.deliveries.map(
                    (delivery) =>
                      html`<div class="card" data-delivery-id="${delivery.id}">
                        <h3>
                          ${delivery.endpoint_id ? html`Endpoint <a href="/dashboard/webhooks/${delivery.endpoint_id}">${delivery.endpoint_id}</a>` : html`Order callback ${delivery.order_id ?? ''}`}${delivery.redelivery ? ' (resent)' : ''}:
                          <span data-delivery-status>${delivery.status}</span>
                        </h3>
                        <div class="table-wrap">
                          <table>
                            <thead>
                              <tr>
                                <th scope="col">#</th>
                                <th scope="col">When</th>
                                <th scope="col">HTTP status</th>
                                <th scope="col">Latency (ms)</th>
                                <th scope="col">Answer</th>
                              </tr>
                            </thead>
                            <tbody>
                              ${delivery.attempts.map(
                                (attempt) =>
                                  html`<tr data-attempt="${attempt.attempt}">
                                    <td>${attempt.attempt}</td>
                                    <td>${when(attempt.attempted_at)}</td>
                                    <td data-field="status_code">${attempt.status_code ?? attempt.error ?? '—'}</td>
                                    <td data-field="latency_ms">${attempt.latency_ms ?? '—'}</td>
                                    <td data-field="response_body"><code>${attempt.response_body ?? ''}</code></td>
                                  </tr>`,
                              )}
                            </tbody>
                          </table>
                        </div>
                        ${delivery.attempts.length ? '' : html`<p>No attempt yet.</p>`}
                      </div>`,
                  )
                : html`<p>No deliveries: no endpoint was subscribed to this event.</p>`
            }
          </section>
          <section aria-labelledby="ev-data">
            <h2 id="ev-data">Data</h2>
            <pre class="mono card">${JSON.stringify(event.data, null, 2)}</pre>
          </section>`,
      };
    }),
  );

  router.post(
    '/events/:id/resend',
    signedIn,
    view('events', async (ctx, { inflow }) => {
      const id = ctx.params.id as string;
      await inflow.events.resend(id);
      redirect(ctx, `/dashboard/events/${encodeURIComponent(id)}`);
    }),
  );

  return router;
}
