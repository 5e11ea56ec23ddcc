/**
 * Per-API-key limits: a request rate for reads and one for writes (each a GCRA policy whose state
 * lives in Postgres, so every API process shares it), and a cap on requests in progress at once.
 * Pure code: the policies, the arithmetic that turns the stored state into a decision, and the
 * IETF header fields that announce it (docs/limits.md).
 */

export interface RateLimitSettings {
  /** Read requests (GET, HEAD, OPTIONS) one API key may make per window. */
  reads: number;
  /** Write requests (every other method) one API key may make per window. */
  writes: number;
  /** The window the two quotas are counted over, in whole seconds (RateLimit-Policy's `w`). */
  windowSeconds: number;
  /** Requests one API key may have in progress at once, in each API process (event streams aside). */
  concurrentRequestsPerKey: number;
  /**
   * Writes (each one transaction, one pooled connection) one API key may have in progress at once,
   * in each API process: kept below the pool's 10 connections, so one key cannot hold them all.
   */
  concurrentWritesPerKey: number;
  /** Event streams one merchant (both modes, all keys) may have open at once, in each API process. */
  eventStreamsPerMerchant: number;
  /** Requests without a valid key one client address may make per second (a burst of as many), in each API process. */
  unauthenticatedPerIp: number;
}

/**
 * Stripe's documented live-mode limits: 100 reads and 100 writes per second; at most 25 requests in
 * progress. The rest are inflow's own (docs/limits.md says why each is what it is).
 */
export const defaultRateLimits: RateLimitSettings = {
  reads: 100,
  writes: 100,
  windowSeconds: 1,
  concurrentRequestsPerKey: 25,
  concurrentWritesPerKey: 5,
  eventStreamsPerMerchant: 10,
  unauthenticatedPerIp: 20,
};

/** Stripe's limit of webhook endpoints per account and mode: each is one more delivery of every event. */
export const DEFAULT_WEBHOOK_ENDPOINTS_PER_MODE = 16;

export type RatePolicyName = 'reads' | 'writes';

/** The name of the concurrency policy in the header fields. */
export const CONCURRENCY_POLICY = 'concurrent';
/** The name of the cap on writes in progress. */
export const CONCURRENT_WRITES_POLICY = 'concurrent-writes';

const MICROSECONDS_PER_SECOND = 1_000_000;

/**
 * One GCRA (generic cell rate algorithm) policy, in whole microseconds so that Postgres and this
 * code do exact integer arithmetic on the same numbers. A key that has been idle may send `quota`
 * requests at once; after that one more every `emissionIntervalUs`.
 */
export interface RatePolicy {
  name: RatePolicyName;
  quota: number;
  windowSeconds: number;
  /** The time one request "costs": window ÷ quota. */
  emissionIntervalUs: number;
  /** How far ahead of now the stored arrival time may run: quota × emission interval (≈ the window). */
  capacityUs: number;
}

export function ratePolicy(name: RatePolicyName, quota: number, windowSeconds: number): RatePolicy {
  const emissionIntervalUs = Math.max(1, Math.floor((windowSeconds * MICROSECONDS_PER_SECOND) / quota));
  return { name, quota, windowSeconds, emissionIntervalUs, capacityUs: quota * emissionIntervalUs };
}

export function ratePolicies(settings: RateLimitSettings): Record<RatePolicyName, RatePolicy> {
  return { reads: ratePolicy('reads', settings.reads, settings.windowSeconds), writes: ratePolicy('writes', settings.writes, settings.windowSeconds) };
}

