import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { delayBeforeAttempt, retryDelaysMs } from '../../src/domain/webhook-schedule';
import { generateWebhookSecret, hexSignature, signatureHeaders, standardSignature, verifyWebhook, WebhookVerificationError } from '../../src/domain/signatures';
import { isPublicAddress, resolvePublicAddress, UnsafeDestinationError } from '../../src/webhooks/ssrf';

describe('webhook signatures', () => {
  it("reproduce the CryptoPayments seed's known answer (compact JSON, hex HMAC-SHA256)", () => {
    const amount = (value: string, currency: string) => ({ amount: value, currency });
    const payload = {
      id: '1f04a929-2832-6884-ac30-872ac8bbad9a',
      status: 'completed',
      createdAt: '2025-06-16T09:16:23+00:00',
      updatedAt: '2025-06-16T09:22:03+00:00',
      transactions: [
        {
          id: '868',
          status: 'completed',
          createdAt: '2025-06-16T09:20:08+00:00',
          updatedAt: '2025-06-16T09:22:03+00:00',
          receiverAddress: 'TVXnBrRG7qgTB5hV19sLQx6AFFTkz4gSik',
          hash: 'fb19d86dcc22167b1910a358b25db6871bafeae46f32d995c1cf808ca212be20',
          primaryAmount: amount('2000.000000', 'TRX'),
          secondaryAmount: amount('469.20', 'EUR'),
          serviceFeeAmount: amount('10.000000', 'TRX'),
          totalAmount: amount('1990.000000', 'TRX'),
        },
      ],
      primaryAmount: amount('2000.000000', 'TRX'),
      secondaryAmount: amount('469.20', 'EUR'),
      serviceFeeAmount: amount('10.000000', 'TRX'),
      totalAmount: amount('1990.000000', 'TRX'),
      externalId: '123',
    };
    expect(hexSignature(JSON.stringify(payload), 'e4b3d2-e963b8-fd1517-e768f7-8b1506')).toBe(
      '303d4a8ee2417d0a11fb972dcb90135e492113265e8681f4efa56293d3fce2ad',
    );
  });

  const secret = generateWebhookSecret();
  const rawBody = JSON.stringify({ id: 'evt_1', object: 'event', event: 'deposit.completed', data: { amount: '2000.000000' } });
  const now = Math.floor(Date.now() / 1000);
  const headers = signatureHeaders({ messageId: 'evt_1', timestampSeconds: now, rawBody, secrets: [secret] });

  it('make secrets of whsec_ and 32 random bytes', () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it("verify with the seed's Node verifier, unchanged (HMAC of JSON.stringify(parsed body))", () => {
    const seedVerify = (payload: unknown, signature: string, key: string) => {
      const expected = createHmac('sha256', key).update(JSON.stringify(payload)).digest('hex');
      return timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
    };
    expect(seedVerify(JSON.parse(rawBody), headers['X-Webhook-Signature']!, secret)).toBe(true);
  });

  it('verify with an independent Standard Webhooks implementation, and fail when anything is altered', () => {
    const standard = new Webhook(secret);
    const asReceived = {
      'webhook-id': headers['webhook-id']!,
      'webhook-timestamp': headers['webhook-timestamp']!,
      'webhook-signature': headers['webhook-signature']!,
    };
    expect(standard.verify(rawBody, asReceived)).toEqual(JSON.parse(rawBody));
    expect(() => standard.verify(rawBody.replace('2000', '3000'), asReceived)).toThrow();
    expect(() => standard.verify(rawBody, { ...asReceived, 'webhook-timestamp': String(now + 1) })).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(rawBody, asReceived)).toThrow();
  });

  it('sign with both secrets while a rotated one is honoured', () => {
    const previous = generateWebhookSecret();
    const both = signatureHeaders({ messageId: 'evt_1', timestampSeconds: now, rawBody, secrets: [secret, previous] });
    expect(both['webhook-signature']!.split(' ')).toEqual([
      standardSignature('evt_1', now, rawBody, secret),
      standardSignature('evt_1', now, rawBody, previous),
    ]);
    const asReceived = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(now), 'webhook-signature': both['webhook-signature']! };
    expect(new Webhook(previous).verify(rawBody, asReceived)).toBeTruthy();
    expect(new Webhook(secret).verify(rawBody, asReceived)).toBeTruthy();
  });

  it('verifyWebhook accepts a genuine delivery and refuses a forged, altered or stale one', () => {
    const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
    expect(verifyWebhook(rawBody, lower, secret)).toEqual(JSON.parse(rawBody));
    expect(verifyWebhook(rawBody, { 'x-webhook-signature': headers['X-Webhook-Signature'] }, secret, { allowLegacySignature: true })).toEqual(
      JSON.parse(rawBody),
    );
    // Without the timestamped headers a captured delivery could be replayed: refused unless asked for.
    expect(() => verifyWebhook(rawBody, { 'x-webhook-signature': headers['X-Webhook-Signature'] }, secret)).toThrow(/required/);
    expect(() => verifyWebhook(rawBody.replace('2000', '2001'), lower, secret)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(rawBody, lower, generateWebhookSecret())).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(rawBody, lower, secret, { nowSeconds: now + 301 })).toThrow(/too far from now/);
    expect(() => verifyWebhook(rawBody, { 'x-webhook-signature': 'f'.repeat(64) }, secret, { allowLegacySignature: true })).toThrow(WebhookVerificationError);
  });
});

describe('the retry schedule', () => {
  it('is the Standard Webhooks schedule, about three days in all', () => {
    const hours = retryDelaysMs.reduce((sum, delay) => sum + delay, 0) / 3_600_000;
    expect(retryDelaysMs).toHaveLength(11);
    expect(hours).toBeGreaterThan(72);
    expect(hours).toBeLessThan(96);
  });

  it('jitters each delay by at most 10 %', () => {
    expect(delayBeforeAttempt(0, 0.99)).toBe(0);
    expect(delayBeforeAttempt(1, 0)).toBe(4_500);
    expect(delayBeforeAttempt(1, 0.5)).toBe(5_000);
    expect(delayBeforeAttempt(10, 0.999_999)).toBeLessThanOrEqual(24 * 3_600_000 * 1.1);
  });
});

describe('SSRF defence', () => {
  it.each([
    '127.0.0.1',
    '::1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    // IPv4-compatible and IPv4-translated forms of loopback: https://[::127.0.0.1]/ is https://[::7f00:1]/.
    '::7f00:1',
    '::ffff:0:7f00:1',
    '::a9fe:a9fe',
    'fd00::1',
    'fe80::1',
    'ff02::1',
    '::',
    'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows the public address %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('refuses a hostname that resolves to a private address, and an IP literal in brackets', async () => {
    await expect(resolvePublicAddress('localhost')).rejects.toThrow(UnsafeDestinationError);
    await expect(resolvePublicAddress('[::1]')).rejects.toThrow(UnsafeDestinationError);
    await expect(resolvePublicAddress('8.8.8.8')).resolves.toEqual({ address: '8.8.8.8', family: 4 });
  });
});
