import { buildMerchant, testDerivers } from '../../dev/fixtures';
import { verifyWebhook } from '../../src/domain/signatures';
import { cancelOrderUpdate, orderStateQuery, orderWorkflowId } from '../../src/workflows/definitions';
import { useApiStack } from '../helpers/api-stack';
import { verifyWithSeedPython } from '../helpers/cryptopayments';
import { startReceiver } from '../helpers/receiver';
import { waitFor } from '../helpers/wait';

/** Orders through the public API, run by the real worker on the Temporal dev server, with real HTTP receivers. */
describe('orders through the API (real worker, Temporal dev server, Postgres, HTTP receivers)', () => {
  const stack = useApiStack('orders-api');

  const call = async (method: string, path: string, json?: unknown, options: { key?: string; idempotencyKey?: string } = {}) => {
    const response = await stack.api.request(`/api/v1${path}`, {
      method,
      key: options.key ?? stack.acme.test_key,
      ...(json !== undefined ? { json } : {}),
      ...(options.idempotencyKey ? { headers: { 'Idempotency-Key': options.idempotencyKey } } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };
  let externalIds = 0;
  const nextExternalId = () => `order-${++externalIds}`;
  const counts = async () => ({
    orders: (await stack.database.db.selectFrom('orders').select('id').execute()).length,
    events: (await stack.database.db.selectFrom('events').select('id').execute()).length,
  });

  it('creates an order in the asset: its own address on the order branch, a pending workflow, order.created', async () => {
    const created = await call('POST', '/orders', { external_id: 'shop-1001', network: 'ethereum', currency: 'USDT', amount: '25.5', metadata: { cart: '7' } });
    expect(created.status).toBe(200);
    const order = created.body;
    expect(order).toEqual({
      id: expect.stringMatching(/^ord_[0-9a-z]{26}$/),
      object: 'order',
      livemode: false,
      external_id: 'shop-1001',
      status: 'pending',
      overpaid: false,
      late: false,
      customer_id: null,
      network: 'ethereum',
      currency: 'USDT',
      address: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
      amount: '25.500000',
      amount_received: '0.000000',
      fiat_amount: null,
      fiat_currency: null,
      exchange_rate: null,
      fee: '0.000000',
      net_amount: '0.000000',
      deposits: [],
      expires_at: expect.any(String),
      callback_url: null,
      callback_events: ['completed'],
      // The payer's page on the API's own origin (docs/checkout.md), an unguessable token in test mode.
      payment_url: expect.stringMatching(new RegExp(`^${stack.api.baseUrl}/pay/cs_test_[A-Za-z0-9_-]{32}$`)),
      success_url: null,
      cancel_url: null,
      metadata: { cart: '7' },
      created_at: expect.any(String),
      updated_at: expect.any(String),
      completed_at: null,
    });
    // Fifteen minutes by default.
    expect(Date.parse(order.expires_at) - Date.parse(order.created_at)).toBeGreaterThanOrEqual(900_000 - 1_000);
    expect(Date.parse(order.expires_at) - Date.parse(order.created_at)).toBeLessThanOrEqual(900_000 + 1_000);
    // On the order branch (…/1/j) of the test wallet, never a customer's (…/0/i).
    const { address_index } = await stack.database.db.selectFrom('orders').select('address_index').where('id', '=', order.id).executeTakeFirstOrThrow();
    expect(order.address).toBe(testDerivers().test.derive('evm', address_index, 'orders'));
    expect(order.address).not.toBe(testDerivers().test.derive('evm', address_index));

    const workflow = stack.dev.client.workflow.getHandle(orderWorkflowId({ livemode: false, orderId: order.id }));
    await waitFor('order workflow running', async () => (await workflow.query(orderStateQuery).catch(() => undefined))?.status === 'pending');
    expect((await call('GET', `/orders/${order.id}`)).body).toEqual(order);
    const events = await call('GET', '/events?type=order.created');
    expect(events.body.data.map((event: any) => event.data.id)).toContain(order.id);
  });

  it('creates an order in EUR at the locked rate, the amount rounded up so the merchant gets at least the fiat', async () => {
    const order = (
      await call('POST', '/orders', { external_id: nextExternalId(), network: 'ethereum', currency: 'ETH', fiat_amount: '100.00', fiat_currency: 'EUR' })
    ).body;
    // Static prices: ETH 3000.00 USD, EUR 1.08 USD → 2777.77777777 EUR per ETH; 100 EUR → 0.0360000000001008… ETH, rounded up.
    expect(order).toMatchObject({ fiat_amount: '100.00', fiat_currency: 'EUR', exchange_rate: '2777.77777777', amount: '0.036000000000100801' });
  });

  it('answers an Idempotency-Key replay with the first order, and a second external_id with a 409 naming the order', async () => {
    const body = { external_id: nextExternalId(), network: 'tron', currency: 'USDT', amount: '10' };
    const first = await call('POST', '/orders', body, { idempotencyKey: 'order-key-1' });
    const replay = await call('POST', '/orders', body, { idempotencyKey: 'order-key-1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(first.body.address).toMatch(/^T[1-9A-HJ-NP-Za-km-z]{33}$/);

    const before = await counts();
    const duplicate = await call('POST', '/orders', body);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'resource_already_exists',
        param: 'external_id',
        message: `An order with external_id '${body.external_id}' already exists: ${first.body.id}.`,
      },
    });
    expect(await counts()).toEqual(before);
    // Made at the same moment, without an Idempotency-Key: one order, the others a 409, never a 500.
    const racing = { external_id: nextExternalId(), network: 'ethereum', currency: 'USDT', amount: '1' };
    const answers = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/orders', racing)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409, 409, 409, 409]);
    // Another merchant may use the same external_id: it is theirs.
    const other = await buildMerchant(stack.database.db, 'Other');
    expect((await call('POST', '/orders', body, { key: other.test_key })).status).toBe(200);
  });

  describe('bad input: a clear 400 (or 404) naming the field, and nothing written', () => {
    it.each([
      [{ network: 'tron', currency: 'USDC', amount: '1' }, 'currency', 'parameter_invalid'],
      [{ network: 'bitcoin', currency: 'BTC', amount: '1' }, 'network', 'parameter_invalid'],
      [{ network: 'ethereum', currency: 'USDT' }, 'amount', 'parameter_missing'],
      [{ network: 'ethereum', currency: 'USDT', amount: '1', fiat_amount: '1', fiat_currency: 'EUR' }, 'amount', 'parameter_invalid'],
      [{ network: 'ethereum', currency: 'USDT', fiat_amount: '10' }, 'fiat_currency', 'parameter_missing'],
      [{ network: 'ethereum', currency: 'USDT', fiat_amount: '10', fiat_currency: 'JPY' }, 'fiat_currency', 'parameter_invalid'],
      [{ network: 'ethereum', currency: 'USDT', fiat_amount: '10.001', fiat_currency: 'USD' }, 'fiat_amount', 'parameter_invalid'],
      [{ network: 'ethereum', currency: 'USDT', amount: '0' }, 'amount', 'parameter_invalid'],
      [{ network: 'ethereum', currency: 'USDT', amount: '1.0000001' }, 'amount', 'parameter_invalid'],
      [{ network: 'ethereum', currency: 'USDT', amount: '1', expires_in: 59 }, 'expires_in', 'parameter_invalid'],
      [{ network: 'ethereum', currency: 'USDT', amount: '1', expires_in: 7 * 24 * 3600 + 1 }, 'expires_in', 'parameter_invalid'],
      [{ network: 'ethereum', currency: 'USDT', amount: '1', callback_url: 'ftp://127.0.0.1/hook' }, 'callback_url', 'url_invalid'],
      // Refused when the order is made: no delivery to a private address is ever attempted.
      [{ network: 'ethereum', currency: 'USDT', amount: '1', callback_url: 'http://10.0.0.1/hook' }, 'callback_url', 'url_invalid'],
      [{ network: 'ethereum', currency: 'USDT', amount: '1', callback_events: ['canceled'] }, 'callback_events[0]', 'parameter_invalid'],
      [{ network: 'ethereum', currency: 'USDT', amount: '1', customer_id: 'cus_00000000000000000000000000' }, 'customer_id', 'resource_missing'],
      [{ network: 'ethereum', currency: 'USDT', amount: '1', tip: '5' }, 'tip', 'parameter_unknown'],
      [{ network: 'ethereum', currency: 'ETH', fiat_amount: `${'9'.repeat(70)}.00`, fiat_currency: 'EUR' }, 'fiat_amount', 'parameter_invalid'],
    ])('%j → %s', async (body, param, code) => {
      const before = await counts();
      const response = await call('POST', '/orders', { external_id: nextExternalId(), ...body });
      expect([response.status, response.body.error.param, response.body.error.code]).toEqual([code === 'resource_missing' ? 404 : 400, param, code]);
      expect(await counts()).toEqual(before);
    });

    it('live mode: a callback_url must be https', async () => {
      const response = await call(
        'POST',
        '/orders',
        { external_id: nextExternalId(), network: 'ethereum', currency: 'USDT', amount: '1', callback_url: 'http://127.0.0.1/hook' },
        { key: stack.acme.live_key },
      );
      expect([response.status, response.body.error.param, response.body.error.message]).toEqual([400, 'callback_url', 'Live callback_url must use https://.']);
    });

    it("another merchant's order is a 404, and so is one of the other mode", async () => {
      const order = (await call('POST', '/orders', { external_id: nextExternalId(), network: 'ethereum', currency: 'USDT', amount: '1' })).body;
      const other = await buildMerchant(stack.database.db, 'Nosy');
      expect((await call('GET', `/orders/${order.id}`, undefined, { key: other.test_key })).status).toBe(404);
      expect((await call('POST', `/orders/${order.id}/cancel`, undefined, { key: other.test_key })).status).toBe(404);
      expect((await call('GET', `/orders/${order.id}`, undefined, { key: stack.acme.live_key })).status).toBe(404);
    });
  });

  it('lists orders newest first, filtered by status and external_id, with cursor pagination', async () => {
    const merchant = await buildMerchant(stack.database.db, 'Lister');
    const made = [];
    for (const id of ['a', 'b', 'c'])
      made.push((await call('POST', '/orders', { external_id: id, network: 'ethereum', currency: 'USDT', amount: '1' }, { key: merchant.test_key })).body);
    const page = await call('GET', '/orders?limit=2', undefined, { key: merchant.test_key });
    expect(page.body).toMatchObject({ object: 'list', has_more: true });
    expect(page.body.data.map((order: any) => order.external_id)).toEqual(['c', 'b']);
    const next = await call('GET', `/orders?limit=2&starting_after=${made[1].id}`, undefined, { key: merchant.test_key });
    expect(next.body.data.map((order: any) => order.external_id)).toEqual(['a']);
    expect((await call('GET', '/orders?external_id=b', undefined, { key: merchant.test_key })).body.data.map((order: any) => order.id)).toEqual([made[1].id]);
    await call('POST', `/orders/${made[0].id}/cancel`, undefined, { key: merchant.test_key });
    expect((await call('GET', '/orders?status=canceled', undefined, { key: merchant.test_key })).body.data.map((order: any) => order.id)).toEqual([made[0].id]);
    expect((await call('GET', '/orders?status=late', undefined, { key: merchant.test_key })).status).toBe(400);
  });

  it('cancels a pending order through its workflow; canceling it again answers the canceled order', async () => {
    const order = (await call('POST', '/orders', { external_id: nextExternalId(), network: 'ethereum', currency: 'USDT', amount: '1' })).body;
    const workflow = stack.dev.client.workflow.getHandle(orderWorkflowId({ livemode: false, orderId: order.id }));
    await waitFor('order workflow running', async () => (await workflow.query(orderStateQuery).catch(() => undefined))?.status === 'pending');
    const canceled = await call('POST', `/orders/${order.id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ id: order.id, status: 'canceled' });
    expect(await workflow.result()).toEqual({ orderId: order.id, status: 'canceled' });
    // As Stripe answers: a retry whose first answer was lost gets the order, not an error.
    const again = await call('POST', `/orders/${order.id}/cancel`);
    expect([again.status, again.body]).toEqual([200, canceled.body]);
    // The Update itself is what decides: a settled order's workflow has ended, and nothing can cancel it.
    await expect(workflow.executeUpdate(cancelOrderUpdate)).rejects.toThrow();
  });

  it('paid by simulated deposits: completes, and the callback reaches a real receiver signed exactly as CryptoPayments signs it', async () => {
    const receiver = await startReceiver();
    const endpointReceiver = await startReceiver();
    try {
      const endpoint = (await call('POST', '/webhook-endpoints', { url: endpointReceiver.url, events: ['order.created', 'order.completed'] })).body;
      const order = (
        await call('POST', '/orders', {
          external_id: 'cp-123',
          network: 'tron',
          currency: 'TRX',
          fiat_amount: '250.00',
          fiat_currency: 'EUR',
          callback_url: receiver.url,
        })
      ).body;
      // Static prices: TRX 0.25 USD, EUR 1.08 USD → 0.23148148 EUR per TRX; 250 EUR → 1080.000007 TRX (rounded up).
      expect(order).toMatchObject({ exchange_rate: '0.23148148', amount: '1080.000007', callback_url: receiver.url });
      const first = await call('POST', '/deposits/simulate', { order_id: order.id, amount: '500' });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ order_id: order.id, customer_id: null, network: 'tron', currency: 'TRX', address: order.address });
      await waitFor('first payment completed', async () => (await call('GET', `/deposits/${first.body.id}`)).body.status === 'completed', 60_000);
      expect((await call('GET', `/orders/${order.id}`)).body).toMatchObject({ status: 'pending', amount_received: '500.000000' });
      const second = await call('POST', '/deposits/simulate', { order_id: order.id, network: 'tron', amount: '600' });
      await waitFor('order completed', async () => (await call('GET', `/orders/${order.id}`)).body.status === 'completed', 60_000);
      const completed = (await call('GET', `/orders/${order.id}`)).body;
      // Two deposits, each charged the flat $2 (8 TRX at 0.25), each booked on its own.
      expect(completed).toMatchObject({
        status: 'completed',
        overpaid: true,
        amount_received: '1100.000000',
        fee: '16.000000',
        net_amount: '1084.000000',
        deposits: [first.body.id, second.body.id],
      });

      await receiver.waitForRequests(1);
      const [callback] = receiver.requests;
      const signature = callback!.headers['api-notification-sign'] as string;
      expect(signature).toMatch(/^[0-9a-f]{64}$/);
      // The merchant verifies with its API key of the mode, using the seed's own Python, on the raw body.
      expect(verifyWithSeedPython(callback!.rawBody, signature, stack.acme.test_key)).toBe('valid');
      expect(verifyWithSeedPython(callback!.rawBody, signature, stack.acme.live_key)).toBe('invalid');
      const body = JSON.parse(callback!.rawBody);
      expect(Object.keys(body)).toEqual([
        'id',
        'status',
        'createdAt',
        'updatedAt',
        'transactions',
        'primaryAmount',
        'secondaryAmount',
        'serviceFeeAmount',
        'totalAmount',
        'externalId',
      ]);
      expect(body).toMatchObject({
        id: order.id,
        status: 'completed',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/),
        externalId: 'cp-123',
        primaryAmount: { amount: '1100.000000', currency: 'TRX' },
        // 500 TRX → 115.74 EUR and 600 TRX → 138.88 EUR at the locked rate, each rounded down.
        secondaryAmount: { amount: '254.62', currency: 'EUR' },
        serviceFeeAmount: { amount: '16.000000', currency: 'TRX' },
        totalAmount: { amount: '1084.000000', currency: 'TRX' },
      });
      expect(body.transactions).toEqual([
        expect.objectContaining({
          id: first.body.id,
          status: 'completed',
          receiverAddress: order.address,
          primaryAmount: { amount: '500.000000', currency: 'TRX' },
        }),
        expect.objectContaining({ id: second.body.id, status: 'completed', secondaryAmount: { amount: '138.88', currency: 'EUR' } }),
      ]);
      expect(Object.keys(body.transactions[0])).toEqual([
        'id',
        'status',
        'createdAt',
        'updatedAt',
        'receiverAddress',
        'hash',
        'primaryAmount',
        'secondaryAmount',
        'serviceFeeAmount',
        'totalAmount',
      ]);

      // The callback is an order.completed delivery like any webhook: recorded, with its attempts, under the event.
      const events = (await call('GET', '/events?type=order.completed')).body.data.filter((event: any) => event.data.id === order.id);
      expect(events).toHaveLength(1);
      await waitFor('both deliveries recorded', async () =>
        (await call('GET', `/events/${events[0].id}`)).body.deliveries.every((delivery: any) => delivery.status === 'succeeded'),
      );
      const shown = (await call('GET', `/events/${events[0].id}`)).body;
      expect(shown.deliveries).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ order_id: order.id, endpoint_id: null, status: 'succeeded', attempts: [expect.objectContaining({ status_code: 200 })] }),
          expect.objectContaining({ order_id: null, endpoint_id: endpoint.id, status: 'succeeded' }),
        ]),
      );
      // A webhook endpoint subscribed to order events gets them as events, signed with its own secret.
      await endpointReceiver.waitForRequests(2);
      const delivered = endpointReceiver.requests.map((request) => verifyWebhook(request.rawBody, request.headers, endpoint.secret) as any);
      expect(delivered.map((event) => event.event).sort()).toEqual(['order.completed', 'order.created']);
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await receiver.close();
      await endpointReceiver.close();
    }
  });

  it('simulate with order_id: a network or currency other than the order’s is a 400, an unknown order a 404', async () => {
    const order = (await call('POST', '/orders', { external_id: nextExternalId(), network: 'ethereum', currency: 'USDT', amount: '1' })).body;
    const wrong = await call('POST', '/deposits/simulate', { order_id: order.id, currency: 'USDC', amount: '1' });
    expect([wrong.status, wrong.body.error.param]).toEqual([400, 'currency']);
    const both = await call('POST', '/deposits/simulate', { order_id: order.id, customer_id: 'cus_00000000000000000000000000', amount: '1' });
    expect([both.status, both.body.error.param]).toEqual([400, 'customer_id']);
    const missing = await call('POST', '/deposits/simulate', { order_id: 'ord_00000000000000000000000000', amount: '1' });
    expect([missing.status, missing.body.error.param]).toEqual([404, 'order_id']);
  });
});
