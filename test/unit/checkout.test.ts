/** The payment page's pure parts: what the QR code holds, the page's language, what it says of an order, and the inputs it is given. */
import { paymentState } from '../../src/checkout/payment-state';
import { paymentUri } from '../../src/checkout/payment-uri';
import { checkReturnUrl } from '../../src/checkout/return-urls';
import { isPaymentToken, newPaymentToken } from '../../src/checkout/payment-token';
import { negotiateLanguage } from '../../src/checkout/strings';
import { decodeLogo } from '../../src/merchants/branding';
import type { Deposit } from '../../src/deposits/deposits.table';
import type { Order } from '../../src/orders/orders.table';

const address = '0x4b39F7b0624b9dB86AD293686bc38B903142dbBc';
const token = '0xdAC17F958D2ee523a2206206994597C13D831ec7';

describe('the QR code of a payment request', () => {
  it('is an EIP-681 token transfer with the chain id in live mode, without it in test mode', () => {
    const request = { network: 'ethereum' as const, currency: 'USDT', address, amount: 25_000_000n, tokenContract: token };
    expect(paymentUri({ ...request, mode: 'live' })).toEqual({ uri: `ethereum:${token}@1/transfer?address=${address}&uint256=25000000`, carriesAmount: true });
    expect(paymentUri({ ...request, mode: 'test' }).uri).toBe(`ethereum:${token}/transfer?address=${address}&uint256=25000000`);
    expect(paymentUri({ ...request, network: 'bsc', mode: 'live' }).uri).toContain('@56/transfer');
  });

  it('is a value transfer for the native coin, exact in wei', () => {
    const request = { network: 'arbitrum' as const, mode: 'live' as const, currency: 'ETH', address, amount: 10n ** 30n + 1n, tokenContract: undefined };
    expect(paymentUri(request)).toEqual({ uri: `ethereum:${address}@42161?value=1000000000000000000000000000001`, carriesAmount: true });
  });

  it('is the bare address where no amount can be carried: Tron, or a token without a known contract', () => {
    expect(
      paymentUri({ network: 'tron', mode: 'live', currency: 'USDT', address: 'TXfcqLp6bNNdFpAt4dJWby6gzBWautJdjh', amount: 1n, tokenContract: 'TR7N' }),
    ).toEqual({
      uri: 'TXfcqLp6bNNdFpAt4dJWby6gzBWautJdjh',
      carriesAmount: false,
    });
    expect(paymentUri({ network: 'ethereum', mode: 'test', currency: 'USDT', address, amount: 1n, tokenContract: undefined })).toEqual({
      uri: address,
      carriesAmount: false,
    });
  });
});

describe("the page's language", () => {
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['es-MX,es;q=0.9', 'es'],
    ['fr-CH, fr;q=0.9, de;q=0.7, *;q=0.5', 'de'],
    ['de;q=0.2, es;q=0.8', 'es'],
    ['es;q=0, de', 'de'],
    ['zh-CN', 'en'],
    ['EN-gb', 'en'],
    ['de;q=abc', 'de'],
  ])('Accept-Language %p speaks %p', (header, language) => {
    expect(negotiateLanguage(header)).toBe(language);
  });
});

