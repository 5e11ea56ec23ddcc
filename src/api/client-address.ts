/**
 * Who is at the other end of a request, for the limits (per client address) and the dashboard's
 * origin check alike, so that both read the network the same way. The connection's peer is the
 * truth; forwarded headers are believed only from a peer listed in INFLOW_TRUSTED_PROXIES (anyone
 * else can send them), and then only their last entry: the one the nearest proxy appended or set.
 * Entries before it are whatever reached that proxy, which a client writes as it likes.
 */
import { isIP } from 'node:net';
import type { Context } from 'koa';

/** The connection's peer address; an IPv4-mapped IPv6 peer (`::ffff:192.0.2.1`, dual-stack sockets) as its IPv4 form. */
export function peerAddress(ctx: Pick<Context, 'req'>): string {
  return (ctx.req.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

/** Whether the peer is one of INFLOW_TRUSTED_PROXIES (exact addresses, compared without regard to case). */
export function fromTrustedProxy(ctx: Pick<Context, 'req'>, trustedProxies: readonly string[] | undefined): boolean {
  const peer = peerAddress(ctx).toLowerCase();
  return (trustedProxies ?? []).some((proxy) => proxy.toLowerCase() === peer);
}

/**
 * A forwarded header's value as the nearest trusted proxy wrote it: its last comma-separated entry,
 * trimmed; undefined when the peer is not a trusted proxy or the header is absent or empty.
 */
export function forwardedValue(ctx: Pick<Context, 'req' | 'get'>, header: string, trustedProxies: readonly string[] | undefined): string | undefined {
  if (!fromTrustedProxy(ctx, trustedProxies)) return undefined;
  return ctx.get(header).split(',').at(-1)?.trim() || undefined;
}

/** The client's address: X-Forwarded-For's last entry from a trusted proxy (when it is an address), else the peer. */
export function clientAddress(ctx: Pick<Context, 'req' | 'get'>, trustedProxies: readonly string[] | undefined): string {
  const forwarded = forwardedValue(ctx, 'X-Forwarded-For', trustedProxies);
  return forwarded !== undefined && isIP(forwarded) ? forwarded : peerAddress(ctx);
}
