import fc from 'fast-check';
import {
  AddressBuckets,
  concurrencyExhaustedField,
  defaultRateLimits,
  policyForMethod,
  rateDecision,
  rateLimitField,
  rateLimitPolicyField,
  ratePolicy,
  type RatePolicy,
} from '../../src/domain/rate-limits';
import { RateLimitError } from '../../src/domain/errors';

/**
 * The statement in rate-limits.repository.ts, step for step, in integer microseconds: the model the
 * decisions are checked against here (the integration test checks the statement itself).
 */
function consume(policy: RatePolicy, storedArrivalUs: number | undefined, nowUs: number) {
  if (storedArrivalUs === undefined)
    return { storedArrivalUs: nowUs + policy.emissionIntervalUs, state: { admitted: true, aheadUs: policy.emissionIntervalUs } };
  const limit = nowUs + policy.capacityUs;
  const arrival = Math.min(Math.max(storedArrivalUs, nowUs), limit);
  const admitted = arrival + policy.emissionIntervalUs <= limit;
  const stored = admitted ? arrival + policy.emissionIntervalUs : arrival;
  return { storedArrivalUs: stored, state: { admitted, aheadUs: stored - nowUs } };
}

describe('rate policies', () => {
  it('split a window into equal emission intervals, with room for exactly the quota', () => {
    expect(ratePolicy('reads', 100, 1)).toEqual({ name: 'reads', quota: 100, windowSeconds: 1, emissionIntervalUs: 10_000, capacityUs: 1_000_000 });
    // 3 per second does not divide a second: the interval rounds down and the capacity holds exactly three.
    expect(ratePolicy('writes', 3, 1)).toMatchObject({ emissionIntervalUs: 333_333, capacityUs: 999_999 });
  });

  it('count GET, HEAD and OPTIONS as reads and everything else as writes', () => {
    expect(['GET', 'head', 'OPTIONS'].map(policyForMethod)).toEqual(['reads', 'reads', 'reads']);
    expect(['POST', 'PUT', 'PATCH', 'DELETE'].map(policyForMethod)).toEqual(['writes', 'writes', 'writes', 'writes']);
  });
});

describe('rateDecision', () => {
  it('admits a burst of the quota with 4…0 remaining, then refuses until one interval has passed', () => {
    const policy = ratePolicy('reads', 5, 10);
    let stored: number | undefined;
    const decisions = [];
    for (let i = 0; i < 7; i++) {
      const step = consume(policy, stored, 0);
      stored = step.storedArrivalUs;
      decisions.push(rateDecision(policy, step.state));
    }
    expect(decisions.map((decision) => [decision.admitted, decision.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
      [false, 0],
    ]);
    // Full again 2, 4, … 10 s from now; the refused ones may retry in 2 s (the interval), and t says the same.
    expect(decisions.map((decision) => decision.resetSeconds)).toEqual([2, 4, 6, 8, 10, 2, 2]);
    expect(decisions.slice(5).map((decision) => decision.retryAfterSeconds)).toEqual([2, 2]);

    // 1.5 s later: still refused, in 1 s (rounded up); at 2 s, admitted with nothing left.
    expect(rateDecision(policy, consume(policy, stored, 1_500_000).state)).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
    expect(rateDecision(policy, consume(policy, stored, 2_000_000).state)).toMatchObject({ admitted: true, remaining: 0 });
  });

  it('never admits more than the quota plus one per elapsed interval, and always says to wait at least 1 s', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 3_000_000 }), { minLength: 1, maxLength: 200 }),
        (quota, windowSeconds, gaps) => {
          const policy = ratePolicy('writes', quota, windowSeconds);
          let stored: number | undefined;
          let now = 0;
          let admitted = 0;
          for (const gap of gaps) {
            now += gap;
            const step = consume(policy, stored, now);
            stored = step.storedArrivalUs;
            const decision = rateDecision(policy, step.state);
            if (decision.admitted) admitted++;
            else expect(decision.retryAfterSeconds).toBeGreaterThanOrEqual(1);
            expect(decision.remaining).toBeGreaterThanOrEqual(0);
            expect(decision.remaining).toBeLessThan(quota);
            expect(admitted).toBeLessThanOrEqual(quota + Math.floor(now / policy.emissionIntervalUs));
          }
        },
      ),
    );
  });
});

describe('the IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-11)', () => {
  it('list every policy in RateLimit-Policy and the one counted in RateLimit, as Structured Field Lists', () => {
    expect(rateLimitPolicyField(defaultRateLimits)).toBe(
      '"reads";q=100;w=1, "writes";q=100;w=1, "concurrent";q=25;qu="concurrent-requests", "concurrent-writes";q=5;qu="concurrent-requests"',
    );
    expect(rateLimitField('reads', { admitted: true, remaining: 42, resetSeconds: 1 })).toBe('"reads";r=42;t=1');
    expect(concurrencyExhaustedField).toBe('"concurrent";r=0');
  });
});

it('a rate limit error has the contract shape, with its own code for each limit', () => {
  expect(new RateLimitError('slow down', 'rate_limit_exceeded').toJSON()).toEqual({
    error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'slow down' },
  });
  expect(new RateLimitError('one at a time', 'concurrency_limit_exceeded')).toMatchObject({ status: 429, code: 'concurrency_limit_exceeded' });
});

describe('AddressBuckets (requests without a valid key, per client address)', () => {
  it('admits a burst of the allowance, then one more per interval; a refund gives one back', () => {
    let now = 0;
    const buckets = new AddressBuckets(10, 100, () => now);
    const takes = Array.from({ length: 12 }, () => buckets.take('192.0.2.1').admitted);
    expect(takes).toEqual([...Array(10).fill(true), false, false]);
    expect(buckets.take('192.0.2.1')).toEqual({ admitted: false, retryAfterSeconds: 1 });
    // Another address has its own allowance.
    expect(buckets.take('192.0.2.2').admitted).toBe(true);
    now += 100;
    expect([buckets.take('192.0.2.1').admitted, buckets.take('192.0.2.1').admitted]).toEqual([true, false]);
    buckets.refund('192.0.2.1');
    expect(buckets.take('192.0.2.1').admitted).toBe(true);
  });

  it('keeps at most maxAddresses, dropping the least recently seen, and forgets a full bucket', () => {
    let now = 0;
    const buckets = new AddressBuckets(5, 3, () => now);
    for (const address of ['a', 'b', 'c', 'd']) buckets.take(address);
    // 'a', the least recently seen, went to make room for 'd'.
    expect(buckets.size).toBe(3);
    buckets.refund('a');
    expect(buckets.size).toBe(3);
    // A bucket made whole again is the same as none.
    buckets.refund('b');
    expect(buckets.size).toBe(2);
    now += 10_000;
    buckets.take('c');
    buckets.refund('c');
    expect(buckets.size).toBe(1);
  });
});
