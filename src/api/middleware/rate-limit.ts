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
  type RateDecision,
  type RateLimitSettings,
  type RatePolicy,
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
 * before, needs it too). Reads take their units in leases (ReadLeases): a busy key's reads mostly
 * cost no statement here.
 */
export function rateLimit(db: Db, settings: RateLimitSettings): Middleware<AppState> {
  const policies = ratePolicies(settings);
  const policyField = rateLimitPolicyField(settings);
  const readLeases = new ReadLeases(db, policies.reads);
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
      const decision = policy.name === 'reads' ? await readLeases.take(apiKeyId) : rateDecision(policy, await consumeRateLimit(db, apiKeyId, policy));
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

/** How long a lease's units may be served from memory: the most a process's unused units are held from other processes. */
const LEASE_MS = 1_000;
/** The most units one lease takes. */
const MAX_LEASE = 16;

interface ReadLease {
  /** Units left to serve from memory. */
  left: number;
  /** The database's remaining count once this lease was taken (RateLimit's `r` counts down to it). */
  remainingAfter: number;
  resetSeconds: number;
  until: number;
  /** How many units it took; the next lease doubles it if this one was used up in time. */
  size: number;
}

/**
 * A key's read units, taken from Postgres several at a time and served from this process's memory
 * for up to LEASE_MS, so a busy key's reads cost no rate-limit statement most of the time. A lease
 * starts at one unit and doubles (to MAX_LEASE) while each is used up before it lapses, and falls
 * back to what was used when one lapses with units left: an idle key is charged exactly per
 * request, a busy one at most its last lease's units for reads it did not make. Units are charged
 * before they are served, so no process ever admits more than the key's quota, and the `r` each
 * response shows is the one a single statement per request would have shown. Concurrent requests
 * of a key wait for one lease being taken rather than each taking their own.
 */
class ReadLeases {
  private readonly leases = new Map<string, ReadLease>();
  private readonly taking = new Map<string, Promise<RateDecision>>();

  constructor(
    private readonly db: Db,
    private readonly policy: RatePolicy,
  ) {}

  async take(apiKeyId: string): Promise<RateDecision> {
    for (;;) {
      const lease = this.leases.get(apiKeyId);
      if (lease && lease.left > 0 && lease.until > Date.now()) {
        lease.left--;
        return { admitted: true, remaining: lease.remainingAfter + lease.left, resetSeconds: lease.resetSeconds };
      }
      const pending = this.taking.get(apiKeyId);
      if (pending) {
        // Another request of this key is taking a lease: use it if it was granted, else take one's own refusal.
        const decision = await pending;
        if (!decision.admitted) return decision;
        continue;
      }
      const size = !lease ? 1 : lease.left === 0 && lease.until > Date.now() ? Math.min(MAX_LEASE, lease.size * 2) : Math.max(1, lease.size - lease.left);
      const taking = this.lease(apiKeyId, size).finally(() => this.taking.delete(apiKeyId));
      this.taking.set(apiKeyId, taking);
      const decision = await taking;
      if (!decision.admitted) return decision;
    }
  }

  private async lease(apiKeyId: string, size: number): Promise<RateDecision> {
    const state = await consumeRateLimit(this.db, apiKeyId, this.policy, size);
    const decision = rateDecision(this.policy, state);
    if (state.granted === 0) {
      this.leases.delete(apiKeyId);
      return decision;
    }
    this.leases.set(apiKeyId, {
      left: state.granted,
      remainingAfter: decision.remaining,
      resetSeconds: decision.resetSeconds,
      until: Date.now() + LEASE_MS,
      size: state.granted,
    });
    // Expired leases of keys that stopped reading go; the map holds keys read within the last lease.
    if (this.leases.size > 10_000) for (const [key, held] of this.leases) if (held.until <= Date.now()) this.leases.delete(key);
    return decision;
  }
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

  /** `now` refills the allowances: the app's clock (AppDeps.clock), which tests may hold still. */
  constructor(
    perSecond: number,
    private readonly trustedProxies: string[],
    now: () => number = Date.now,
  ) {
    this.buckets = new AddressBuckets(perSecond, undefined, now);
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
