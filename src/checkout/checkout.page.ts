/**
 * The payment page's markup: everything is on the page as the server renders it (status on reload
 * without JavaScript); the script (checkout.assets.ts) only copies, counts down and applies the
 * live stream's updates to the elements marked `data-…` here.
 */
import { html, type SafeHtml } from '../dashboard/html';
import { qrCode } from '../dashboard/components/qr-code';
import type { Mode } from '../domain/mode';
import { formatAmount } from '../domain/money';
import { networks, type Network } from '../domain/networks';
import type { Order } from '../orders/orders.table';
import { isFinal, type PaymentState } from './payment-state';
import { paymentUri } from './payment-uri';
import { languages, networkTitles, tokenStandard, type Language, type StatusWords, type Strings } from './strings';

export interface PageContext {
  order: Order;
  state: PaymentState;
  merchant: { displayName: string; hasLogo: boolean };
  language: Language;
  token: string;
  tokenContract: string | undefined;
  /** A notice after the simulate form (test mode). */
  notice?: 'simulated' | 'simulate_refused' | undefined;
}

/** What the live stream sends, and the server renders first: the status in the page's words. */
export interface LiveView {
  status: PaymentState['status'];
  final: boolean;
  /** Something is left to send: the address, amount and QR code are shown. */
  payable: boolean;
  headline: string;
  detail: string;
  notes: string[];
  confirmations: number | null;
  requiredConfirmations: number | null;
  remaining: string;
}

export function liveView(order: Order, state: PaymentState, merchant: string, strings: Strings): LiveView {
  const words: StatusWords = {
    amount: state.amount,
    received: state.received,
    remaining: state.remaining,
    currency: order.currency,
    network: networkTitles[order.network] ?? order.network,
    merchant,
    confirmations: state.confirmations,
    required: state.requiredConfirmations,
  };
  const notes = [
    ...(state.overpaid ? [strings.overpaid(words)] : []),
    ...(state.late ? [strings.late(merchant)] : []),
    ...state.otherAssets.map((other) => strings.otherAsset(other.amount, other.currency, merchant)),
  ];
  return {
    status: state.status,
    final: isFinal(state.status),
    payable: !isFinal(state.status) && /[1-9]/.test(state.remaining),
    headline: strings.headline[state.status](words),
    detail: strings.detail[state.status](words),
    notes,
    confirmations: state.confirmations,
    requiredConfirmations: state.requiredConfirmations,
    remaining: state.remaining,
  };
}