describe('what the page says of an order', () => {
  const now = new Date('2026-12-07T12:00:00Z');
  const order = {
    id: 'ord_1',
    status: 'pending',
    network: 'ethereum',
    currency: 'USDT',
    decimals: 6,
    amount: '10000000',
    expires_at: new Date('2026-12-07T12:15:00Z'),
    late: false,
  } as Order;
  const deposit = (fields: Partial<Deposit>) =>
    ({
      order_id: 'ord_1',
      network: 'ethereum',
      currency: 'USDT',
      decimals: 6,
      amount: '4000000',
      status: 'completed',
      confirmations: 12,
      required_confirmations: 12,
      block_time: new Date('2026-12-07T12:01:00Z'),
      created_at: new Date('2026-12-07T12:01:00Z'),
      ...fields,
    }) as Deposit;

  it('awaits a payment, then counts its confirmations, with nothing left to send once it covers the amount', () => {
    expect(paymentState(order, [], now)).toMatchObject({ status: 'awaiting_payment', remaining: '10.000000', confirmations: null });
    expect(paymentState(order, [deposit({ amount: '10000000', status: 'confirming', confirmations: 3 })], now)).toMatchObject({
      status: 'confirming',
      remaining: '0.000000',
      confirmations: 3,
      requiredConfirmations: 12,
    });
  });

  it('says what is left after part is paid, and what is missing once the time is up', () => {
    expect(paymentState(order, [deposit({})], now)).toMatchObject({ status: 'partially_paid', received: '4.000000', remaining: '6.000000' });
    expect(paymentState(order, [deposit({})], new Date('2026-12-07T12:16:00Z'))).toMatchObject({ status: 'underpaid', remaining: '6.000000' });
    expect(paymentState(order, [], new Date('2026-12-07T12:16:00Z'))).toMatchObject({ status: 'expired' });
  });

  it('counts neither failed payments, nor late ones, nor another asset, which it notes apart', () => {
    const state = paymentState(
      order,
      [
        deposit({ status: 'failed' }),
        deposit({ block_time: new Date('2026-12-07T13:00:00Z') }),
        deposit({ currency: 'ETH', decimals: 18, amount: '1000000000000000' }),
      ],
      now,
    );
    expect(state).toMatchObject({ status: 'awaiting_payment', received: '0.000000', otherAssets: [{ currency: 'ETH', amount: '0.001000000000000000' }] });
  });

  it("follows the order's own settled status", () => {
    expect(paymentState({ ...order, status: 'completed' }, [deposit({ amount: '12000000' })], now)).toMatchObject({ status: 'completed', overpaid: true });
    expect(paymentState({ ...order, status: 'canceled' }, [], now).status).toBe('canceled');
  });
});

describe("the page's inputs", () => {
  it('makes unguessable tokens that carry their mode', () => {
    const made = new Set(Array.from({ length: 100 }, () => newPaymentToken('test')));
    expect(made.size).toBe(100);
    for (const made1 of made) expect(isPaymentToken(made1)).toBe(true);
    expect(newPaymentToken('live')).toMatch(/^cs_live_/);
    expect(isPaymentToken('cs_prod_' + 'a'.repeat(32))).toBe(false);
    expect(isPaymentToken('ord_01m97j35kfewfqh1qxaqpn8xfs')).toBe(false);
  });

  it('takes return URLs a browser may be sent to, https only in live mode', () => {
    expect(checkReturnUrl('http://localhost:3000/thanks', false, 'success_url')).toBe('http://localhost:3000/thanks');
    expect(() => checkReturnUrl('http://shop.example/', true, 'success_url')).toThrow('https://');
    expect(() => checkReturnUrl('javascript:alert(1)', false, 'cancel_url')).toThrow('absolute http');
    expect(() => checkReturnUrl('https://a:b@shop.example/', false, 'cancel_url')).toThrow('credentials');
  });

  it('keeps a logo only when its bytes are the image its data: URL says', () => {
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
    expect(decodeLogo(`data:image/png;base64,${png.toString('base64')}`)).toEqual({ type: 'image/png', bytes: png });
    expect(() => decodeLogo(`data:image/jpeg;base64,${png.toString('base64')}`)).toThrow('not a JPEG image');
    expect(() => decodeLogo(`data:image/svg+xml;base64,${png.toString('base64')}`)).toThrow('PNG, JPEG, GIF or WebP');
    expect(() => decodeLogo(`data:image/png;base64,${Buffer.concat([png, Buffer.alloc(33 * 1024)]).toString('base64')}`)).toThrow('at most 32768');
  });
});
