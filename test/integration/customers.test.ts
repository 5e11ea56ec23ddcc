import { openApiDocument } from '../../src/api/openapi';
import { schemaArbitraries } from '../fuzz/schema-arbitrary';
import { HDNodeWallet } from 'ethers';
import { isTronAddress } from '../../src/chains/tron/address';
import { networkNames } from '../../src/domain/networks';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import { startTestApi, type TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import type { TestDatabase } from '../helpers/database';
import { buildMerchant, testDerivers, testMnemonics } from '../../dev/fixtures';

const document = openApiDocument() as any;
const contract = schemaArbitraries(document, () => []);
const createBodySchema = document.paths['/customers'].post.requestBody.content['application/json'].schema;

describe('customers (real app, Postgres and Temporal)', () => {
  let database: TestDatabase;
  let stack: TestStack;
  let api: TestApi;
  let acme: CreatedMerchant;
  let globex: CreatedMerchant;

  beforeAll(async () => {
    stack = await startTestStack('customers', { worker: false });
    ({ database, api } = stack);
    [acme, globex] = await Promise.all([buildMerchant(database.db, 'Acme'), buildMerchant(database.db, 'Globex')]);
  });

  afterAll(async () => {
    await stack?.stop();
    await database?.destroy();
  });

  const post = (key: string, json: unknown, headers: Record<string, string> = {}) => api.request('/api/v1/customers', { method: 'POST', key, json, headers });

  const refusedBodies: Array<[Record<string, unknown>, string, string]> = [
    [{ nickname: 'x' }, 'nickname', 'parameter_unknown'],
    [{ metadata: { a: 'b' }, extra: true }, 'extra', 'parameter_unknown'],
    [{ email: 'not-an-email' }, 'email', 'parameter_invalid'],
    [{ name: 42 }, 'name', 'parameter_invalid'],
    [{ name: '' }, 'name', 'parameter_invalid'],
    // Trimmed, so white space alone is empty (the document's pattern says so).
    [{ name: ' \t ' }, 'name', 'parameter_invalid'],
    [{ metadata: 'plan=pro' }, 'metadata', 'parameter_invalid'],
    [{ metadata: { plan: 1 } }, 'metadata[plan]', 'parameter_invalid'],
    [{ metadata: { ['k'.repeat(41)]: 'v' } }, `metadata[${'k'.repeat(41)}]`, 'parameter_invalid'],
    [{ metadata: { note: 'v'.repeat(501) } }, 'metadata[note]', 'parameter_invalid'],
    [{ metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata', 'parameter_invalid'],
    [JSON.parse('{"metadata":{"__proto__":"x"}}'), 'metadata[__proto__]', 'parameter_invalid'],
    [{ name: 'Ada\u0000' }, 'name', 'parameter_invalid'],
    [{ metadata: { note: 'a\u0000b' } }, 'metadata[note]', 'parameter_invalid'],
    // A lone surrogate is valid JSON ("\ud800") but no character: refused, never a 500 or a U+FFFD.
    [{ name: 'Ada\ud800' }, 'name', 'parameter_invalid'],
    [{ metadata: { k: '\udc00' } }, 'metadata[k]', 'parameter_invalid'],
  ];

  describe('POST /customers', () => {
    it('creates a customer with a permanent address on every network, and a customer.created event in the same write', async () => {
      const response = await post(acme.test_key, { email: 'ada@example.com', name: 'Ada', external_id: 'user_42', metadata: { plan: 'pro' } });
      expect(response.status).toBe(200);
      const customer: any = await response.json();
      expect(customer).toEqual({
        id: expect.stringMatching(/^cus_[0-9a-z]{26}$/),
        object: 'customer',
        livemode: false,
        email: 'ada@example.com',
        name: 'Ada',
        external_id: 'user_42',
        metadata: { plan: 'pro' },
        addresses: expect.any(Array),
        archived: false,
        archived_at: null,
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      expect(customer.addresses.map((entry: { network: string }) => entry.network)).toEqual(networkNames);
      const byNetwork = Object.fromEntries(customer.addresses.map((entry: { network: string; address: string }) => [entry.network, entry.address]));
      // EVM networks share one EIP-55 address; Tron has its own base58check address.
      for (const network of ['polygon', 'bsc', 'arbitrum', 'base']) expect(byNetwork[network]).toBe(byNetwork.ethereum);
      expect(byNetwork.ethereum).toMatch(/^0x[0-9a-fA-F]{40}$/);
      expect(isTronAddress(byNetwork.tron)).toBe(true);
      expect(customer.addresses.find((entry: { network: string }) => entry.network === 'tron').currencies).toEqual(['TRX', 'USDT']);

      // The address is the test-mode wallet's child at the customer's index, derived watch-only.
      const row = await database.db.selectFrom('customers').select('address_index').where('id', '=', customer.id).executeTakeFirstOrThrow();
      expect(byNetwork.ethereum).toBe(HDNodeWallet.fromPhrase(testMnemonics.test, '', `m/44'/60'/0'/0/${row.address_index}`).address);

      const events = await database.db.selectFrom('events').selectAll().where('type', '=', 'customer.created').execute();
      const event = events.find((candidate) => (candidate.data as { id: string }).id === customer.id);
      expect(event).toMatchObject({ id: expect.stringMatching(/^evt_/), merchant_id: acme.merchant_id, livemode: false, data: customer });
    });

    it('accepts an empty body', async () => {
      const response = await post(acme.test_key, {});
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ email: null, name: null, external_id: null, metadata: {} });
    });

    it('gives live keys live customers with addresses from the live wallet', async () => {
      const live: any = await (await post(acme.live_key, {})).json();
      expect(live.livemode).toBe(true);
      const row = await database.db.selectFrom('customers').select('address_index').where('id', '=', live.id).executeTakeFirstOrThrow();
      expect(live.addresses[0].address).toBe(HDNodeWallet.fromPhrase(testMnemonics.live, '', `m/44'/60'/0'/0/${row.address_index}`).address);
    });

    it.each(refusedBodies)('answers 400 naming the field for %j, and writes nothing', async (body, param, code) => {
      const before = await database.db
        .selectFrom('customers')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow();
      const response = await post(acme.test_key, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: { type: 'invalid_request_error', code, param, message: expect.any(String) } });
      const after = await database.db
        .selectFrom('customers')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow();
      expect(after.count).toBe(before.count);
    });

    it('gives 200 customers created at once 200 distinct addresses per family', async () => {
      const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => post(globex.test_key, { external_id: `bulk_${i}` })));
      expect(responses.map((response) => response.status)).toEqual(Array(200).fill(200));
      const customers: any[] = await Promise.all(responses.map((response) => response.json()));
      const evm = new Set(customers.map((customer) => customer.addresses.find((entry: { network: string }) => entry.network === 'ethereum').address));
      const tron = new Set(customers.map((customer) => customer.addresses.find((entry: { network: string }) => entry.network === 'tron').address));
      expect(evm.size).toBe(200);
      expect(tron.size).toBe(200);
    });

    // The document says what is validated: each body above is refused by it too, so no generated client sends one.
    it.each(refusedBodies)('is refused by the OpenAPI document too: %j', (body) => {
      expect(contract.allows(createBodySchema, body)).toBe(false);
    });

    // The document publishes the email pattern the API checks, and no `format: email`, which refuses this one.
    it('accepts an email the published pattern allows, as the document does', async () => {
      expect(contract.allows(createBodySchema, { email: 'ada@mail-.example.com' })).toBe(true);
      expect(createBodySchema.properties.email.format).toBeUndefined();
      expect((await post(acme.test_key, { email: 'ada@mail-.example.com' })).status).toBe(200);
    });
  });

  it('answers 403 to a mode the server has no wallet for, and writes nothing', async () => {
    const { test } = testDerivers();
    const testOnly = await startTestApi({ db: database.db, temporal: stack.dev.client, derivers: { test } });
    try {
      const response = await testOnly.request('/api/v1/customers', { method: 'POST', key: acme.live_key, json: { external_id: 'live_disabled' } });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { type: 'permission_error', message: expect.stringContaining('INFLOW_XPUB_EVM_LIVE') } });
      expect((await database.db.selectFrom('customers').select('id').where('external_id', '=', 'live_disabled').execute()).length).toBe(0);
    } finally {
      await testOnly.close();
    }
  });

  describe('GET /customers/:id and isolation', () => {
    let customer: { id: string };

    beforeAll(async () => {
      customer = (await (await post(acme.test_key, { name: 'Isolated' })).json()) as { id: string };
    });

    it('fetches the customer with its addresses', async () => {
      const response = await api.request(`/api/v1/customers/${customer.id}`, { key: acme.test_key });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ id: customer.id, name: 'Isolated', addresses: expect.any(Array) });
    });

    it.each([
      ['another merchant', () => globex.test_key],
      ['the other mode of the same merchant', () => acme.live_key],
    ])('is a 404, never a 403, to %s', async (_label, key) => {
      const response = await api.request(`/api/v1/customers/${customer.id}`, { key: key() });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: { type: 'invalid_request_error', code: 'resource_missing', param: 'id', message: `No such customer: '${customer.id}'` },
      });
      const list: any = await (await api.request('/api/v1/customers?limit=100', { key: key() })).json();
      expect(list.data.map((entry: { id: string }) => entry.id)).not.toContain(customer.id);
    });

    it('is a 404 for a well-formed customer id that names no customer', async () => {
      const response = await api.request('/api/v1/customers/cus_00000000000000000000000000', { key: acme.test_key });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'resource_missing', param: 'id' } });
    });

    // The document gives every id its pattern; what does not match it is a malformed request, not a missing object.
    it.each(['nope', '0', 'evt_01m802nnsapn8jx5ztvzn8c0nv', 'cus_01M802NNSAPN8JX5ZTVZN8C0NV', 'cus_01m802nnsapn8jx5ztvzn8c0n'])(
      'is a 400 naming id for %s, which is not of the form of a customer id',
      async (id) => {
        const response = await api.request(`/api/v1/customers/${id}`, { key: acme.test_key });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'parameter_invalid', param: 'id' } });
      },
    );
  });

  describe('GET /customers pagination', () => {
    let merchant: CreatedMerchant;
    let created: string[];

    beforeAll(async () => {
      merchant = await buildMerchant(database.db, 'Paged');
      created = [];
      for (let i = 0; i < 23; i++) created.push(((await (await post(merchant.test_key, { external_id: `p${i}` })).json()) as { id: string }).id);
    });

    it('lists newest first, page by page, until has_more is false', async () => {
      const seen: string[] = [];
      let startingAfter: string | undefined;
      const pageSizes: number[] = [];
      for (;;) {
        const query = `limit=5${startingAfter ? `&starting_after=${startingAfter}` : ''}`;
        const response = await api.request(`/api/v1/customers?${query}`, { key: merchant.test_key });
        expect(response.status).toBe(200);
        const page: any = await response.json();
        expect(page.object).toBe('list');
        pageSizes.push(page.data.length);
        seen.push(...page.data.map((entry: { id: string }) => entry.id));
        if (!page.has_more) break;
        startingAfter = page.data.at(-1).id;
      }
      expect(pageSizes).toEqual([5, 5, 5, 5, 3]);
      expect(seen).toEqual([...created].reverse());
    });

    it('defaults to 10 per page', async () => {
      const page: any = await (await api.request('/api/v1/customers', { key: merchant.test_key })).json();
      expect(page.data).toHaveLength(10);
      expect(page.has_more).toBe(true);
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=1e1', 'limit'],
      ['limit=0x10', 'limit'],
      ['starting_after=cus_00000000000000000000000000', 'starting_after'],
      ['sort=asc', 'sort'],
    ])('answers 400 for %s', async (query, param) => {
      const response = await api.request(`/api/v1/customers?${query}`, { key: merchant.test_key });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', param } });
    });

    // A cursor the document's pattern refuses is refused by the API as malformed; one it allows that names nothing, as missing.
    it.each(['0', 'evt_00000000000000000000000000', 'cus_0000000000000000000000000O'])(
      'answers 400 parameter_invalid for starting_after=%s, which the document refuses too',
      async (cursor) => {
        const response = await api.request(`/api/v1/customers?starting_after=${cursor}`, { key: merchant.test_key });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'parameter_invalid', param: 'starting_after' } });
        const schema = (openApiDocument() as any).paths['/customers'].get.parameters.find(
          (parameter: { name: string }) => parameter.name === 'starting_after',
        ).schema;
        expect(new RegExp(schema.pattern, 'u').test(cursor)).toBe(false);
      },
    );

    it('answers 400 resource_missing for a well-formed starting_after that names no customer', async () => {
      const response = await api.request('/api/v1/customers?starting_after=cus_00000000000000000000000000', { key: merchant.test_key });
      expect(await response.json()).toMatchObject({ error: { code: 'resource_missing', param: 'starting_after' } });
    });

    it("answers 400 for a starting_after that is another merchant's customer", async () => {
      const response = await api.request(`/api/v1/customers?starting_after=${created[0]}`, { key: acme.test_key });
      expect(response.status).toBe(400);
    });
  });

  describe('Idempotency-Key', () => {
    const customerCount = async (externalId: string) =>
      Number(
        (
          await database.db
            .selectFrom('customers')
            .select((eb) => eb.fn.countAll<string>().as('count'))
            .where('external_id', '=', externalId)
            .executeTakeFirstOrThrow()
        ).count,
      );

    it('replays the first response for the same key and body, without running it again', async () => {
      const body = { external_id: 'idem_replay', metadata: { n: '1' } };
      const first = await post(acme.test_key, body, { 'Idempotency-Key': 'replay-1' });
      const second = await post(acme.test_key, body, { 'Idempotency-Key': 'replay-1' });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await second.json()).toEqual(await first.json());
      expect(await customerCount('idem_replay')).toBe(1);
    });

    it('answers 409 for the same key with a different body', async () => {
      await post(acme.test_key, { external_id: 'idem_conflict' }, { 'Idempotency-Key': 'conflict-1' });
      const response = await post(acme.test_key, { external_id: 'idem_conflict', name: 'changed' }, { 'Idempotency-Key': 'conflict-1' });
      expect(response.status).toBe(409);
      expect(await response.json()).toMatchObject({ error: { type: 'idempotency_error', code: 'idempotency_key_in_use' } });
      expect(await customerCount('idem_conflict')).toBe(1);
    });

    it('runs two concurrent requests with one key exactly once', async () => {
      const body = { external_id: 'idem_concurrent' };
      const responses = await Promise.all(Array.from({ length: 8 }, () => post(acme.test_key, body, { 'Idempotency-Key': 'concurrent-1' })));
      const bodies: any[] = await Promise.all(responses.map((response) => response.json()));
      expect(responses.map((response) => response.status)).toEqual(Array(8).fill(200));
      expect(new Set(bodies.map((customer) => customer.id)).size).toBe(1);
      expect(responses.filter((response) => response.headers.get('idempotent-replayed') === 'true')).toHaveLength(7);
      expect(await customerCount('idem_concurrent')).toBe(1);
    });

    it('scopes keys per merchant and mode', async () => {
      const body = { external_id: 'idem_scoped' };
      const [a, b, c] = await Promise.all([
        post(acme.test_key, body, { 'Idempotency-Key': 'shared' }),
        post(acme.live_key, body, { 'Idempotency-Key': 'shared' }),
        post(globex.test_key, body, { 'Idempotency-Key': 'shared' }),
      ]);
      const ids = await Promise.all([a!, b!, c!].map(async (response) => ((await response.json()) as { id: string }).id));
      expect(new Set(ids).size).toBe(3);
    });

    it('does not keep the key of a request that failed, so it can be retried', async () => {
      const failed = await post(acme.test_key, { email: 'broken' }, { 'Idempotency-Key': 'retry-after-400' });
      expect(failed.status).toBe(400);
      const retried = await post(acme.test_key, { email: 'fixed@example.com' }, { 'Idempotency-Key': 'retry-after-400' });
      expect(retried.status).toBe(200);
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
    });

    it('forgets keys after 24 hours', async () => {
      const body = { external_id: 'idem_expired' };
      await post(acme.test_key, body, { 'Idempotency-Key': 'old-key' });
      await database.db
        .updateTable('idempotency_keys')
        .set({ created_at: new Date(Date.now() - 25 * 3600 * 1000) } as never)
        .where('key', '=', 'old-key')
        .execute();
      const again = await post(acme.test_key, body, { 'Idempotency-Key': 'old-key' });
      expect(again.headers.get('idempotent-replayed')).toBeNull();
      expect(await customerCount('idem_expired')).toBe(2);
    });

    it('replays the very bytes of the first response', async () => {
      const body = { external_id: 'idem_bytes', name: 'Bytes', metadata: { zebra: '1', apple: '2' } };
      const first = await (await post(acme.test_key, body, { 'Idempotency-Key': 'bytes-1' })).text();
      const replay = await post(acme.test_key, body, { 'Idempotency-Key': 'bytes-1' });
      expect(replay.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await replay.text()).toBe(first);
    });

    it('compares parameters, not bytes: the same body sent differently is a replay', async () => {
      const first = await api.request('/api/v1/customers', {
        method: 'POST',
        key: acme.test_key,
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'spacing-1' },
        body: '{"name":"Spaced","external_id":"idem_spacing"}',
      });
      const second = await api.request('/api/v1/customers', {
        method: 'POST',
        key: acme.test_key,
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'spacing-1' },
        body: '{ "external_id": "idem_spacing",\n  "name": "Spaced" }',
      });
      expect(second.status).toBe(200);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await second.text()).toBe(await first.text());
      expect(await customerCount('idem_spacing')).toBe(1);
    });

    it('answers 400 for a key longer than 255 characters', async () => {
      const response = await post(acme.test_key, {}, { 'Idempotency-Key': 'k'.repeat(256) });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { param: 'Idempotency-Key' } });
    });
  });
});
