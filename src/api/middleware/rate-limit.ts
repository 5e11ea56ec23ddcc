import type { Context, Middleware } from 'koa';
import type { Db } from '../../db/database';
import { consumeRateLimit } from '../rate-limits.repository';
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
import { clientAddress } from '../client-address';
import { callerOf, type AppState } from '../context';

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
 * Writes have a cap of their own, per merchant (all its keys, both modes) and well below the pool's
 * size: each holds a pooled connection for its transaction, and a merchant allowed as many writes
 * as the pool has connections could make every tenant's requests wait for one. Per key would bound
 * nothing: every merchant has a test and a live key and may make more. Event streams (`GET /events/stream`) are outside both caps: one
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
  /** Per merchant id, where inProgress is per key id: the two maps' keys never meet. */
  const writesInProgress = new Map<string, number>();

  return async (ctx, next) => {
    const { apiKeyId, merchantId } = callerOf(ctx);
    ctx.set('RateLimit-Policy', policyField);
    const policy = policies[policyForMethod(ctx.method)];
    const counted: Array<[Map<string, number>, string]> = isEventStream(ctx.method, ctx.path)
      ? []
      : policy.name === 'writes'
        ? [
            [inProgress, apiKeyId],
            [writesInProgress, merchantId],
          ]
        : [[inProgress, apiKeyId]];

    if ((inProgress.get(apiKeyId) ?? 0) >= settings.concurrentRequestsPerKey && counted.length > 0) {
      ctx.set('RateLimit', concurrencyExhaustedField);
      ctx.set('Retry-After', '1');
      throw new RateLimitError(
        `This API key already has ${settings.concurrentRequestsPerKey} requests in progress, the most allowed at once. Retry when one has finished.`,
        'concurrency_limit_exceeded',
      );
    }
    if (policy.name === 'writes' && counted.length > 0 && (writesInProgress.get(merchantId) ?? 0) >= settings.concurrentWritesPerMerchant) {
      ctx.set('RateLimit', writesExhaustedField);
      ctx.set('Retry-After', '1');
      throw new RateLimitError(
        `This account already has ${settings.concurrentWritesPerMerchant} write requests in progress (its keys of both modes together), the most allowed at once. Retry when one has finished.`,
        'concurrency_limit_exceeded',
      );
    }
    for (const [counter, id] of counted) counter.set(id, (counter.get(id) ?? 0) + 1);
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
      for (const [counter, id] of counted) {
        const left = counter.get(id)! - 1;
        if (left === 0) counter.delete(id);
        else counter.set(id, left);
      }
    }
  };
}

/** `GET /api/v1/events/stream`, the one request that stays open (matched before routing, as this middleware runs first). */
function isEventStream(method: string, path: string): boolean {
  return method === 'GET' && /^\/api\/v1\/events\/stream\/?$/.test(path);
}

/**
 * Requests without a valid key, per client address (docs/limits.md). Before it hashes and looks up
 * a key, auth asks `check`: an address that has spent its allowance on keys that were refused is
 * turned away for a while without costing a query. Only a refused key spends a token (`charge`,
 * after the lookup answered 401), so requests with valid keys never count here, however many one
 * address (a NAT, one merchant's burst) sends at once: they are limited per key. Loopback is not
 * limited: it is this machine (the dashboard calls the API over loopback with whatever key was
 * typed into its sign-in form, and that form is limited here by the browser's address instead).
 * Behind a reverse proxy, list it in INFLOW_TRUSTED_PROXIES: the client's address is then the one
 * the proxy appends to X-Forwarded-For (client-address.ts); without that every client would share
 * the proxy's. IPv6 clients are counted by their /64 (addressKey).
 *
 * One instance serves the API and the dashboard's sign-in form: a browser's refused sign-ins and
 * its refused API keys come out of one allowance, not one each.
 */
export class UnauthenticatedLimit {
  private readonly buckets: AddressBuckets;

  constructor(
    perSecond: number,
    private readonly trustedProxies: string[],
  ) {
    this.buckets = new AddressBuckets(perSecond);
  }

  /** Throws the 429 when the client's address has no token left; spends nothing. */
  check(ctx: Pick<Context, 'req' | 'get' | 'set'>): void {
    const address = clientAddress(ctx, this.trustedProxies);
    if (isLoopbackAddress(address)) return;
    const verdict = this.buckets.check(address);
    if (!verdict.admitted) {
      ctx.set('Retry-After', String(verdict.retryAfterSeconds));
      throw new RateLimitError(
        `Too many requests without a valid API key from this address. Retry after ${verdict.retryAfterSeconds} s with a valid key.`,
        'rate_limit_exceeded',
      );
    }
  }

  /** The request's key was refused: one of its address's tokens is spent. */
  charge(ctx: Pick<Context, 'req' | 'get'>): void {
    const address = clientAddress(ctx, this.trustedProxies);
    if (!isLoopbackAddress(address)) this.buckets.charge(address);
  }
}

/**
 * The dashboard's sign-in form under the same limit, mounted on its route (router.post('/login',
 * signInLimit(…), …)) so that every spelling of the path the router matches passes through it: an
 * address past its allowance is refused before its key is checked, and each key the form refuses
 * (a 401 page) spends one of its tokens. (The dashboard checks a key by calling the API over
 * loopback, which the API's own limit leaves alone, so this is where a browser's bad keys count.)
 */
export function signInLimit(limit: UnauthenticatedLimit): Middleware {
  return async (ctx, next) => {
    limit.check(ctx);
    await next();
    if (ctx.status === 401) limit.charge(ctx);
  };
}
