/**
 * The hosted payment page at /pay/{token} (docs/checkout.md): public, no API key; the token is the
 * secret. It shows the payer what to send, where, and the order's status live; it shows nothing of
 * the merchant but its display name and logo, and nothing of the order but what the payer needs.
 * A token that opens nothing is a 404 that says nothing, and spends one of the address's
 * allowance of refused requests (INFLOW_UNAUTHENTICATED_REQUESTS_PER_IP), as a refused key does.
 *
 *   GET  /pay/{token}            the page (English, Spanish or German, from Accept-Language or ?lang=)
 *   GET  /pay/{token}/events     its status as server-sent events (checkout.stream.ts)
 *   GET  /pay/{token}/logo       the merchant's logo, from inflow's own origin
 *   POST /pay/{token}/simulate   test mode only: pays what is left through the simulator
 *   GET  /pay/assets/pay.css|js  the page's only stylesheet and script
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { expectedOrigin, sameOrigin, type OriginSettings } from '../api/public-origin';
import type { UnauthenticatedLimit } from '../api/middleware/rate-limit';
import { inTransaction, type Db } from '../db/database';
import { simulateDeposit } from '../deposits/simulate';
import { modeOf, type Mode } from '../domain/mode';
import { networks, type Network } from '../domain/networks';
import type { Logger } from '../logger';
import { findMerchantBranding, findMerchantLogo } from '../merchants/merchants.repository';
import { depositsOfOrders, findOrderByPaymentToken, lockOrderById } from '../orders/orders.repository';
import type { Order } from '../orders/orders.table';
import { script, stylesheet } from './checkout.assets';
import { messagePage, paymentPage } from './checkout.page';
import { streamPaymentPage } from './checkout.stream';
import { isPaymentToken } from './payment-token';
import { paymentState } from './payment-state';
import { languages, negotiateLanguage, type Language } from './strings';

export const PAYMENT_PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** A token's contract for a currency on a network in a mode: the watched chain's (INFLOW_TOKEN_…), else the registry's. */
export type TokenContracts = (network: Network, mode: Mode, currency: string) => string | undefined;

export const registryTokenContracts: TokenContracts = (network, mode, currency) => {
  const definition: { contracts?: Partial<Record<Mode, string>> } | undefined = (
    networks[network].currencies as Record<string, { contracts?: Partial<Record<Mode, string>> }>
  )[currency];
  return definition?.contracts?.[mode];
};

/** The watched chains' contracts (INFLOW_TOKEN_<NETWORK>_<CURRENCY>_<MODE>), falling back to the registry's. */
export function watchedTokenContracts(
  chains: ReadonlyArray<{ network: Network; livemode: boolean; tokens: Array<{ currency: string; address: string }> }>,
): TokenContracts {
  return (network, mode, currency) =>
    chains.find((chain) => chain.network === network && modeOf(chain.livemode) === mode)?.tokens.find((token) => token.currency === currency)?.address ??
    registryTokenContracts(network, mode, currency);
}

export interface CheckoutDeps extends OriginSettings {
  db: Db;
  logger: Logger;
  clock?: (() => Date) | undefined;
  /** Test mode's simulated confirmations: the simulator's block interval (as POST /deposits/simulate). */
  simulatedBlockTimeMs?: number | undefined;
  tokenContracts?: TokenContracts | undefined;
  /** The app's one allowance of refused requests per address. */
  refusedLimit: UnauthenticatedLimit;
}

function securityHeaders(): Middleware {
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', PAYMENT_PAGE_CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    // The token is in the page's address: no link or redirect may carry it to another site. Not
    // `no-referrer`, which would make the simulate form's Origin `null` and so refused as cross-site.
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('X-Robots-Tag', 'noindex, nofollow');
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
}

