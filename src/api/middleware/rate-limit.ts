import { isIP } from 'node:net';
import type { Middleware } from 'koa';
import type { Db } from '../../db/database';
import { consumeRateLimit } from '../../db/repositories/rate-limits.repository';
import { RateLimitError } from '../../domain/errors';
import {
  AddressBuckets,
  concurrencyExhaustedField,
  policyForMethod,
  writesExhaustedField,
  rateDecision,
  rateLimitField,
  rateLimitPolicyField,
  ratePolicies,
  type RateLimitSettings,
} from '../../domain/rate-limits';
import { isLoopbackAddress } from '../../webhooks/ssrf';
import { callerOf, type AppContext, type AppState } from '../context';

/**
 * Per-API-key limits, mounted right after auth (docs/limits.md). Every authenticated response
 * carries RateLimit-Policy and RateLimit; a refusal is a 429 `rate_limit_error` with Retry-After.
 *
 * The concurrency cap is checked first, in memory, so a key already at its cap is refused without
 * a database round trip. It is per process on purpose: a request in progress belongs to the
 * process serving it and ends with it, whereas a shared counter in Postgres would keep the slots
 * of a process killed mid-request (kill -9, OOM) taken until something swept them. With N API
 * processes a key may have up to N × the cap in progress, which is what the cap protects: each
 * process's pool and event loop.
 *
 * Writes have a cap of their own, below the pool's size: each holds a pooled connection for its
 * transaction, and a key allowed as many writes as the pool has connections could make every
 * tenant's requests wait for one. Event streams (`GET /events/stream`) are outside both caps: one
 * stays open for hours holding no connection, and a dashboard's tabs would otherwise eat the slots
 * of the merchant's own backend; they have a cap per merchant of their own (event-stream.ts).
 *
 * The rate is checked in Postgres (consumeRateLimit), so it holds however many processes serve
 * the key. If Postgres is down that statement throws a connection error, which the error
 * middleware answers as 503, like every other request that needs Postgres (and auth, just
 * before, needs it too).
 */
export function rateLimit(db: Db, settings: RateLimitSettings): Middleware<AppState> {
  const policies = ratePolicies(settings);
  const policyField = rateLimitPolicyField(settings);
  const inProgress = new Map<string, number>();
  const writesInProgress = new Map<string, number>();

  return async (ctx, next) => {
    const { apiKeyId } = callerOf(ctx);
    ctx.set('RateLimit-Policy', policyField);
    const policy = policies[policyForMethod(ctx.method)];
    const counters = isEventStream(ctx.method, ctx.path) ? [] : policy.name === 'writes' ? [inProgress, writesInProgress] : [inProgress];

    if ((inProgress.get(apiKeyId) ?? 0) >= settings.concurrentRequestsPerKey && counters.length > 0) {
      ctx.set('RateLimit', concurrencyExhaustedField);
      ctx.set('Retry-After', '1');
      throw new RateLimitError(
        `This API key already has ${settings.concurrentRequestsPerKey} requests in progress, the most allowed at once. Retry when one has finished.`,
        'concurrency_limit_exceeded',
      );
    }
    if ((writesInProgress.get(apiKeyId) ?? 0) >= settings.concurrentWritesPerKey && counters.includes(writesInProgress)) {
      ctx.set('RateLimit', writesExhaustedField);
      ctx.set('Retry-After', '1');
      throw new RateLimitError(
        `This API key already has ${settings.concurrentWritesPerKey} write requests in progress, the most allowed at once. Retry when one has finished.`,
        'concurrency_limit_exceeded',
      );
    }
    for (const counter of counters) counter.set(apiKeyId, (counter.get(apiKeyId) ?? 0) + 1);
    try {
      const decision = rateDecision(policy, await consumeRateLimit(db, apiKeyId, policy));
      ctx.set('RateLimit', rateLimitField(policy.name, decision));
      if (!decision.admitted) {
        ctx.set('Retry-After', String(decision.retryAfterSeconds));
        throw new RateLimitError(
          `Too many requests: this API key may make ${policy.quota} ${policy.name === 'reads' ? 'read' : 'write'} requests per ${policy.windowSeconds} s. Retry after ${decision.retryAfterSeconds} s.`,
          'rate_limit_exceeded',
        );
      }
      await next();
    } finally {
      // Deleted at zero, so the maps hold only keys with requests in progress.
      for (const counter of counters) {
        const left = counter.get(apiKeyId)! - 1;
        if (left === 0) counter.delete(apiKeyId);
        else counter.set(apiKeyId, left);
      }
    }
  };
}

/** `GET /api/v1/events/stream`, the one request that stays open (matched before routing, as this middleware runs first). */
function isEventStream(method: string, path: string): boolean {
  return method === 'GET' && /^\/api\/v1\/events\/stream\/?$/.test(path);
}

/**
 * Requests without a valid key, per client address (docs/limits.md), checked by auth before it
 * hashes the key and looks it up: an address that has sent more than its allowance of unknown keys
 * is refused for a while without costing a query. A request whose key is valid gets its token back
 * at once, so callers with keys are limited per key only. Loopback is not limited: it is this
 * machine (the dashboard calls the API over loopback with whatever key was typed into its sign-in
 * form). Behind a reverse proxy, list it in INFLOW_TRUSTED_PROXIES: the client's address is then the
 * one the proxy appends to X-Forwarded-For; without that every client would share the proxy's.
 */
export class UnauthenticatedLimit {
  private readonly buckets: AddressBuckets;

  constructor(
    perSecond: number,
    private readonly trustedProxies: string[],
  ) {
    this.buckets = new AddressBuckets(perSecond);
  }

  /** Spends one of the address's tokens, or throws the 429. */
  take(ctx: AppContext): void {
    const address = clientAddress(ctx, this.trustedProxies);
    if (isLoopbackAddress(address)) return;
    const verdict = this.buckets.take(address);
    if (!verdict.admitted) {
      ctx.set('Retry-After', String(verdict.retryAfterSeconds));
      throw new RateLimitError(
        `Too many requests without a valid API key from this address. Retry after ${verdict.retryAfterSeconds} s with a valid key.`,
        'rate_limit_exceeded',
      );
    }
  }

  /** The request proved to have a valid key (or a sign-in succeeded): its token is given back. */
  refund(ctx: AppContext): void {
    this.buckets.refund(clientAddress(ctx, this.trustedProxies));
  }
}

/**
 * The dashboard's sign-in form under the same limit: each key it refuses (a 401 page) spends one
 * of the browser's address's tokens, and an address past its allowance is refused before its key
 * is checked. (The dashboard checks a key by calling the API over loopback, which the API's own
 * limit leaves alone, so this is where a browser's bad keys are counted.)
 */
export function signInLimit(limit: UnauthenticatedLimit, path: string): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== path) return next();
    limit.take(ctx);
    await next();
    if (ctx.status !== 401) limit.refund(ctx);
  };
}

/**
 * The client's address: the connection's peer, or, when that peer is a trusted proxy, the last
 * X-Forwarded-For entry (the one that proxy wrote; entries before it are whatever the client sent).
 */
export function clientAddress(ctx: AppContext, trustedProxies: string[]): string {
  const peer = (ctx.req.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (!trustedProxies.includes(peer)) return peer;
  const forwarded = ctx.get('X-Forwarded-For').split(',').at(-1)?.trim() ?? '';
  return isIP(forwarded) ? forwarded : peer;
}
