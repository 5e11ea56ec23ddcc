import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError as ReferenceVerificationError } from 'standardwebhooks';
import {
  APIError,
  AuthenticationError,
  ConnectionError,
  IdempotencyError,
  Inflow,
  InflowError,
  InvalidRequestError,
  PermissionError,
  RateLimitError,
  WebhookVerificationError,
  type OrderCallback,
  type WebhookEvent,
} from '../../sdk/src';
import { operationRoutes } from '../../sdk/src/openapi';
import { generateWebhookSecret, signatureHeaders } from '../../src/domain/signatures';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { callbackBody, callbackSignature, CALLBACK_SIGNATURE_HEADER } from '../../src/orders/callback';
import { startTestApi, type TestApi } from '../helpers/api';
import { useApiStack } from '../helpers/api-stack';
import { assertMatchesSpec } from '../helpers/openapi-validator';
import { SEED_KEY, SEED_SIGNATURE, seedOrder } from '../helpers/cryptopayments';
import { startReceiver } from '../helpers/receiver';
import { waitFor } from '../helpers/wait';
import { Wallet } from 'ethers';
import { buildCustomer, buildMerchant, buildPayout, buildTransfer, testPayoutSettings } from '../../dev/fixtures';
import { completeDeposit, recordDetectedDeposit } from '../../src/deposits/transitions';

interface Exchange {
  method: string;
  url: URL;
  requestHeaders: Headers;
  /** The HTTP status, or the network error the SDK was made to see. */
  status: number | 'network error';
  responseHeaders?: Headers;
}

/**
 * The fetch the SDK is given: the real one, recording every attempt and checking every answer
 * against the OpenAPI document. `loseAnswer(index)` makes that attempt reach the API and then
 * fail as a dropped connection would, after the API has done the work.
 */
function recordingFetch(options: { loseAnswer?: (index: number) => boolean } = {}) {
  const exchanges: Exchange[] = [];
  const recorded: typeof fetch = async (input, init) => {
    const method = init?.method ?? 'GET';
    const url = new URL(String(input));
    const exchange: Exchange = { method, url, requestHeaders: new Headers(init?.headers), status: 'network error' };
    exchanges.push(exchange);
    const response = await fetch(input, init);
    await assertMatchesSpec(method, url.toString(), response);
    if (options.loseAnswer?.(exchanges.length - 1)) {
      await response.arrayBuffer();
      throw new TypeError('fetch failed (the test dropped the answer)');
    }
    exchange.status = response.status;
    exchange.responseHeaders = response.headers;
    return response;
  };
  return { fetch: recorded, exchanges, statuses: () => exchanges.map((exchange) => exchange.status) };
}