export async function paymentPage(context: PageContext): Promise<SafeHtml> {
  const { order, state, merchant, language, token } = context;
  const strings = languages[language];
  const mode: Mode = order.livemode ? 'live' : 'test';
  const network = order.network as Network;
  const networkTitle = networkTitles[network] ?? network;
  const isNative = networks[network].nativeCurrency === order.currency;
  const standard = tokenStandard(network, isNative);
  const view = liveView(order, state, merchant.displayName, strings);
  const request = paymentUri({
    network,
    mode,
    currency: order.currency,
    address: order.address,
    amount: BigInt(order.amount),
    tokenContract: context.tokenContract,
  });
  const qr = await qrCode(request.uri, strings.qrLabel(order.currency, networkTitle));
  const fiat = order.fiat_amount === null ? null : `${formatAmount(BigInt(order.fiat_amount), 2)} ${order.fiat_currency}`;
  const completed = state.status === 'completed';
  return html`<!doctype html>
    <html lang="${language}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>${strings.title(merchant.displayName)}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/pay/assets/pay.css" />
        <script src="/pay/assets/pay.js" defer></script>
      </head>
      <body
        data-status="${state.status}"
        data-stream="/pay/${token}/events"
        data-success-url="${order.success_url ?? ''}"
        data-copied="${strings.copied}"
        data-copy-failed="${strings.copyFailed}"
      >
        ${mode === 'test' ? html`<p class="test-banner" role="note">${strings.testBanner}</p>` : ''}
        <main id="main">
          <header class="merchant">
            ${merchant.hasLogo ? html`<img src="/pay/${token}/logo" alt="${strings.logoAlt(merchant.displayName)}" width="48" height="48" />` : ''}
            <p class="merchant-name">${merchant.displayName}</p>
          </header>
          <h1>${strings.title(merchant.displayName)}</h1>

          <section class="status" aria-labelledby="headline">
            <h2 id="headline" data-headline>${view.headline}</h2>
            <p data-detail>${view.detail}</p>
            <progress
              data-progress
              max="${view.requiredConfirmations ?? 1}"
              value="${view.confirmations ?? 0}"
              ${view.confirmations === null ? html`hidden` : ''}
            >
              ${view.confirmations ?? 0} / ${view.requiredConfirmations ?? 0}
            </progress>
            <ul class="notes" data-notes>
              ${view.notes.map((note) => html`<li>${note}</li>`)}
            </ul>
            <p class="redirecting" data-redirecting hidden>${strings.redirecting(merchant.displayName)}</p>
            <noscript><p>${strings.reloadForStatus}</p></noscript>
            <p class="visually-hidden" aria-live="polite" aria-atomic="true" data-announce></p>
          </section>

          <section class="pay" data-pay ${view.payable ? '' : html`hidden`} aria-label="${strings.address}">
            <dl>
              <dt>${strings.amount}</dt>
              <dd>
                <span class="amount"><code id="amount" data-remaining>${state.remaining}</code> ${order.currency}</span>
                <button type="button" class="copy" data-copy="amount" hidden>${strings.copy}</button>
                ${fiat ? html`<span class="fiat">${strings.fiatEquivalent(fiat)}</span>` : ''}
              </dd>
              <dt>${strings.network}</dt>
              <dd>${networkTitle}${standard ? html` <span class="standard">(${standard})</span>` : ''}</dd>
              <dt>${strings.address}</dt>
              <dd>
                <code id="address" class="address">${order.address}</code>
                <button type="button" class="copy" data-copy="address" hidden>${strings.copy}</button>
              </dd>
            </dl>
            <p class="warning" role="note">${strings.networkWarning(order.currency, standard, networkTitle)}</p>
            <figure class="qr">${qr} ${request.carriesAmount ? '' : html`<figcaption>${strings.qrWithoutAmount}</figcaption>`}</figure>
            ${request.carriesAmount ? html`<p class="wallet-link"><a href="${request.uri}" data-payment-uri>${strings.openInWallet}</a></p>` : ''}
            <p class="deadline">
              <span>${strings.timeLeft}:</span>
              <strong data-countdown data-expires-at="${state.expiresAt}">${remainingTime(state.expiresAt)}</strong>
              <span class="deadline-at"
                >(${strings.payBy} <time datetime="${state.expiresAt}">${state.expiresAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>)</span
              >
            </p>
          </section>

          ${mode === 'test' && !view.final ? simulateForm(token, strings, view.payable) : ''}
          ${context.notice === 'simulated' ? html`<p class="notice" role="status">${strings.simulated}</p>` : ''}
          ${context.notice === 'simulate_refused' ? html`<p class="notice" role="status">${strings.simulateRefused}</p>` : ''}

          <nav class="return" aria-label="${strings.returnTo(merchant.displayName)}">
            ${
              order.success_url
                ? html`<a href="${order.success_url}" data-success-link ${completed ? '' : html`hidden`}>${strings.returnTo(merchant.displayName)}</a>`
                : ''
            }
            ${
              order.cancel_url
                ? html`<a
                    href="${order.cancel_url}"
                    data-cancel-link
                    data-cancel-text="${strings.cancelAndReturn(merchant.displayName)}"
                    data-return-text="${strings.returnTo(merchant.displayName)}"
                    ${completed ? html`hidden` : ''}
                    >${view.payable ? strings.cancelAndReturn(merchant.displayName) : strings.returnTo(merchant.displayName)}</a
                  >`
                : ''
            }
          </nav>
        </main>
      </body>
    </html>`;
}

/** Shown while something is left to pay (hidden, for the script to show, while a payment confirms). */
function simulateForm(token: string, strings: Strings, payable: boolean): SafeHtml {
  return html`<form class="simulate" method="post" action="/pay/${token}/simulate" ${payable ? '' : html`hidden`}>
    <button type="submit">${strings.simulate}</button>
    <p>${strings.simulateHelp}</p>
  </form>`;
}

/** The countdown as the script writes it: h:mm:ss, or m:ss under an hour; 0:00 once past. */
export function remainingTime(expiresAt: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((Date.parse(expiresAt) - now) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A page for a token that opens nothing, or for a refusal: it says nothing about any order. */
export function messagePage(language: Language, title: string, message: string): SafeHtml {
  return html`<!doctype html>
    <html lang="${language}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>${title}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/pay/assets/pay.css" />
      </head>
      <body>
        <main id="main">
          <h1>${title}</h1>
          <p>${message}</p>
        </main>
      </body>
    </html>`;
}
