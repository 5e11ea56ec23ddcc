/**
 * Approve and cancel on a payout's page, and the refund form on a completed deposit's page. The API checks
 * every value (the destination's form, what is left to refund, the balance): what it refuses comes
 * back as the page's alert.
 *
 * A refund sends money, so its form carries the Idempotency-Key it is sent with, made when the page
 * was drawn: the same form submitted twice (a double click, a resubmission) is one refund, the
 * second answered with the first. A refused one writes nothing, its key included, so it can be
 * corrected and sent again from the same form.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import type { Schemas } from '../../../sdk/src';
import { cancelableStatuses } from '../../payouts/payouts.table';
import { optionalField } from '../forms';
import { html, type SafeHtml } from '../html';
import { csrfField, type Chrome } from '../layout';
import { redirect } from '../responses';
import type { DashboardState } from '../view';

/** The approve form of a payout that requires approval, and its cancel form while nothing of it is signed. */
export function payoutWriteForms(payout: Schemas['Payout'], chrome: Chrome): SafeHtml {
  return html`${payout.status === 'requires_approval' ? approvePayoutForm(payout, chrome) : ''}
  ${(cancelableStatuses as readonly string[]).includes(payout.status) ? cancelPayoutForm(payout, chrome) : ''}`;
}

/** Approval is another key's than the one that made the payout: signed in with that one, the API's 403 is the page's alert. */
function approvePayoutForm(payout: Schemas['Payout'], chrome: Chrome): SafeHtml {
  return html`<p>
      This payout is worth more than the operator's approval threshold: nothing is sent until a key other than the one that made it, with
      <code>write</code> on <code>payout_approvals</code>, approves it.
    </p>
    <form id="approve-payout" method="post" action="/dashboard/payouts/${payout.id}/approve" data-confirm="Approve this payout? It is then sent.">
      ${csrfField(chrome.csrfToken)}<button type="submit">Approve payout</button>
    </form>`;
}

function cancelPayoutForm(payout: Schemas['Payout'], chrome: Chrome): SafeHtml {
  return html`<form
    id="cancel-payout"
    method="post"
    action="/dashboard/payouts/${payout.id}/cancel"
    data-confirm="Cancel this payout? Nothing is sent, and what it holds is available again."
  >
    ${csrfField(chrome.csrfToken)}<button type="submit" class="danger">Cancel payout</button>
  </form>`;
}

/** The refund form of a completed deposit's page: where to send it, and how much (all that is left when empty). */
export function refundForm(deposit: Schemas['Deposit'], chrome: Chrome): SafeHtml {
  if (deposit.status !== 'completed') return html``;
  return html`<section aria-labelledby="dep-refund">
    <h2 id="dep-refund">Refund</h2>
    <p>
      Sends ${deposit.currency} on ${deposit.network} back from the treasury, out of the available balance, with the payout fee on top. At most the deposit's
      net (${deposit.net_amount ?? '—'} ${deposit.currency}) less what earlier refunds hold or sent.
    </p>
    <form id="refund-deposit" class="stack" method="post" action="/dashboard/deposits/${deposit.id}/refunds" data-confirm="Send this refund?">
      ${csrfField(chrome.csrfToken)}
      <input type="hidden" name="idempotency_key" value="${randomUUID()}" />
      <label for="r-destination"
        >The customer's address to send it to
        <input id="r-destination" name="destination" required autocomplete="off" spellcheck="false" placeholder="${deposit.network === 'tron' ? 'T…' : '0x…'}"
      /></label>
      <label for="r-amount"
        >Amount in ${deposit.currency} (leave empty for all that is left) <input id="r-amount" name="amount" inputmode="decimal" autocomplete="off"
      /></label>
      <button type="submit">Refund</button>
    </form>
  </section>`;
}

/** The form's key, when it sent one the API can take; else the SDK makes one. */
const idempotencyOf = (value: string | undefined) => (value && value.length <= 255 ? { idempotencyKey: value } : {});

async function refundDeposit(ctx: Context, { inflow, form }: DashboardState) {
  const id = ctx.params.id as string;
  const refund = await inflow.deposits.refund(
    id,
    { destination: (form.get('destination') ?? '').trim(), ...optionalField('amount', form.get('amount')) },
    idempotencyOf(form.get('idempotency_key')),
  );
  redirect(ctx, `/dashboard/payouts/${encodeURIComponent(refund.id)}`);
}

async function approvePayout(ctx: Context, { inflow }: DashboardState) {
  const id = ctx.params.id as string;
  await inflow.payouts.approve(id);
  redirect(ctx, `/dashboard/payouts/${encodeURIComponent(id)}`);
}

async function cancelPayout(ctx: Context, { inflow }: DashboardState) {
  const id = ctx.params.id as string;
  await inflow.payouts.cancel(id);
  redirect(ctx, `/dashboard/payouts/${encodeURIComponent(id)}`);
}

/** On the deposits page's routes. */
export const refundWriteRoutes = [{ method: 'post', path: '/deposits/:id/refunds', build: refundDeposit }] as const;

/** On the payouts page's routes. */
export const payoutWriteRoutes = [
  { method: 'post', path: '/payouts/:id/approve', build: approvePayout },
  { method: 'post', path: '/payouts/:id/cancel', build: cancelPayout },
] as const;
