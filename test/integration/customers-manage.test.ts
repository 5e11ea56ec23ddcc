import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseEther } from 'ethers';
import { fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { freePort } from '../../dev/tools/ports';
import { ownersByAddress } from '../../src/chains/chains.repository';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { verifyWebhook } from '../../src/domain/signatures';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import { chainWatcherWorkflowId } from '../../src/workflows/definitions';
import { type TestApi } from '../helpers/api';
import { startTestStack, useApiStack, type TestStack } from '../helpers/api-stack';
import { startReceiver } from '../helpers/receiver';
import { isolatedNamespaces } from '../helpers/temporal';
import { waitFor } from '../helpers/wait';
import { buildMerchant } from '../../dev/fixtures';

type Call = (method: string, path: string, json?: unknown, key?: string) => Promise<{ status: number; body: any }>;

const caller =
  (api: () => TestApi, defaultKey: () => string): Call =>
  async (method, path, json, key) => {
    const response = await api().request(`/api/v1${path}`, { method, key: key ?? defaultKey(), ...(json !== undefined ? { json } : {}) });
    return { status: response.status, body: (await response.json()) as any };
  };

/** PATCH and DELETE /customers/:id and the list's filters, through the real API with the real worker on the Temporal dev server. */
describe('customers: update, archive, filters (real worker, Temporal dev server, Postgres)', () => {
  const stack = useApiStack('customers-manage');
  const call = caller(
    () => stack.api,
    () => stack.acme.test_key,
  );
  const create = async (body: Record<string, unknown> = {}, key?: string) => {
    const created = await call('POST', '/customers', body, key);
    expect(created.status).toBe(200);
    return created.body;
  };
  const eventsOf = async (customerId: string) =>
    (await stack.database.db.selectFrom('events').select(['type', 'data']).orderBy('id').execute())
      .filter((event) => (event.data as { id?: string }).id === customerId)
      .map((event) => ({ type: event.type, data: event.data }));

  describe('PATCH /customers/:id', () => {
    it('sets fields, clears them with null, merges metadata (a key set to "" is removed), and emits customer.updated', async () => {
      const customer = await create({ email: 'ada@example.com', name: 'Ada', external_id: 'user_1', metadata: { plan: 'pro', team: 'a' } });
      const patched = await call('PATCH', `/customers/${customer.id}`, {
        email: 'ada@lovelace.example',
        name: null,
        metadata: { plan: 'team', team: '', seats: '5' },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({
        ...customer,
        email: 'ada@lovelace.example',
        name: null,
        external_id: 'user_1',
        metadata: { plan: 'team', seats: '5' },
      });
      expect((await call('GET', `/customers/${customer.id}`)).body).toEqual(patched.body);
      expect(await eventsOf(customer.id)).toEqual([
        { type: 'customer.created', data: customer },
        { type: 'customer.updated', data: patched.body },
      ]);

      const cleared = await call('PATCH', `/customers/${customer.id}`, { email: null, external_id: null, metadata: null });
      expect(cleared.body).toMatchObject({ email: null, name: null, external_id: null, metadata: {} });
      // Names and external ids are trimmed, as on create.
      expect((await call('PATCH', `/customers/${customer.id}`, { name: '  Ada L.  ' })).body.name).toBe('Ada L.');
    });

    it('changes nothing and emits nothing for an empty body or the values the customer has', async () => {
      const customer = await create({ email: 'same@example.com', metadata: { a: '1' } });
      for (const body of [{}, { email: 'same@example.com' }, { metadata: { a: '1' } }, { metadata: { absent: '' } }, { name: null }]) {
        const answer = await call('PATCH', `/customers/${customer.id}`, body);
        expect(answer).toEqual({ status: 200, body: customer });
      }
      expect((await eventsOf(customer.id)).map((event) => event.type)).toEqual(['customer.created']);
    });

    it('delivers customer.updated and customer.archived to an endpoint that subscribes to them, signed', async () => {
      const receiver = await startReceiver();
      const merchant = await buildMerchant(stack.database.db, 'Subscriber');
      try {
        const endpoint = (await call('POST', '/webhook-endpoints', { url: receiver.url, events: ['customer.updated', 'customer.archived'] }, merchant.test_key))
          .body;
        const customer = await create({ name: 'Grace' }, merchant.test_key);
        const updated = (await call('PATCH', `/customers/${customer.id}`, { metadata: { tier: 'gold' } }, merchant.test_key)).body;
        const archived = (await call('DELETE', `/customers/${customer.id}`, undefined, merchant.test_key)).body;
        await receiver.waitForRequests(2);
        const delivered = receiver.requests.map((request) => verifyWebhook(request.rawBody, request.headers, endpoint.secret) as any);
        expect(delivered.map((event) => [event.event, event.data]).sort()).toEqual(
          [
            ['customer.archived', archived],
            ['customer.updated', updated],
          ].sort(),
        );
      } finally {
        await receiver.close();
      }
    });

    it('loses no key when updates merge metadata at the same time', async () => {
      const customer = await create();
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => call('PATCH', `/customers/${customer.id}`, { metadata: { [`key_${i}`]: String(i) } })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
      const { metadata } = (await call('GET', `/customers/${customer.id}`)).body;
      expect(metadata).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`key_${i}`, String(i)])));
    });

    it('allows 50 metadata keys after the merge, and refuses a merge that would leave more', async () => {
      const keys = (from: number, count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${from + i}`, 'v']));
      const customer = await create({ metadata: keys(0, 30) });
      const refused = await call('PATCH', `/customers/${customer.id}`, { metadata: keys(30, 21) });
      expect(refused).toEqual({
        status: 400,
        body: { error: { type: 'invalid_request_error', code: 'parameter_invalid', param: 'metadata', message: expect.any(String) } },
      });
      expect((await call('GET', `/customers/${customer.id}`)).body.metadata).toEqual(keys(0, 30));
      const accepted = await call('PATCH', `/customers/${customer.id}`, { metadata: { ...keys(30, 21), k0: '' } });
      expect(Object.keys(accepted.body.metadata)).toHaveLength(50);
    });

    it.each([
      [{ id: 'cus_mine' }, 'id', 'parameter_read_only'],
      [{ object: 'customer' }, 'object', 'parameter_read_only'],
      [{ livemode: true }, 'livemode', 'parameter_read_only'],
      [{ addresses: [] }, 'addresses', 'parameter_read_only'],
      [{ archived: false }, 'archived', 'parameter_read_only'],
      [{ archived_at: null }, 'archived_at', 'parameter_read_only'],
      [{ created_at: '2020-01-01T00:00:00.000Z' }, 'created_at', 'parameter_read_only'],
      [{ name: 'Ada', created_at: '2020-01-01T00:00:00.000Z' }, 'created_at', 'parameter_read_only'],
      [{ nickname: 'x' }, 'nickname', 'parameter_unknown'],
      [{ metadata: {}, deleted: true }, 'deleted', 'parameter_unknown'],
      [{ email: 'not-an-email' }, 'email', 'parameter_invalid'],
      [{ email: '' }, 'email', 'parameter_invalid'],
      [{ name: '' }, 'name', 'parameter_invalid'],
      [{ name: '   ' }, 'name', 'parameter_invalid'],
      [{ name: 42 }, 'name', 'parameter_invalid'],
      [{ external_id: 'x'.repeat(257) }, 'external_id', 'parameter_invalid'],
      [{ external_id: 'a\u0000b' }, 'external_id', 'parameter_invalid'],
      [{ metadata: 'plan=pro' }, 'metadata', 'parameter_invalid'],
      [{ metadata: { plan: 1 } }, 'metadata[plan]', 'parameter_invalid'],
      [{ metadata: { plan: null } }, 'metadata[plan]', 'parameter_invalid'],
      [{ metadata: { ['k'.repeat(41)]: 'v' } }, `metadata[${'k'.repeat(41)}]`, 'parameter_invalid'],
      [JSON.parse('{"metadata":{"__proto__":"x"}}'), 'metadata[__proto__]', 'parameter_invalid'],
    ])('answers 400 naming the field for %j, and changes nothing', async (body, param, code) => {
      const customer = await create({ name: 'Unchanged', metadata: { keep: 'me' } });
      const answer = await call('PATCH', `/customers/${customer.id}`, body);
      expect(answer).toEqual({ status: 400, body: { error: { type: 'invalid_request_error', code, param, message: expect.any(String) } } });
      if (code === 'parameter_read_only') expect(answer.body.error.message).toBe(`${param} is read-only: inflow sets it, and no request can change it.`);
      expect((await call('GET', `/customers/${customer.id}`)).body).toEqual(customer);
      expect((await eventsOf(customer.id)).map((event) => event.type)).toEqual(['customer.created']);
    });

    it("is a 404 for another merchant's or mode's customer and for ids that name no customer", async () => {
      const customer = await create();
      const other = await buildMerchant(stack.database.db, 'Other');
      for (const [id, key] of [
        [customer.id, other.test_key],
        [customer.id, stack.acme.live_key],
        ['cus_00000000000000000000000000', stack.acme.test_key],
      ] as const) {
        for (const method of ['PATCH', 'DELETE']) {
          const answer = await call(method, `/customers/${id}`, method === 'PATCH' ? { name: 'Taken' } : undefined, key);
          expect(answer).toEqual({
            status: 404,
            body: { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'id', message: `No such customer: '${id}'` } },
          });
        }
      }
      // Not of a customer id's form (the document's pattern): malformed, so a 400 before any lookup.
      for (const id of ['evt_00000000000000000000000000', 'nope']) {
        for (const method of ['PATCH', 'DELETE']) {
          const answer = await call(method, `/customers/${id}`, method === 'PATCH' ? { name: 'Taken' } : undefined);
          expect(answer).toEqual({ status: 400, body: { error: expect.objectContaining({ code: 'parameter_invalid', param: 'id' }) } });
        }
      }
      expect((await call('GET', `/customers/${customer.id}`)).body).toEqual(customer);
    });

    it('needs write permission on customers', async () => {
      const customer = await create();
      const reader = (await call('POST', '/api-keys', { name: 'reader', permissions: { customers: 'read' } })).body.secret;
      for (const [method, body] of [
        ['PATCH', { name: 'x' }],
        ['DELETE', undefined],
      ] as const) {
        expect(await call(method, `/customers/${customer.id}`, body, reader)).toMatchObject({
          status: 403,
          body: { error: { type: 'permission_error', code: 'api_key_permission_denied' } },
        });
      }
      expect((await call('GET', `/customers/${customer.id}`, undefined, reader)).body).toEqual(customer);
    });
  });

  describe('DELETE /customers/:id (archive)', () => {
    let merchant: CreatedMerchant;
    let customer: any;
    let archived: any;
    let kept: any;

    beforeAll(async () => {
      merchant = await buildMerchant(stack.database.db, 'Archiver');
      customer = await create({ email: 'gone@example.com', external_id: 'gone', metadata: { a: 'b' } }, merchant.test_key);
      kept = await create({ email: 'kept@example.com' }, merchant.test_key);
      const answer = await call('DELETE', `/customers/${customer.id}`, undefined, merchant.test_key);
      expect(answer.status).toBe(200);
      archived = answer.body;
    });

    it('answers the customer, archived, with everything else as it was; emits customer.archived once', async () => {
      expect(archived).toEqual({ ...customer, archived: true, archived_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
      expect(await eventsOf(customer.id)).toEqual([
        { type: 'customer.created', data: customer },
        { type: 'customer.archived', data: archived },
      ]);
    });

    it('is idempotent: archiving again answers the same customer and emits nothing', async () => {
      expect(await call('DELETE', `/customers/${customer.id}`, undefined, merchant.test_key)).toEqual({ status: 200, body: archived });
      expect((await eventsOf(customer.id)).map((event) => event.type)).toEqual(['customer.created', 'customer.archived']);
    });

    it('is still found by id, and left out of lists unless archived=true', async () => {
      expect((await call('GET', `/customers/${customer.id}`, undefined, merchant.test_key)).body).toEqual(archived);
      const ids = async (query: string) => (await call('GET', `/customers${query}`, undefined, merchant.test_key)).body.data.map((entry: any) => entry.id);
      expect(await ids('')).toEqual([kept.id]);
      expect(await ids('?archived=false')).toEqual([kept.id]);
      expect(await ids('?archived=true')).toEqual([customer.id]);
      expect(await ids('?external_id=gone')).toEqual([]);
      expect(await ids('?external_id=gone&archived=true')).toEqual([customer.id]);
      // The cursor may name an archived customer whatever the filter.
      expect(await ids(`?starting_after=${customer.id}`)).toEqual([]);
    });

    it('refuses to update an archived customer with a 400 customer_archived', async () => {
      const answer = await call('PATCH', `/customers/${customer.id}`, { name: 'Back' }, merchant.test_key);
      expect(answer).toEqual({
        status: 400,
        body: { error: { type: 'invalid_request_error', code: 'customer_archived', param: 'id', message: expect.stringContaining('archived') } },
      });
      expect((await call('GET', `/customers/${customer.id}`, undefined, merchant.test_key)).body).toEqual(archived);
    });

    it('refuses a new order for an archived customer, writing nothing', async () => {
      const answer = await call(
        'POST',
        '/orders',
        { external_id: 'for-gone', network: 'ethereum', currency: 'USDT', amount: '10', customer_id: customer.id },
        merchant.test_key,
      );
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'customer_archived', param: 'customer_id' });
      expect((await call('GET', '/orders', undefined, merchant.test_key)).body.data).toEqual([]);
    });

    it("credits money sent to an archived customer's address: a simulated deposit completes and the balance rises", async () => {
      const before = (await call('GET', '/balance', undefined, merchant.test_key)).body;
      expect(before.by_currency).toEqual([]);
      const detected = await call(
        'POST',
        '/deposits/simulate',
        { customer_id: customer.id, network: 'tron', currency: 'USDT', amount: '40' },
        merchant.test_key,
      );
      expect(detected.status).toBe(200);
      expect(detected.body.address).toBe(customer.addresses.find((entry: any) => entry.network === 'tron').address);
      await waitFor(
        'deposit completed',
        async () => (await call('GET', `/deposits/${detected.body.id}`, undefined, merchant.test_key)).body.status === 'completed',
        60_000,
      );
      const balance = (await call('GET', '/balance', undefined, merchant.test_key)).body;
      expect(balance.by_currency).toEqual([
        {
          network: 'tron',
          currency: 'USDT',
          total_received: '40.000000',
          total_fees: '2.000000',
          net: '38.000000',
          available: '38.000000',
          pending: '0.000000',
          paid_out: '0.000000',
          deposit_count: 1,
        },
      ]);
      expect((await call('GET', `/deposits?customer_id=${customer.id}`, undefined, merchant.test_key)).body.data.map((deposit: any) => deposit.id)).toEqual([
        detected.body.id,
      ]);
    });

    it("keeps the archived customer's addresses in the chain watchers' owner lookup", async () => {
      for (const [network, family] of [
        ['ethereum', 'evm'],
        ['tron', 'tron'],
      ] as const) {
        const address = customer.addresses.find((entry: any) => entry.network === network).address;
        // An EVM address is matched in lower case, as the scan asks (src/chains/evm/addresses.ts).
        const match = family === 'evm' ? address.toLowerCase() : address;
        expect(await ownersByAddress(stack.database.db, false, family, [match])).toEqual([
          { address, match, merchant_id: merchant.merchant_id, customer_id: customer.id, order_id: null },
        ]);
      }
    });
  });

  describe('GET /customers filters', () => {
    let merchant: CreatedMerchant;
    const made: Record<string, any> = {};

    beforeAll(async () => {
      merchant = await buildMerchant(stack.database.db, 'Filtered');
      // Made one after another, so ids (and the list's order) follow this order.
      for (const [name, body] of [
        ['first', { external_id: 'shared', email: 'ada@example.com' }],
        ['second', { external_id: 'shared', email: 'Ada@example.com' }],
        ['third', { external_id: 'own', email: 'ada@example.com' }],
        ['fourth', { external_id: 'shared_2' }],
      ] as const) {
        made[name] = await create(body, merchant.test_key);
      }
    });

    const ids = async (query: string) => {
      const answer = await call('GET', `/customers?${query}`, undefined, merchant.test_key);
      expect(answer.status).toBe(200);
      return answer.body.data.map((entry: any) => entry.id);
    };

    it('matches external_id and email exactly (email case-sensitively), alone or together, newest first', async () => {
      expect(await ids('external_id=shared')).toEqual([made.second.id, made.first.id]);
      expect(await ids('external_id=own')).toEqual([made.third.id]);
      expect(await ids('email=ada%40example.com')).toEqual([made.third.id, made.first.id]);
      expect(await ids('email=Ada%40example.com')).toEqual([made.second.id]);
      expect(await ids('external_id=shared&email=ada%40example.com')).toEqual([made.first.id]);
      expect(await ids('external_id=nobody')).toEqual([]);
      expect(await ids('external_id=SHARED')).toEqual([]);
    });

    it('pages through a filtered list', async () => {
      const first = (await call('GET', '/customers?external_id=shared&limit=1', undefined, merchant.test_key)).body;
      expect(first).toMatchObject({ data: [{ id: made.second.id }], has_more: true });
      const second = (await call('GET', `/customers?external_id=shared&limit=1&starting_after=${made.second.id}`, undefined, merchant.test_key)).body;
      expect(second).toMatchObject({ data: [{ id: made.first.id }], has_more: false });
    });

    it("never shows another merchant's or mode's customers", async () => {
      expect((await call('GET', '/customers?external_id=shared', undefined, stack.acme.test_key)).body.data).toEqual([]);
      expect((await call('GET', '/customers?external_id=shared', undefined, merchant.live_key)).body.data).toEqual([]);
    });

    it.each([
      ['archived=yes', 'archived'],
      ['archived=TRUE', 'archived'],
      ['archived=1', 'archived'],
      ['email=', 'email'],
      ['external_id=', 'external_id'],
      [`external_id=${'x'.repeat(257)}`, 'external_id'],
      ['external_id=a%00b', 'external_id'],
      ['external_id=a&external_id=b', 'external_id'],
      ['customer_id=cus_1', 'customer_id'],
    ])('answers 400 for %s', async (query, param) => {
      const answer = await call('GET', `/customers?${query}`, undefined, merchant.test_key);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { type: 'invalid_request_error', param } });
    });
  });
});

/**
 * A real transfer on anvil to an archived customer's address: the chain watcher still finds it and
 * the deposit completes. Its own dev-server namespace, as every file that runs a watcher (see
 * isolatedNamespaces).
 */
describe("an archived customer's address on a real chain (anvil, chain watcher, worker, Temporal dev server)", () => {
  let anvil: RunningAnvil;
  let stack: TestStack;
  let merchant: CreatedMerchant;
  const call = caller(
    () => stack.api,
    () => merchant.test_key,
  );

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort(), stateFile: path.join(await mkdtemp(path.join(os.tmpdir(), 'inflow-anvil-')), 'state.json') });
    stack = await startTestStack('archived-watcher', {
      namespace: isolatedNamespaces.archivedCustomerWatcher,
      env: {
        INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl,
        INFLOW_CHAIN_POLL_MS: '100',
        INFLOW_CONFIRMATIONS_ETHEREUM_TEST: '3',
        INFLOW_CHAIN_START_BLOCK_ETHEREUM_TEST: String(Number(await anvil.provider.send('eth_blockNumber', [])) + 1),
      },
      chainWatchers: true,
    });
    merchant = await buildMerchant(stack.database.db, 'Chain');
  });

  afterAll(async () => {
    await stack?.dev.client.workflow
      .getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }))
      .terminate('test over')
      .catch(() => undefined);
    await stack?.stop();
    if (stack) expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
    await stack?.database.destroy();
    await anvil?.stop();
  });

  it('turns an ETH transfer to the archived address into a completed deposit of that customer', async () => {
    const customer = (await call('POST', '/customers', { external_id: 'archived-on-chain' })).body;
    expect((await call('DELETE', `/customers/${customer.id}`)).body.archived).toBe(true);
    const address = customer.addresses.find((entry: any) => entry.network === 'ethereum').address;

    const transfer = await (await fundedSigner(anvil.provider).sendTransaction({ to: address, value: parseEther('0.25') })).wait();
    const deposits = async () => (await call('GET', `/deposits?customer_id=${customer.id}`)).body.data;
    await waitFor('deposit detected', async () => (await deposits()).length === 1, 30_000);
    await anvil.provider.send('anvil_mine', ['0x3']);
    await waitFor('deposit completed', async () => (await deposits())[0].status === 'completed', 60_000);
    expect((await deposits())[0]).toMatchObject({ customer_id: customer.id, address, currency: 'ETH', transaction_hash: transfer!.hash, status: 'completed' });
    const balance = (await call('GET', '/balance')).body;
    expect(balance.by_currency).toMatchObject([{ network: 'ethereum', currency: 'ETH', deposit_count: 1 }]);
  });
});
