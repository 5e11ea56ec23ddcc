import type { Mode } from '../domain/mode';
import { html, type SafeHtml } from './html';
import type { SessionMerchant } from './sessions';

export const NAV = [
  ['overview', 'Overview', '/dashboard'],
  ['deposits', 'Deposits', '/dashboard/deposits'],
  ['balance', 'Balance', '/dashboard/balance'],
  ['payouts', 'Payouts', '/dashboard/payouts'],
  ['customers', 'Customers', '/dashboard/customers'],
  ['orders', 'Orders', '/dashboard/orders'],
  ['webhooks', 'Webhooks', '/dashboard/webhooks'],
  ['events', 'Events', '/dashboard/events'],
  ['requests', 'Requests', '/dashboard/requests'],
  ['api-keys', 'API keys', '/dashboard/api-keys'],
] as const;

export type Section = (typeof NAV)[number][0];

export interface Chrome {
  mode: Mode;
  csrfToken: string;
  /** Modes the session holds a key for. */
  modes: Mode[];
  /** Whose data every page shows: the session's one merchant. */
  merchant: SessionMerchant;
  section?: Section;
}

export const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}" />`;

function document(title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · inflow dashboard</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/dashboard/assets/dashboard.css" />
        <script src="/dashboard/assets/dashboard.js" defer></script>
      </head>
      <body>
        ${body}
      </body>
    </html>`;
}

/** A signed-in page: header with navigation, mode badge and switch, sign-out; then main. */
export function page(title: string, chrome: Chrome, content: SafeHtml): SafeHtml {
  const other: Mode = chrome.mode === 'test' ? 'live' : 'test';
  return document(
    title,
    html`<a class="skip" href="#main">Skip to content</a>
      <header>
        <span class="brand">inflow</span>
        <span class="merchant" data-merchant-id="${chrome.merchant.id}" title="${chrome.merchant.id}"
          ><span class="skip">Merchant: </span><span data-merchant-name>${chrome.merchant.name}</span></span
        >
        <span class="badge" data-mode="${chrome.mode}">${chrome.mode === 'test' ? 'Test mode' : 'Live mode'}</span>
        <nav aria-label="Dashboard">
          <ul>
            ${NAV.map(([section, label, href]) => html`<li><a href="${href}" ${chrome.section === section ? html` aria-current="page"` : ''}>${label}</a></li>`)}
          </ul>
        </nav>
        <form id="mode-switch" method="post" action="/dashboard/mode">
          ${csrfField(chrome.csrfToken)}
          <input type="hidden" name="mode" value="${other}" />
          <button type="submit">Switch to ${other} mode${chrome.modes.includes(other) ? '' : ' (sign in)'}</button>
        </form>
        <form id="logout" method="post" action="/dashboard/logout">
          ${csrfField(chrome.csrfToken)}
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main id="main" tabindex="-1">
        <h1>${title}</h1>
        ${content}
      </main>`,
  );
}

/** A page outside a session (sign-in, errors before sign-in). */
export function bare(title: string, content: SafeHtml): SafeHtml {
  return document(title, html`<main id="main">${content}</main>`);
}

export const alert = (message: string | undefined) => (message ? html`<div role="alert">${message}</div>` : html``);

export const status = (value: string) => html`<span class="status-${value}">${value}</span>`;

export const when = (iso: string | null | undefined) =>
  iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>` : html`—`;