export function checkoutRoutes(deps: CheckoutDeps): Router {
  const router = new Router({ prefix: '/pay' });
  const clock = deps.clock ?? (() => new Date());
  const tokenContracts = deps.tokenContracts ?? registryTokenContracts;
  router.use(securityHeaders());

  router.get('/assets/pay.css', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'text/css; charset=utf-8';
    ctx.body = stylesheet;
  });
  router.get('/assets/pay.js', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.body = script;
  });

  const languageOf = (ctx: Context): Language => {
    const asked = typeof ctx.query.lang === 'string' ? ctx.query.lang : '';
    ctx.vary('Accept-Language');
    return Object.hasOwn(languages, asked) ? (asked as Language) : negotiateLanguage(ctx.get('Accept-Language'));
  };
  const answer = (ctx: Context, status: number, body: { value: string }) => {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = body.value;
  };
  /** The token's order, or the 404 (the address's allowance spent) and undefined. */
  const orderOf = async (ctx: Context): Promise<Order | undefined> => {
    deps.refusedLimit.check(ctx);
    const token = ctx.params.token ?? '';
    const order = isPaymentToken(token) ? await findOrderByPaymentToken(deps.db, token) : undefined;
    if (order) return order;
    deps.refusedLimit.charge(ctx);
    const strings = languages[languageOf(ctx)];
    answer(ctx, 404, messagePage(languageOf(ctx), strings.notFoundTitle, strings.notFound));
    return undefined;
  };
  const merchantOf = async (order: Order) => (await findMerchantBranding(deps.db, order.merchant_id)) ?? { displayName: '', hasLogo: false };

  router.get('/:token', async (ctx) => {
    const order = await orderOf(ctx);
    if (!order) return;
    const [merchant, deposits] = await Promise.all([merchantOf(order), depositsOfOrders(deps.db, [order.id])]);
    const notice = ctx.query.simulated === '1' ? 'simulated' : ctx.query.simulated === '0' ? 'simulate_refused' : undefined;
    answer(
      ctx,
      200,
      await paymentPage({
        order,
        state: paymentState(order, deposits, clock()),
        merchant,
        language: languageOf(ctx),
        token: order.payment_token,
        tokenContract: tokenContracts(order.network as Network, modeOf(order.livemode), order.currency),
        notice: order.livemode ? undefined : notice,
      }),
    );
  });

  router.get('/:token/events', async (ctx) => {
    const order = await orderOf(ctx);
    if (!order) return;
    const [merchant, deposits] = await Promise.all([merchantOf(order), depositsOfOrders(deps.db, [order.id])]);
    const refused = await streamPaymentPage(ctx, order, deposits, { merchant: merchant.displayName, language: languageOf(ctx) }, { ...deps, clock });
    if (refused) {
      ctx.set('Retry-After', '10');
      const strings = languages[languageOf(ctx)];
      answer(ctx, 429, messagePage(languageOf(ctx), strings.tooManyTitle, strings.tooMany));
    }
  });

  router.get('/:token/logo', async (ctx) => {
    const order = await orderOf(ctx);
    if (!order) return;
    const logo = await findMerchantLogo(deps.db, order.merchant_id);
    if (!logo) {
      ctx.status = 404;
      return;
    }
    ctx.set('Cache-Control', 'private, max-age=300');
    ctx.type = logo.type;
    ctx.body = logo.bytes;
  });

  router.post('/:token/simulate', async (ctx) => {
    const order = await orderOf(ctx);
    if (!order) return;
    // Live pages have no simulator: as missing as a token that opens nothing.
    if (order.livemode) {
      const strings = languages[languageOf(ctx)];
      answer(ctx, 404, messagePage(languageOf(ctx), strings.notFoundTitle, strings.notFound));
      return;
    }
    // A form posted from another site is refused: the page's own form sends its Origin.
    if (!sameOrigin(ctx, expectedOrigin(ctx, deps))) {
      ctx.status = 403;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'Refused: this form is accepted only from the payment page itself.';
      return;
    }
    const simulated = await inTransaction(deps.db, async (transaction) => {
      // Locked, so that two clicks at once pay once: the second finds the first's payment confirming.
      const locked = (await lockOrderById(transaction, order.id))!;
      const state = paymentState(locked, await depositsOfOrders(transaction, [locked.id]), clock());
      if (state.status !== 'awaiting_payment' && state.status !== 'partially_paid') return false;
      const tenant = { merchantId: locked.merchant_id, livemode: locked.livemode };
      await simulateDeposit(
        transaction,
        tenant,
        { order_id: locked.id, amount: state.remaining, outcome: 'completed' },
        { blockTimeMs: deps.simulatedBlockTimeMs },
      );
      return true;
    });
    deps.logger.info({ order_id: order.id, simulated }, 'payment page simulate');
    ctx.status = 303;
    ctx.set('Location', `/pay/${order.payment_token}?simulated=${simulated ? '1' : '0'}`);
    ctx.body = '';
  });

  return router;
}
