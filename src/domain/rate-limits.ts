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
   * Writes (each one transaction, one pooled connection) one merchant may have in progress at once,
   * counted over all its keys in both modes, in each API process: well below the pool's 10
   * connections. Per merchant, not per key: a merchant has a test and a live key and may make
   * dozens more, so a cap per key bounds nothing.
   */
  concurrentWritesPerMerchant: number;
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
  concurrentWritesPerMerchant: 4,
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
  /** Units granted: 1 for a request, up to the lease asked for (0 when refused). */
  granted: number;
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
export function rateDecision(policy: RatePolicy, state: Pick<RateLimitState, 'admitted' | 'aheadUs'>): RateDecision {
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
    `"${CONCURRENT_WRITES_POLICY}";q=${settings.concurrentWritesPerMerchant};qu="concurrent-requests"`,
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
 * A token bucket per client address, in memory, for requests without a valid key: `check` says
 * whether the address has a token left without spending it, `charge` spends one (a request that
 * proved to have no valid key). A charge may take the bucket below zero: requests that passed the
 * check together and all turned out bad are all paid for, so however an address bunches its
 * requests it gets at most `perSecond` refused keys a second over time, plus one burst. Buckets
 * refill at `perSecond` up to as many; a full bucket is the same as none, so at most
 * `maxAddresses` are kept and the least recently charged goes first: a flood from many addresses
 * costs memory up to that bound, never more. Addresses are counted by `addressKey`.
 */
export class AddressBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `address` has a token left; when not, the whole seconds until it has one. Spends nothing. */
  check(address: string): { admitted: true } | { admitted: false; retryAfterSeconds: number } {
    const bucket = this.buckets.get(addressKey(address));
    if (!bucket) return { admitted: true };
    const tokens = this.refilled(bucket);
    // Whole again: the same as no bucket, so it goes.
    if (tokens >= this.perSecond) this.buckets.delete(addressKey(address));
    if (tokens >= 1) return { admitted: true };
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.perSecond)) };
  }

  /** Spends one token of `address`, going into debt when it has none. */
  charge(address: string): void {
    const key = addressKey(address);
    const bucket = this.buckets.get(key) ?? { tokens: this.perSecond, at: this.now() };
    bucket.tokens = this.refilled(bucket) - 1;
    bucket.at = this.now();
    // Re-inserted, so the map's order is least recently charged first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    while (this.buckets.size > this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
  }

  get size(): number {
    return this.buckets.size;
  }

  /** The bucket's tokens now (refilled since it was last charged, up to `perSecond`). */
  private refilled(bucket: { tokens: number; at: number }): number {
    return Math.min(this.perSecond, bucket.tokens + ((this.now() - bucket.at) / 1000) * this.perSecond);
  }
}

/**
 * What one client is counted as: an IPv4 address is itself, an IPv6 address its /64 (the usual
 * assignment to one subscriber or host: anyone with a /64 has 2^64 addresses to rotate through),
 * and an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) its IPv4 form. Anything that is not an
 * address is counted as it is.
 */
export function addressKey(address: string): string {
  const groups = ipv6Groups(address.replace(/%.*$/, ''));
  if (!groups) return address;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted IPv4 as two groups); undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  if (!address.includes(':')) return undefined;
  let text = address.toLowerCase();
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const octets = dotted.slice(2).map(Number);
    if (octets.some((octet) => octet > 255)) return undefined;
    text = `${dotted[1]}${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const parts = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!parts.every((part) => /^[0-9a-f]{1,4}$/.test(part))) return undefined;
  return parts.map((part) => parseInt(part, 16));
}
