import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import type { AddressDeriver } from '../chains/derivation';
import type { PayoutSettings } from '../config';
import type { Db } from '../db/database';
import type { Mode } from '../domain/mode';
import type { RateLimitSettings } from '../domain/rate-limits';
import type { Logger } from '../logger';
import type { WebhookPolicy } from '../webhooks/deliveries';
import { checkoutRoutes, type TokenContracts } from '../checkout/checkout.routes';
import { dashboardRoutes } from '../dashboard/dashboard.routes';
import type { PriceSource } from '../prices/price-source';
import type { AppState } from './context';
import { healthRoutes } from './health.routes';
import { apiModules } from './modules';
import { openApiRoutes } from './openapi';
import { auth } from './middleware/auth';
import { jsonBody } from './middleware/body';
import { errorHandler, notFound, unmatched } from './middleware/errors';
import { rateLimit, signInLimit, UnauthenticatedLimit } from './middleware/rate-limit';
import { requestContext } from './middleware/request-context';
import { RequestLog } from '../requests/request-log';
import { VerifiedKeys } from '../api-keys/verified-keys';

export interface AppDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  /** Deposit-address derivation per mode, from that mode's extended public keys; a mode without one is disabled. */
  derivers: Partial<Record<Mode, AddressDeriver>>;
  /** The task queue inflow's worker polls. */
  taskQueue: string;
  /** Test mode: the simulator's block interval instead of each network's own. */
  simulatedBlockTimeMs?: number | undefined;
  /** Which webhook URLs live mode may use. */
  webhookPolicy: WebhookPolicy;
  /** Each mode's USD prices, for orders made in fiat. */
  prices: Record<Mode, PriceSource>;
  /** Per-API-key request rates and concurrency caps, streams per merchant, unauthenticated requests per address (docs/limits.md). */
  rateLimits: RateLimitSettings;
  /** A merchant's webhook endpoints per mode (INFLOW_WEBHOOK_ENDPOINTS_PER_MODE; 16 when unset). */
  webhookEndpointsPerMode?: number | undefined;
  /** INFLOW_SECRET_KEY: seals API keys made through the API so they can sign order callbacks. */
  secretKey: Buffer;
  /** Now, for rolled keys' grace periods; tests inject one. */
  clock?: () => Date;
  /** INFLOW_PUBLIC_URL's origin: where the dashboard's forms must come from when it sits behind a proxy. */
  publicOrigin?: string | undefined;
  /** INFLOW_TRUSTED_PROXIES: peers whose X-Forwarded-For (the limits' client address) and X-Forwarded-Proto/Host (the dashboard's origin) are believed. */
  trustedProxies?: string[] | undefined;
  /** INFLOW_HEALTH_TOKEN: opens GET /healthz?detail. */
  healthToken?: string | undefined;
  /** The token contracts the payment page's QR codes name (the watched chains'); the registry's when absent. */
  tokenContracts?: TokenContracts | undefined;
  /** Payouts' authorization key, whether live ones are on, and their fees (docs/payouts.md); absent, no payout can be made. */
  payouts?: PayoutSettings | undefined;
  /** The merchant-facing request log's writer; the app makes one on `db` unless given (tests pass their own). */
  requestLog?: RequestLog | undefined;
  /** The API keys this process verified in the last second (api-keys/verified-keys.ts); the API's router makes one unless given. */
  verifiedKeys?: VerifiedKeys | undefined;
}

export const API_PREFIX = '/api/v1';

/** Each app's request log, which stopApiServer closes (writing what waits) once the server has stopped. */
const requestLogs = new WeakMap<object, RequestLog>();

export function requestLogOf(app: object): RequestLog | undefined {
  return requestLogs.get(app);
}

/**
 * Builds the Koa app from its dependencies, so tests can serve it on port 0 against their own
 * database and Temporal client. Everything under /api/v1 is authenticated: a route cannot forget
 * it, and an unknown path answers 401 before it answers 404, as Stripe's API does. The catch-all
 * route makes every /api/v1 path a match, which is what runs the router's auth and body parsing.
 * The OpenAPI document is the one public path under /api/v1, like Stripe's published spec.
 */
export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>();
  const requestLog = deps.requestLog ?? new RequestLog(deps.db, deps.logger);
  requestLogs.set(app, requestLog);
  app.use(requestContext(deps.logger, requestLog));
  app.use(errorHandler(deps.logger));
  app.use(healthRoutes(deps).routes());
  app.use(openApiRoutes().routes());
  // One allowance per address for refused keys, whether typed into the sign-in form or sent to the
  // API: two limiters would give every address twice INFLOW_UNAUTHENTICATED_REQUESTS_PER_IP.
  const unauthenticated = new UnauthenticatedLimit(deps.rateLimits.unauthenticatedPerIp, deps.trustedProxies ?? [], nowOf(deps));
  // The merchant dashboard (docs/dashboard.md): outside /api/v1, a client of it over loopback.
  app.use(dashboardRoutes({ ...deps, signInLimit: signInLimit(unauthenticated) }).routes());
  // The hosted payment page (docs/checkout.md): public, each order's behind its token.
  app.use(checkoutRoutes({ ...deps, refusedLimit: unauthenticated }).routes());
  app.use(createApiRouter({ ...deps, requestLog }, unauthenticated).routes());
  app.use(notFound);
  return app;
}

/**
 * Every authenticated route under /api/v1: each capability's (`modules.ts`), each operation's
 * route registered from its definition (`operation.ts`). `unauthenticated` is the app's limit on refused keys per address,
 * shared with the dashboard's sign-in form (a router built alone gets one of its own).
 */
export function createApiRouter(
  deps: AppDeps,
  unauthenticated = new UnauthenticatedLimit(deps.rateLimits.unauthenticatedPerIp, deps.trustedProxies ?? [], nowOf(deps)),
): Router<AppState> {
  const clock = deps.clock ?? (() => new Date());
  const requestLog = deps.requestLog ?? new RequestLog(deps.db, deps.logger);
  const verifiedKeys = deps.verifiedKeys ?? new VerifiedKeys();
  const api = new Router<AppState>({ prefix: API_PREFIX });
  api.use(auth(deps.db, clock, unauthenticated, verifiedKeys));
  // Per key, so after auth; before the body is read, so a slow upload holds one of the key's slots.
  api.use(rateLimit(deps.db, deps.rateLimits));
  // After auth: an anonymous client gets its 401 without the server reading its body first.
  api.use(jsonBody());
  for (const module of apiModules) api.use(module.routes({ ...deps, clock, requestLog, verifiedKeys }).routes());
  api.all('/{*rest}', unmatched(api));
  return api;
}

/** The app's clock in ms (AppDeps.clock, else the system's). */
function nowOf(deps: Pick<AppDeps, 'clock'>): () => number {
  const { clock } = deps;
  return clock ? () => clock().getTime() : Date.now;
}