/** A loopback server answering each request through `respond`, counting them. */
async function startStubApi(
  respond: (index: number, response: http.ServerResponse) => void,
): Promise<{ baseUrl: string; requests: number; close(): Promise<void> }> {
  const stub = { baseUrl: '', requests: 0, close: async () => undefined as void };
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => respond(stub.requests++, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return stub;
}

/** A loopback port nothing listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function expectError(error: unknown, type: abstract new (...args: never[]) => InflowError, fields: Record<string, unknown>): void {
  expect(error).toBeInstanceOf(type);
  expect(error).toMatchObject(fields);
}

const errorOf = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('@inflow/sdk against the real API (Postgres, Temporal dev server, worker)', () => {
  const stack = useApiStack('sdk');
  const sdk = (key: string, options: ConstructorParameters<typeof Inflow>[1] = {}) => new Inflow(key, { baseUrl: stack.api.baseUrl, ...options });

  it('has exactly one method for every operation in the spec', () => {
    const inflow = new Inflow('sk_test_unused');
    const resources = [
      inflow.customers,
      inflow.deposits,
      inflow.balance,
      inflow.balanceTransactions,
      inflow.orders,
      inflow.payouts,
      inflow.events,
      inflow.webhookEndpoints,
      inflow.apiKeys,
      inflow.requests,
      inflow.account,
    ];
    const covered = resources.flatMap((resource) => Object.values(resource).map((method: { operationId: string }) => method.operationId));
    expect(new Set(covered).size).toBe(covered.length);
    // A new operation in docs/openapi.json needs its one line in sdk/src/inflow.ts.
    expect(Object.keys(operationRoutes).filter((operationId) => !covered.includes(operationId))).toEqual([]);
  });

  it('streams events as they happen with events.stream, filtered by type', async () => {
    const merchant = await buildMerchant(stack.database.db, 'Streamer');
    const inflow = sdk(merchant.test_key);
    const stop = new AbortController();
    const received: string[] = [];
    const reading = (async () => {
      for await (const event of inflow.events.stream({ types: 'customer.*' }, { signal: stop.signal })) {
        received.push(`${event.event} ${(event.data as { email?: string }).email}`);
        if (received.length === 1) stop.abort();
      }
    })().catch((error: unknown) => {
      if (!stop.signal.aborted) throw error;
    });
    // The stream marks what exists when it opens as seen: keep creating until one made after it arrives.
    await waitFor('a customer.created on the stream', async () => {
      await inflow.customers.create({ email: 'streamed@example.com' });
      return received.length > 0;
    });
    await reading;
    expect(received[0]).toBe('customer.created streamed@example.com');
  });

  describe('pagination', () => {
    let merchant: CreatedMerchant;
    let createdIds: string[];

    beforeAll(async () => {
      merchant = await buildMerchant(stack.database.db, 'Pager');
      const inflow = sdk(merchant.test_key);
      createdIds = [];
      for (let index = 0; index < 5; index++) createdIds.push((await inflow.customers.create({ name: `Customer ${index}` })).id);
    });

    it('walks every page with for await: 5 customers, newest first, in pages of 2', async () => {
      const recording = recordingFetch();
      const inflow = sdk(merchant.test_key, { fetch: recording.fetch });
      const seen: string[] = [];
      for await (const customer of inflow.customers.list({ limit: 2 })) seen.push(customer.id);
      expect(seen).toEqual([...createdIds].reverse());
      // Three pages, each after the last id of the one before.
      expect(recording.exchanges.map((exchange) => exchange.url.search)).toEqual([
        '?limit=2',
        `?limit=2&starting_after=${seen[1]}`,
        `?limit=2&starting_after=${seen[3]}`,
      ]);
    });

    it('awaited, returns one page as the list object', async () => {
      const page = await sdk(merchant.test_key).customers.list({ limit: 2 });
      expect(page).toMatchObject({ object: 'list', has_more: true });
      expect(page.data.map((customer) => customer.id)).toEqual(createdIds.slice(-2).reverse());
    });

    it('autoPagingToArray stops fetching at its limit, and starts after a given starting_after', async () => {
      const recording = recordingFetch();
      const inflow = sdk(merchant.test_key, { fetch: recording.fetch });
      const firstThree = await inflow.customers.list({ limit: 2 }).autoPagingToArray({ limit: 3 });
      expect(firstThree.map((customer) => customer.id)).toEqual(createdIds.slice(2).reverse());
      expect(recording.exchanges).toHaveLength(2);
      const rest = await inflow.customers.list({ limit: 2, starting_after: firstThree[2]!.id }).autoPagingToArray({ limit: 100 });
      expect(rest.map((customer) => customer.id)).toEqual(createdIds.slice(0, 2).reverse());
    });

    it('sends nothing for a list that is neither awaited nor iterated', () => {
      const recording = recordingFetch();
      void sdk(merchant.test_key, { fetch: recording.fetch }).customers.list();
      expect(recording.exchanges).toHaveLength(0);
    });
  });

  describe('idempotency keys', () => {
    const customersNamed = async (name: string) => (await stack.database.db.selectFrom('customers').select('id').where('name', '=', name).execute()).length;

    it('the same idempotencyKey twice answers the same customer, and makes one row', async () => {
      const recording = recordingFetch();
      const inflow = sdk(stack.acme.test_key, { fetch: recording.fetch });
      const first = await inflow.customers.create({ name: 'Idempotent Ida' }, { idempotencyKey: 'sdk-test-key-1' });
      const second = await inflow.customers.create({ name: 'Idempotent Ida' }, { idempotencyKey: 'sdk-test-key-1' });
      expect(second).toEqual(first);
      expect(await customersNamed('Idempotent Ida')).toBe(1);
      expect(recording.exchanges.map((exchange) => exchange.requestHeaders.get('idempotency-key'))).toEqual(['sdk-test-key-1', 'sdk-test-key-1']);
      expect(recording.exchanges[1]!.responseHeaders!.get('idempotent-replayed')).toBe('true');
    });

    it('sends a random UUID by default: two calls are two customers', async () => {
      const recording = recordingFetch();
      const inflow = sdk(stack.acme.test_key, { fetch: recording.fetch });
      await inflow.customers.create({ name: 'Twice Tom' });
      await inflow.customers.create({ name: 'Twice Tom' });
      const keys = recording.exchanges.map((exchange) => exchange.requestHeaders.get('idempotency-key'));
      for (const key of keys) expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(keys[0]).not.toBe(keys[1]);
      expect(await customersNamed('Twice Tom')).toBe(2);
    });

    it('retries a POST whose answer was lost with the same key: the API replays the first answer, one row', async () => {
      const recording = recordingFetch({ loseAnswer: (index) => index === 0 });
      const inflow = sdk(stack.acme.test_key, { fetch: recording.fetch });
      const customer = await inflow.customers.create({ name: 'Lost Answer Lou' });
      expect(recording.statuses()).toEqual(['network error', 200]);
      const [lost, retry] = recording.exchanges;
      expect(retry!.requestHeaders.get('idempotency-key')).toBe(lost!.requestHeaders.get('idempotency-key'));
      expect(retry!.responseHeaders!.get('idempotent-replayed')).toBe('true');
      expect(await customersNamed('Lost Answer Lou')).toBe(1);
      expect(customer.name).toBe('Lost Answer Lou');
    });

    it('does not retry a POST without Idempotency-Key (creating an API key) after a network error', async () => {
      const recording = recordingFetch({ loseAnswer: () => true });
      const inflow = sdk(stack.acme.test_key, { fetch: recording.fetch });
      const error = await errorOf(inflow.apiKeys.create({ name: 'not twice', permissions: 'read_only' }));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ type: 'connection_error', code: 'connection_failed', statusCode: undefined });
      expect(recording.exchanges).toHaveLength(1);
      expect(recording.exchanges[0]!.requestHeaders.has('idempotency-key')).toBe(false);
    });
  });

  describe('typed errors', () => {
    it('404: InvalidRequestError, resource_missing, naming the parameter, with the Request-Id', async () => {
      const recording = recordingFetch();
      const error = await errorOf(sdk(stack.acme.test_key, { fetch: recording.fetch }).customers.retrieve('cus_00000000000000000000000000'));
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(error).toBeInstanceOf(InflowError);
      expect(error).toMatchObject({
        name: 'InvalidRequestError',
        type: 'invalid_request_error',
        code: 'resource_missing',
        param: 'id',
        statusCode: 404,
        message: "No such customer: 'cus_00000000000000000000000000'",
        requestId: expect.stringMatching(/^req_/),
      });
      expect((error as InflowError).requestId).toBe(recording.exchanges[0]!.responseHeaders!.get('request-id'));
      // Not retried: the answer is final.
      expect(recording.exchanges).toHaveLength(1);
    });

    it('401: AuthenticationError', async () => {
      const error = await errorOf(sdk('sk_test_not_a_key').balance.retrieve());
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ type: 'authentication_error', code: 'api_key_invalid', statusCode: 401 });
    });

    it('400 names the field; 403 for a live key on a test-only route; 409 for a key reused with another body', async () => {
      const inflow = sdk(stack.acme.test_key);
      expectError(await errorOf(inflow.customers.create({ email: 'not an email' })), InvalidRequestError, {
        code: 'parameter_invalid',
        param: 'email',
        statusCode: 400,
      });
      const live = sdk(stack.acme.live_key);
      expectError(await errorOf(live.deposits.simulate({ customer_id: 'cus_x', network: 'ethereum', currency: 'USDC', amount: '1' })), PermissionError, {
        type: 'permission_error',
        statusCode: 403,
      });
      await inflow.customers.create({ name: 'first body' }, { idempotencyKey: 'sdk-reused-key' });
      expectError(await errorOf(inflow.customers.create({ name: 'other body' }, { idempotencyKey: 'sdk-reused-key' })), IdempotencyError, {
        code: 'idempotency_key_in_use',
        param: 'Idempotency-Key',
        statusCode: 409,
      });
    });

    it('an empty id is refused before any request (it would be the list URL)', async () => {
      const recording = recordingFetch();
      await expect(sdk(stack.acme.test_key, { fetch: recording.fetch }).customers.retrieve('')).rejects.toThrow(TypeError);
      expect(recording.exchanges).toHaveLength(0);
    });
  });

  describe('retries', () => {
    let limited: TestApi;
    let merchant: CreatedMerchant;

    beforeAll(async () => {
      // One write per 2 s per key: a second write right after the first is refused with Retry-After.
      limited = await startTestApi({
        db: stack.database.db,
        temporal: stack.dev.client,
        taskQueue: stack.taskQueue,
        rateLimits: { writes: 1, windowSeconds: 2 },
      });
      merchant = await buildMerchant(stack.database.db, 'Throttled');
    });

    afterAll(async () => {
      await limited?.close();
    });

    it('a 429 is retried after Retry-After, with the same Idempotency-Key, and the call succeeds', async () => {
      const recording = recordingFetch();
      const inflow = new Inflow(merchant.test_key, { baseUrl: limited.baseUrl, fetch: recording.fetch });
      await inflow.customers.create({ name: 'admitted' });
      const started = Date.now();
      const customer = await inflow.customers.create({ name: 'after a 429' });
      const elapsedMs = Date.now() - started;
      expect(customer.name).toBe('after a 429');
      expect(recording.statuses()).toEqual([200, 429, 200]);
      const [, refused, retried] = recording.exchanges;
      const retryAfter = Number(refused!.responseHeaders!.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(elapsedMs).toBeGreaterThanOrEqual(retryAfter * 1000);
      expect(retried!.requestHeaders.get('idempotency-key')).toBe(refused!.requestHeaders.get('idempotency-key'));

      // With retries off, the 429 is the caller's: a RateLimitError carrying Retry-After.
      const error = await errorOf(inflow.customers.create({ name: 'refused' }, { maxRetries: 0 }));
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({
        code: 'rate_limit_exceeded',
        statusCode: 429,
        retryAfterSeconds: expect.any(Number),
        requestId: expect.stringMatching(/^req_/),
      });
      expect(recording.exchanges).toHaveLength(4);
    });

    it('a 503 is retried, honouring Retry-After; maxRetries bounds the attempts', async () => {
      const unavailable = JSON.stringify({
        error: { type: 'api_error', code: 'service_unavailable', message: 'Postgres is unavailable; nothing was changed. Retry later.' },
      });
      const stub = await startStubApi((index, response) => {
        if (index < 2) response.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '0', 'Request-Id': `req_${index}` }).end(unavailable);
        else response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ object: 'balance' }));
      });
      try {
        expect(await new Inflow('sk_test_x', { baseUrl: stub.baseUrl }).balance.retrieve()).toEqual({ object: 'balance' });
        expect(stub.requests).toBe(3);
        stub.requests = 0;
        const error = await errorOf(new Inflow('sk_test_x', { baseUrl: stub.baseUrl, maxRetries: 1 }).balance.retrieve());
        expect(error).toBeInstanceOf(APIError);
        expect(error).toMatchObject({ type: 'api_error', code: 'service_unavailable', statusCode: 503, requestId: 'req_1' });
        expect(stub.requests).toBe(2);
      } finally {
        await stub.close();
      }
    });

    it('a Retry-After over 60 s is thrown at once; aborting the signal ends a call while it waits to retry', async () => {
      const unavailable = JSON.stringify({ error: { type: 'api_error', code: 'service_unavailable', message: 'down' } });
      let retryAfter = '120';
      const stub = await startStubApi((_index, response) =>
        response.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': retryAfter }).end(unavailable),
      );
      try {
        const inflow = new Inflow('sk_test_x', { baseUrl: stub.baseUrl });
        expectError(await errorOf(inflow.balance.retrieve()), APIError, { statusCode: 503 });
        expect(stub.requests).toBe(1);

        retryAfter = '30';
        const controller = new AbortController();
        const call = errorOf(inflow.balance.retrieve({ signal: controller.signal }));
        await waitFor('the first attempt answered', async () => stub.requests === 2);
        controller.abort(new Error('the caller gave up'));
        expect(await call).toEqual(new Error('the caller gave up'));
        expect(stub.requests).toBe(2);
      } finally {
        await stub.close();
      }
    });

    it('network errors: retried for GETs and idempotent POSTs, up to maxRetries, then a ConnectionError', async () => {
      const port = await closedPort();
      const recording = recordingFetch();
      const inflow = new Inflow('sk_test_x', { baseUrl: `http://127.0.0.1:${port}`, fetch: recording.fetch, maxRetries: 2 });
      const refused = await errorOf(inflow.customers.list());
      expectError(refused, ConnectionError, { code: 'connection_failed' });
      expect((refused as ConnectionError).message).toMatch(/^GET \/customers: fetch failed \(.*ECONNREFUSED/);
      expect(recording.exchanges).toHaveLength(3);
      expect(await errorOf(inflow.customers.create({}))).toBeInstanceOf(ConnectionError);
      expect(recording.exchanges).toHaveLength(6);
    });

    it('a request that outlives timeoutMs is a ConnectionError with code timeout', async () => {
      const stub = await startStubApi(() => undefined);
      try {
        const error = await errorOf(new Inflow('sk_test_x', { baseUrl: stub.baseUrl, timeoutMs: 200, maxRetries: 1 }).balance.retrieve());
        expectError(error, ConnectionError, { code: 'timeout' });
        expect(stub.requests).toBe(2);
      } finally {
        await stub.close();
      }
    });
  });

  describe('payouts and refunds (an API with payouts enabled)', () => {
    let payoutsApi: TestApi;
    let merchant: CreatedMerchant;
    let depositId: string;

    beforeAll(async () => {
      payoutsApi = await startTestApi({
        db: stack.database.db,
        temporal: stack.dev.client,
        taskQueue: stack.taskQueue,
        payouts: { ...testPayoutSettings, approvalAboveUsdCents: 1000n },
      });
      merchant = await buildMerchant(stack.database.db, 'Payer');
      // A completed deposit of 50 USDT (48 net), booked as the deposit workflow books it.
      const owner = await buildCustomer(stack.database.db, { merchant });
      const { deposit } = await recordDetectedDeposit(stack.database.db, buildTransfer(owner, { amount: '50' }));
      await completeDeposit(stack.database.db, deposit.id, { confirmations: 12, priceUsd: '1.00' });
      depositId = deposit.id;
    });

    afterAll(async () => {
      await payoutsApi?.close();
    });

    const payoutsSdk = (options: ConstructorParameters<typeof Inflow>[1] = {}) => new Inflow(merchant.test_key, { baseUrl: payoutsApi.baseUrl, ...options });

    it('creates a payout and a refund, each with an Idempotency-Key (the same key twice is one payout), lists them page by page and retrieves one', async () => {
      const recording = recordingFetch();
      const inflow = payoutsSdk({ fetch: recording.fetch });
      const destination = Wallet.createRandom().address;
      const body = { network: 'ethereum', currency: 'USDT', amount: '5', destination, external_id: 'sdk-payout-1' } as const;
      const payout = await inflow.payouts.create(body, { idempotencyKey: 'sdk-payout-key-1' });
      expect(payout).toMatchObject({ object: 'payout', status: 'pending', amount: '5.000000', fee: '1.000000', destination, deposit_id: null });
      const again = await inflow.payouts.create(body, { idempotencyKey: 'sdk-payout-key-1' });
      expect(again).toEqual(payout);
      expect(recording.exchanges[1]!.responseHeaders!.get('idempotent-replayed')).toBe('true');
      expect(await stack.database.db.selectFrom('payouts').select('id').where('merchant_id', '=', merchant.merchant_id).execute()).toEqual([{ id: payout.id }]);

      const refund = await inflow.deposits.refund(depositId, { destination, amount: '2' });
      expect(refund).toMatchObject({ object: 'payout', deposit_id: depositId, amount: '2.000000', currency: 'USDT', network: 'ethereum' });
      const [refundExchange] = recording.exchanges.slice(-1);
      expect(refundExchange!.method).toBe('POST');
      expect(refundExchange!.url.pathname).toBe(`/api/v1/deposits/${depositId}/refunds`);
      expect(refundExchange!.requestHeaders.get('idempotency-key')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

      // for await walks every page, newest first, each after the last id of the one before.
      const before = recording.exchanges.length;
      const seen: string[] = [];
      for await (const listed of inflow.payouts.list({ limit: 1 })) seen.push(listed.id);
      expect(seen).toEqual([refund.id, payout.id]);
      expect(recording.exchanges.slice(before).map((exchange) => exchange.url.search)).toEqual(['?limit=1', `?limit=1&starting_after=${refund.id}`]);
      expect((await inflow.payouts.list({ deposit_id: depositId })).data.map((listed) => listed.id)).toEqual([refund.id]);
      expect((await inflow.payouts.list({ external_id: 'sdk-payout-1' })).data.map((listed) => listed.id)).toEqual([payout.id]);
      expect(await inflow.payouts.retrieve(refund.id)).toMatchObject({ id: refund.id, deposit_id: depositId });
    });

    it('approves a payout over the approval threshold with a second key, not with the key that made it', async () => {
      const inflow = payoutsSdk();
      const payout = await inflow.payouts.create({ network: 'ethereum', currency: 'USDT', amount: '20', destination: Wallet.createRandom().address });
      expect(payout).toMatchObject({ status: 'requires_approval', approved_at: null });
      expectError(await errorOf(inflow.payouts.approve(payout.id)), PermissionError, { code: 'payout_approval_same_key', statusCode: 403 });
      const { secret } = await inflow.apiKeys.create({ name: 'Approver', permissions: { payouts: 'read', payout_approvals: 'write' } });
      const approved = await new Inflow(secret as string, { baseUrl: payoutsApi.baseUrl }).payouts.approve(payout.id);
      expect(approved).toMatchObject({ id: payout.id, status: 'pending', approved_at: expect.any(String) });
    });

    it('cancels a queued payout (a retried cancel answers it as it is); refusals are typed errors', async () => {
      const inflow = payoutsSdk();
      // Made as the API makes one, without its workflow: nothing will send it or fail it meanwhile.
      const id = await buildPayout(stack.database.db, merchant, { status: 'queued', amount: 3_000_000n, fee: 1_000_000n });
      expect(await inflow.payouts.cancel(id)).toMatchObject({ id, status: 'canceled', completed_at: expect.any(String) });
      expect(await inflow.payouts.cancel(id)).toMatchObject({ id, status: 'canceled' });

      expectError(await errorOf(inflow.payouts.retrieve('po_00000000000000000000000000')), InvalidRequestError, { code: 'resource_missing', statusCode: 404 });
      expectError(
        await errorOf(inflow.payouts.create({ network: 'ethereum', currency: 'USDT', amount: '1000', destination: Wallet.createRandom().address })),
        InvalidRequestError,
        { code: 'balance_insufficient', param: 'amount', statusCode: 400 },
      );
      expectError(await errorOf(inflow.deposits.refund(depositId, { destination: Wallet.createRandom().address, amount: '1000' })), InvalidRequestError, {
        code: 'refund_exceeds_deposit',
        statusCode: 400,
      });
      // The stack's own API has no INFLOW_PAYOUT_AUTHORIZATION_SECRET.
      expectError(
        await errorOf(
          sdk(merchant.test_key).payouts.create({ network: 'ethereum', currency: 'USDT', amount: '1', destination: Wallet.createRandom().address }),
        ),
        PermissionError,
        { code: 'payouts_disabled', statusCode: 403 },
      );
    });
  });

  describe('webhooks.verify on real deliveries', () => {
    it('verifies an order.completed event (Standard Webhooks) and the order callback (CryptoPayments) that a paid order sends', async () => {
      const endpointReceiver = await startReceiver();
      const callbackReceiver = await startReceiver();
      try {
        const inflow = sdk(stack.acme.test_key);
        const endpoint = await inflow.webhookEndpoints.create({ url: endpointReceiver.url, events: ['order.completed'] });
        const order = await inflow.orders.create({
          external_id: 'sdk-order-1',
          network: 'tron',
          currency: 'TRX',
          amount: '100',
          callback_url: callbackReceiver.url,
        });
        await inflow.deposits.simulate({ order_id: order.id, amount: '100' });
        await Promise.all([endpointReceiver.waitForRequests(1), callbackReceiver.waitForRequests(1)]);

        // Shown once, when the endpoint is made; a whsec_ secret types the result as an event.
        const endpointSecret = endpoint.secret as `whsec_${string}`;
        const [delivery] = endpointReceiver.requests;
        const event: WebhookEvent = inflow.webhooks.verify(delivery!.rawBody, delivery!.headers, endpointSecret);
        expect(event).toMatchObject({ object: 'event', event: 'order.completed', data: { id: order.id, status: 'completed' } });
        expect(() => inflow.webhooks.verify(delivery!.rawBody.replace('completed', 'canceled'), delivery!.headers, endpointSecret)).toThrow(
          WebhookVerificationError,
        );

        const [callback] = callbackReceiver.requests;
        const paid: OrderCallback = Inflow.webhooks.verify(callback!.rawBody, callback!.headers, stack.acme.test_key as `sk_${string}`);
        expect(paid).toMatchObject({ id: order.id, status: 'completed', externalId: 'sdk-order-1', primaryAmount: { amount: '100.000000', currency: 'TRX' } });
        expect(() => Inflow.webhooks.verify(callback!.rawBody, callback!.headers, stack.acme.live_key)).toThrow('api-notification-sign does not match');
        expect(await inflow.orders.retrieve(order.id)).toMatchObject({ status: 'completed', amount_received: '100.000000' });
      } finally {
        await Promise.all([endpointReceiver.close(), callbackReceiver.close()]);
      }
    });
  });
});

describe('webhooks.verify, against the standardwebhooks package and inflow’s own signers', () => {
  const secret = generateWebhookSecret();
  const body = JSON.stringify({ id: 'evt_1', object: 'event', event: 'deposit.completed', created_at: '2026-11-23T00:00:00.000Z', livemode: false, data: {} });
  /** Headers signed `ageSeconds` ago (negative: in the future) by the standardwebhooks package. */
  const standardHeaders = (ageSeconds = 0, payload = body, signingSecret = secret) => {
    const timestampSeconds = Math.floor(Date.now() / 1000) - ageSeconds;
    return {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(timestampSeconds),
      'webhook-signature': new Webhook(signingSecret).sign('evt_1', new Date(timestampSeconds * 1000), payload),
    };
  };

  /** The reference implementation's verdict on the same input. */
  const referenceAccepts = (payload: string, headers: Record<string, string>) => {
    try {
      new Webhook(secret).verify(payload, headers);
      return true;
    } catch (error) {
      if (error instanceof ReferenceVerificationError) return false;
      throw error;
    }
  };
  const sdkAccepts = (payload: string, headers: Record<string, string>) => {
    try {
      Inflow.webhooks.verify(payload, headers, secret);
      return true;
    } catch (error) {
      if (error instanceof WebhookVerificationError) return false;
      throw error;
    }
  };

  it.each([
    ['a fresh signature', () => [body, standardHeaders()] as const, true],
    ['a tampered body', () => [body.replace('deposit.completed', 'deposit.failed'), standardHeaders()] as const, false],
    ['a timestamp 301 s old', () => [body, standardHeaders(301)] as const, false],
    ['a timestamp 290 s old', () => [body, standardHeaders(290)] as const, true],
    ['a timestamp 301 s ahead', () => [body, standardHeaders(-301)] as const, false],
    ['another secret', () => [body, standardHeaders(0, body, generateWebhookSecret())] as const, false],
    ['a changed webhook-id', () => [body, { ...standardHeaders(), 'webhook-id': 'evt_2' }] as const, false],
    [
      'a wrong signature beside the right one',
      () =>
        [body, { ...standardHeaders(), 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${standardHeaders()['webhook-signature']}` }] as const,
      true,
    ],
  ])('%s: the SDK and the standardwebhooks package agree', (_case, input, accepted) => {
    const [payload, headers] = input();
    expect(referenceAccepts(payload, headers)).toBe(accepted);
    expect(sdkAccepts(payload, headers)).toBe(accepted);
  });

  it('returns the parsed event, and says why it refuses', () => {
    expect(Inflow.webhooks.verify(body, standardHeaders(), secret)).toEqual(JSON.parse(body));
    expect(() => Inflow.webhooks.verify(body, standardHeaders(600), secret)).toThrow('webhook-timestamp is more than 300 s old');
    expect(() => Inflow.webhooks.verify(body, standardHeaders(600), secret, { toleranceSeconds: 900 })).not.toThrow();
    expect(() => Inflow.webhooks.verify(body, {}, secret)).toThrow('webhook-id, webhook-timestamp and webhook-signature are required');
    expect(() => Inflow.webhooks.verify(JSON.parse(body), standardHeaders(), secret)).toThrow('not a parsed object');
  });

  it("verifies inflow's own deliveries (src/domain/signatures.ts) with either secret while one is rotated, from a Headers or any-case object", () => {
    const previous = generateWebhookSecret();
    const headers = signatureHeaders({ messageId: 'evt_1', timestampSeconds: Math.floor(Date.now() / 1000), rawBody: body, secrets: [secret, previous] });
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const key of [secret, previous]) expect(Inflow.webhooks.verify(body, headers, key)).toMatchObject({ id: 'evt_1' });
    const shouting = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toUpperCase(), value]));
    expect(new Inflow('sk_test_x').webhooks.verify(Buffer.from(body), shouting, secret)).toMatchObject({ id: 'evt_1' });
    expect(Inflow.webhooks.verify(body, new Headers(headers), previous)).toMatchObject({ id: 'evt_1' });
    expect(() => Inflow.webhooks.verify(body, headers, generateWebhookSecret())).toThrow('no webhook-signature matches');
  });

  describe('order callbacks (CryptoPayments)', () => {
    it("verifies the seed's example, signed as inflow's callback signer signs it, and refuses a changed byte", () => {
      const rawBody = callbackBody(seedOrder);
      expect(callbackSignature(rawBody, SEED_KEY)).toBe(SEED_SIGNATURE);
      const callback = Inflow.webhooks.verify(rawBody, { [CALLBACK_SIGNATURE_HEADER]: SEED_SIGNATURE }, SEED_KEY) as OrderCallback;
      expect(callback).toMatchObject({ id: seedOrder.id, externalId: '123', totalAmount: { amount: '1990.000000', currency: 'TRX' } });
      expect(Inflow.webhooks.verify(rawBody, new Headers({ 'Api-Notification-Sign': SEED_SIGNATURE.toUpperCase() }), SEED_KEY)).toEqual(callback);
      expect(() => Inflow.webhooks.verify(rawBody.replace('1990.000000', '1990.000001'), { [CALLBACK_SIGNATURE_HEADER]: SEED_SIGNATURE }, SEED_KEY)).toThrow(
        WebhookVerificationError,
      );
      expect(() => Inflow.webhooks.verify(rawBody, { [CALLBACK_SIGNATURE_HEADER]: SEED_SIGNATURE }, `${SEED_KEY}x`)).toThrow(
        'api-notification-sign does not match',
      );
    });

    it('a whsec_ secret takes only Standard Webhooks, and an API key only callbacks', () => {
      const rawBody = callbackBody(seedOrder);
      const apiKey = 'sk_test_abc';
      const signed = { [CALLBACK_SIGNATURE_HEADER]: callbackSignature(rawBody, apiKey) };
      expect(Inflow.webhooks.verify(rawBody, signed, apiKey)).toMatchObject({ externalId: '123' });
      expect(() => Inflow.webhooks.verify(rawBody, signed, secret)).toThrow('webhook-id, webhook-timestamp and webhook-signature are required');
      expect(() => Inflow.webhooks.verify(body, standardHeaders(), apiKey)).toThrow('api-notification-sign is required');
    });
  });
});