/** Reads and writes are limited apart, as Stripe does, so a burst of list calls cannot starve payments. */
export function policyForMethod(method: string): RatePolicyName {
  return ['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase()) ? 'reads' : 'writes';
}

/** What the atomic statement in rate-limits.repository.ts answered. */
export interface RateLimitState {
  admitted: boolean;
  /** The stored theoretical arrival time minus the database's now, after the statement. */
  aheadUs: number;
}

export interface RateDecision {
  admitted: boolean;
  /** Requests the key may still make at once (RateLimit's `r`). */
  remaining: number;
  /** Seconds until the quota is whole again, or, when refused, until the next request is admitted (RateLimit's `t`). */
  resetSeconds: number;
  /** Whole seconds to wait when refused (Retry-After), at least 1. */
  retryAfterSeconds?: number;
}

/**
 * GCRA read back: a request is admitted while the arrival time it pushes ahead stays within the
 * capacity, so `remaining` is how many more emission intervals fit under it. A refused request
 * may retry once the arrival time has fallen back far enough for one more to fit.
 */
export function rateDecision(policy: RatePolicy, state: RateLimitState): RateDecision {
  const aheadUs = Math.max(0, state.aheadUs);
  if (state.admitted) {
    const remaining = Math.max(0, Math.floor((policy.capacityUs - aheadUs) / policy.emissionIntervalUs));
    return { admitted: true, remaining, resetSeconds: Math.max(1, Math.ceil(aheadUs / MICROSECONDS_PER_SECOND)) };
  }
  const waitUs = aheadUs - (policy.capacityUs - policy.emissionIntervalUs);
  const retryAfterSeconds = Math.max(1, Math.ceil(waitUs / MICROSECONDS_PER_SECOND));
  // Retry-After must not point earlier than the end of the effective window (draft §6), so t = Retry-After.
  return { admitted: false, remaining: 0, resetSeconds: retryAfterSeconds, retryAfterSeconds };
}

/*
 * The header fields of draft-ietf-httpapi-ratelimit-headers-11 (May 2026; the syntax is unchanged
 * since -08): both are Structured Field Lists (RFC 9651) of a quoted policy name with parameters.
 * Earlier drafts' RateLimit-Limit / -Remaining / -Reset trio and the -07 dictionary form are gone
 * from the draft, so they are not sent.
 *
 *   RateLimit-Policy: "reads";q=100;w=1, "writes";q=100;w=1, "concurrent";q=25;qu="concurrent-requests"
 *   RateLimit: "reads";r=42;t=1
 *
 * RateLimit-Policy is the same on every response (the draft asks it to stay consistent); RateLimit
 * names the one policy the request was counted against.
 */
export function rateLimitPolicyField(settings: RateLimitSettings): string {
  const policies = ratePolicies(settings);
  return [
    `"reads";q=${policies.reads.quota};w=${policies.reads.windowSeconds}`,
    `"writes";q=${policies.writes.quota};w=${policies.writes.windowSeconds}`,
    `"${CONCURRENCY_POLICY}";q=${settings.concurrentRequestsPerKey};qu="concurrent-requests"`,
    `"${CONCURRENT_WRITES_POLICY}";q=${settings.concurrentWritesPerKey};qu="concurrent-requests"`,
  ].join(', ');
}

export function rateLimitField(policy: RatePolicyName, decision: RateDecision): string {
  return `"${policy}";r=${decision.remaining};t=${decision.resetSeconds}`;
}

/** A refusal by the concurrency cap: nothing is available until a request in progress ends. */
export const concurrencyExhaustedField = `"${CONCURRENCY_POLICY}";r=0`;
/** A refusal by the cap on writes in progress. */
export const writesExhaustedField = `"${CONCURRENT_WRITES_POLICY}";r=0`;

/**
 * A token bucket per client address, in memory: `take` spends one request of the address's
 * allowance (false when none is left), `refund` gives it back. Buckets refill at `perSecond` up to
 * as many; a full bucket is the same as none, so at most `maxAddresses` are kept and the oldest
 * goes first: a flood from many addresses costs memory up to that bound, never more.
 */
export class AddressBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Spends one token of `address`; false (and the seconds until one is back) when there is none. */
  take(address: string): { admitted: true } | { admitted: false; retryAfterSeconds: number } {
    const bucket = this.refilled(address);
    if (bucket.tokens < 1) return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond)) };
    bucket.tokens -= 1;
    // Re-inserted, so the map's order is least recently used first.
    this.buckets.delete(address);
    this.buckets.set(address, bucket);
    while (this.buckets.size > this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
    return { admitted: true };
  }

  refund(address: string): void {
    const bucket = this.buckets.get(address);
    if (!bucket) return;
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + 1);
    if (bucket.tokens >= this.perSecond) this.buckets.delete(address);
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(address: string): { tokens: number; at: number } {
    const now = this.now();
    const bucket = this.buckets.get(address) ?? { tokens: this.perSecond, at: now };
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    return bucket;
  }
}
