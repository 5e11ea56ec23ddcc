/**
 * The merchant dashboard at /dashboard: server-rendered pages built on the public API only. Each
 * request calls inflow's own REST API over loopback with the session's key through the SDK, so
 * the dashboard can do nothing the key cannot (a read-only key sees pages and gets a 403 alert on
 * writes). Only the session table is read directly. See docs/dashboard.md.
 *
 * This file only assembles the router: security headers, assets, the sign-in gate (sign-in.ts),
 * the live relay (live.ts) and one module per page (pages/).
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Db } from '../db/database';
import { script, stylesheet } from './assets';
import { FormUnreadable } from './forms';
import { relayDepositEvents } from './live';
import { expectedOrigin } from '../api/public-origin';
import { apiKeysPage } from './pages/api-keys.page';
import { balancePage } from './pages/balance.page';
import { customersPage } from './pages/customers.page';
import { depositsPage } from './pages/deposits.page';
import { eventsPage } from './pages/events.page';
import { ordersPage } from './pages/orders.page';
import { overviewPage } from './pages/overview.page';
import { payoutsPage } from './pages/payouts.page';
import { requestsPage } from './pages/requests.page';
import { webhooksPage } from './pages/webhooks.page';
import { DASHBOARD_PREFIX, refused } from './responses';
import { mountSignIn } from './sign-in';
import { view, type DashboardPage } from './view';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const pages: DashboardPage[] = [
  overviewPage,
  depositsPage,
  balancePage,
  payoutsPage,
  customersPage,
  ordersPage,
  webhooksPage,
  eventsPage,
  apiKeysPage,
  requestsPage,
];

/** Security headers on every dashboard answer, pages or not; a form too large to read is refused here. */
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
      refused(ctx, error.message, 413);
    }
  };
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

  const signedIn = mountSignIn(router, { ...deps, clock: deps.clock ?? (() => new Date()) });
  router.get('/stream', signedIn, relayDepositEvents);
  const origin = (ctx: Context) => expectedOrigin(ctx, deps);
  for (const { section, routes } of pages) {
    for (const { method, path, build } of routes) router[method](path, signedIn, view(section, build, origin));
  }
  return router;
}
