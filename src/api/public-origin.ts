/**
 * Which origin browsers see inflow at, and whether a request came from it: the dashboard's CSRF
 * defence that needs no token (every POST, sign-in included) and its choice of cookie names
 * (dashboard/sessions.ts), the payment page's, and the origin of the `payment_url` an order is given.
 */
import type { Context } from 'koa';
import { forwardedValue, fromTrustedProxy } from './client-address';

/** Where inflow's own pages are, as the app's publicOrigin and trustedProxies say to judge it. */
export interface OriginSettings {
  publicOrigin?: string | undefined;
  trustedProxies?: string[] | undefined;
}

const FORWARDED_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The origin browsers see inflow at: INFLOW_PUBLIC_URL's when set; else, from a peer in
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

/** Same origin as inflow's pages: the Origin header when sent, else the Referer. Neither → refused. */
export function sameOrigin(ctx: Context, expected: string | undefined): boolean {
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
