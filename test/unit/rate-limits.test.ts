import fc from 'fast-check';
import { clientAddress, forwardedValue } from '../../src/api/client-address';
import {
  addressKey,
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
      '"reads";q=100;w=1, "writes";q=100;w=1, "concurrent";q=25;qu="concurrent-requests", "concurrent-writes";q=4;qu="concurrent-requests"',
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

describe('AddressBuckets (refused keys, per client address)', () => {
  it('admits while the address has tokens, spends one per charge only, and refuses until a charge is paid back', () => {
    let now = 0;
    const buckets = new AddressBuckets(10, 100, () => now);
    // Checks alone spend nothing: a busy address whose keys are valid is never refused.
    for (let i = 0; i < 100; i++) expect(buckets.check('192.0.2.1')).toEqual({ admitted: true });
    expect(buckets.size).toBe(0);
    const verdicts = [];
    for (let i = 0; i < 12; i++) {
      const verdict = buckets.check('192.0.2.1');
      verdicts.push(verdict.admitted);
      if (verdict.admitted) buckets.charge('192.0.2.1');
    }
    expect(verdicts).toEqual([...Array(10).fill(true), false, false]);
    expect(buckets.check('192.0.2.1')).toEqual({ admitted: false, retryAfterSeconds: 1 });
    // Another address has its own allowance.
    expect(buckets.check('192.0.2.2').admitted).toBe(true);
    now += 100;
    expect(buckets.check('192.0.2.1').admitted).toBe(true);
    buckets.charge('192.0.2.1');
    expect(buckets.check('192.0.2.1').admitted).toBe(false);
  });

  it('charges requests that passed the check together in full: the address is in debt, and refused until it has paid', () => {
    let now = 0;
    const buckets = new AddressBuckets(10, 100, () => now);
    // Forty refused keys that were all looked up at once.
    for (let i = 0; i < 40; i++) buckets.charge('192.0.2.1');
    expect(buckets.check('192.0.2.1')).toEqual({ admitted: false, retryAfterSeconds: 4 });
    now += 3_000;
    expect(buckets.check('192.0.2.1')).toEqual({ admitted: false, retryAfterSeconds: 1 });
    now += 1_000;
    expect(buckets.check('192.0.2.1').admitted).toBe(true);
  });

  it('never admits more refused keys than the allowance plus one per interval, however the checks and charges interleave', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 300 }), inFlight: fc.integer({ min: 1, max: 30 }) }), { minLength: 1, maxLength: 50 }),
        (perSecond, bursts) => {
          let now = 0;
          const buckets = new AddressBuckets(perSecond, 100, () => now);
          let charged = 0;
          for (const { gap, inFlight } of bursts) {
            now += gap;
            // A burst passes the check together, and every one of its keys is refused.
            const admitted = Array.from({ length: inFlight }, () => buckets.check('192.0.2.1').admitted).filter(Boolean).length;
            // A burst is let through only once everything charged before it is paid for: the
            // allowance and the refill so far cover it, with a token to spare.
            if (admitted > 0) expect(charged).toBeLessThanOrEqual(perSecond + (now / 1000) * perSecond - 1 + 1e-9);
            for (let i = 0; i < admitted; i++) buckets.charge('192.0.2.1');
            charged += admitted;
          }
        },
      ),
    );
  });

  it('keeps at most maxAddresses, dropping the least recently charged, and forgets a bucket once whole again', () => {
    let now = 0;
    const buckets = new AddressBuckets(5, 3, () => now);
    for (const address of ['a', 'b', 'c', 'd']) buckets.charge(address);
    // 'a', the least recently charged, went to make room for 'd': it is whole again.
    expect(buckets.size).toBe(3);
    now += 1_000;
    // A bucket refilled is the same as none: checking it lets it go.
    buckets.check('b');
    expect(buckets.size).toBe(2);
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped one as its IPv4 address', () => {
    let now = 0;
    const buckets = new AddressBuckets(3, 100, () => now);
    // Rotating through one /64 (in any spelling) spends one allowance.
    for (const address of ['2001:db8:1:2::1', '2001:db8:1:2::ffff:2', '2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd']) buckets.charge(address);
    expect(buckets.check('2001:db8:1:2:ffff::9').admitted).toBe(false);
    // The next /64 is another client.
    expect(buckets.check('2001:db8:1:3::1').admitted).toBe(true);
    // ::ffff:192.0.2.1 is 192.0.2.1.
    for (let i = 0; i < 3; i++) buckets.charge('::ffff:192.0.2.1');
    expect(buckets.check('192.0.2.1').admitted).toBe(false);
    now += 1_000;
    expect(buckets.check('192.0.2.1').admitted).toBe(true);
  });
});

describe('addressKey', () => {
  it('is an IPv4 address itself, an IPv6 address its /64, an IPv4-mapped address its IPv4 form', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('2001:DB8:0:0:1:2:3:4')).toBe('2001:db8:0:0::/64');
    expect(addressKey('2001:db8:a:b:c:d:e:f')).toBe('2001:db8:a:b::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('::FFFF:c000:0201')).toBe('192.0.2.1');
    // A translated (NAT64) address keeps its /64: the IPv4 part is not the client.
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    // Not addresses: counted as they are.
    expect(addressKey('')).toBe('');
    expect(addressKey('1:2:3:4:5:6:7:8:9')).toBe('1:2:3:4:5:6:7:8:9');
    expect(addressKey('1::2::3')).toBe('1::2::3');
  });
});

describe('the client address (client-address.ts), one rule for every forwarded header', () => {
  const request = (peer: string, headers: Record<string, string>) => ({
    req: { socket: { remoteAddress: peer } } as never,
    get: (name: string) => headers[name.toLowerCase()] ?? '',
  });

  it("believes a trusted proxy's last entry only, and nobody else's", () => {
    const proxies = ['10.0.0.5', '2001:DB8::5'];
    // The entry the proxy appended, whatever the client wrote before it.
    expect(clientAddress(request('10.0.0.5', { 'x-forwarded-for': '198.51.100.1, 192.0.2.7' }), proxies)).toBe('192.0.2.7');
    // An IPv4-mapped peer is its IPv4 form; an IPv6 proxy matches in any case.
    expect(clientAddress(request('::FFFF:10.0.0.5', { 'x-forwarded-for': '192.0.2.7' }), proxies)).toBe('192.0.2.7');
    expect(clientAddress(request('2001:db8::5', { 'x-forwarded-for': '2001:db8:1::9' }), proxies)).toBe('2001:db8:1::9');
    // From any other peer the header is ignored; a last entry that is not an address leaves the peer.
    expect(clientAddress(request('192.0.2.50', { 'x-forwarded-for': '192.0.2.7' }), proxies)).toBe('192.0.2.50');
    expect(clientAddress(request('10.0.0.5', { 'x-forwarded-for': '192.0.2.7, unknown' }), proxies)).toBe('10.0.0.5');
    expect(clientAddress(request('10.0.0.5', {}), proxies)).toBe('10.0.0.5');
    // X-Forwarded-Proto and -Host by the same rule: the value the nearest proxy set.
    expect(forwardedValue(request('10.0.0.5', { 'x-forwarded-proto': 'http, https' }), 'X-Forwarded-Proto', proxies)).toBe('https');
    expect(forwardedValue(request('192.0.2.50', { 'x-forwarded-proto': 'https' }), 'X-Forwarded-Proto', proxies)).toBeUndefined();
  });
});
