import { getAddress, hexlify } from 'ethers';
import fc from 'fast-check';
import { sql } from 'kysely';
import { z } from 'zod';
import { buildMerchant, testPayoutSettings } from '../../dev/fixtures';
import { CreateApiKeyBody, RollApiKeyBody } from '../../src/api-keys/api-keys.schema';
import { openApiDocument } from '../../src/api/openapi';
import { CreateCustomerBody, customerReadOnlyFields, UpdateCustomerFields } from '../../src/customers/customers.schema';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { SimulateDepositBody } from '../../src/deposits/deposits.schema';
import { depositStatuses } from '../../src/domain/deposit-state';
import { eventTypes, subscribableEventTypes } from '../../src/domain/events';
import { currenciesOf, networkNames } from '../../src/domain/networks';
import { callbackStatuses, orderStatuses } from '../../src/domain/order-state';
import { resources } from '../../src/domain/permissions';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import { CreateOrderBody } from '../../src/orders/orders.schema';
import { CreatePayoutBody, CreateRefundBody } from '../../src/payouts/payouts.schema';
import { payoutStatuses } from '../../src/payouts/payouts.table';
import { CreateEndpointBody, UpdateEndpointBody } from '../../src/webhooks/endpoints.schema';
import { UpdateAccountBody } from '../../src/merchants/account.schema';
import type { TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import type { TestDatabase } from '../helpers/database';
import { exoticNumberStrings, hostileKeys, hostileStrings, nearValidBody, onlyLocalUrls, queryString, randomBody, toJsonText } from './arbitraries';

/**
 * Property-based fuzzing of the API's edge: every POST and PATCH body, every list query and every
 * path id, against the real app on Postgres and Temporal. Whatever is sent, the API answers below
 * 500, every error has the contract's shape (API.md), and a refused request writes nothing.
 *
 * No worker polls the API's task queue: the workflows it starts never run, so the database changes
 * only through the requests themselves and a before/after snapshot says exactly what one wrote.
 * (Nothing is ever delivered either; the bodies' URLs are kept to this machine all the same.)
 *
 * Reproduce or explore: FUZZ_SEED=<seed> FUZZ_RUNS=<runs per property> npx jest test/fuzz.
 */
const seed = Number(process.env.FUZZ_SEED ?? 20261122);
const runsScale = Number(process.env.FUZZ_RUNS ?? 1);
const settings = (numRuns: number) => ({ seed, numRuns: Math.max(1, Math.round(numRuns * runsScale)) });

/** Every table a request on a tenant's behalf may write. */
const tenantTables = [
  'customers',
  'customer_addresses',
  'events',
  'deposits',
  'orders',
  'payouts',
  'webhook_endpoints',
  'webhook_deliveries',
  'webhook_attempts',
  'ledger_transactions',
  'ledger_entries',
  'idempotency_keys',
  'api_keys',
] as const;

const ErrorBody = z.strictObject({
  error: z.strictObject({
    type: z.enum(['invalid_request_error', 'authentication_error', 'permission_error', 'idempotency_error', 'rate_limit_error', 'api_error']),
    code: z.string().min(1).optional(),
    message: z.string().min(1),
    param: z.string().optional(),
  }),
});

/** API.md: which error types each 4xx status may carry. */
const typesByStatus: Record<number, string[]> = {
  400: ['invalid_request_error'],
  401: ['authentication_error'],
  403: ['permission_error'],
  404: ['invalid_request_error'],
  409: ['idempotency_error', 'invalid_request_error'],
  413: ['invalid_request_error'],
  429: ['rate_limit_error'],
};

const ListBody = z.object({ object: z.literal('list'), data: z.array(z.looseObject({ id: z.string() })), has_more: z.boolean() });

interface FuzzRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  mode: 'test' | 'live';
  body?: string | Uint8Array | undefined;
  contentType?: string | undefined;
  idempotencyKey?: string | undefined;
}

interface Answer {
  status: number;
  json: unknown;
}

/** Percent-encodes every UTF-8 byte (a lone surrogate becomes U+FFFD, as any client would send it). */
const encodeSegment = (text: string) => [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

const absentIds = ['cus_', 'dep_', 'evt_', 'we_', 'ord_', 'key_', 'po_'].map((prefix) => `${prefix}${'0'.repeat(26)}`);

const showable = (value: unknown) => {
  const text = typeof value === 'string' ? value : value instanceof Uint8Array ? `<${value.length} bytes>` : JSON.stringify(value);
  return text && text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
};

describe(`API fuzz (fast-check seed ${seed})`, () => {
  let database: TestDatabase;
  let stack: TestStack;
  let api: TestApi;
  let acme: CreatedMerchant;
  const fixture = { customerId: '', orderId: '', endpointId: '', pingEndpointId: '', eventId: '', depositId: '' };

  /** Each tenant table's row count and a digest of its rows: an UPDATE shows as well as an INSERT. */
  const snapshot = async (): Promise<Record<string, string>> => {
    const columns = tenantTables.map(
      (table) => sql`(select count(*) || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '') from ${sql.table(table)} t) as ${sql.ref(table)}`,
    );
    const { rows } = await sql<Record<string, string>>`select ${sql.join(columns)}`.execute(database.db);
    return rows[0]!;
  };

  const send = async (request: FuzzRequest): Promise<Answer> => {
    const response = await api.request(`/api/v1${request.path}`, {
      method: request.method,
      key: request.mode === 'live' ? acme.live_key : acme.test_key,
      headers: {
        ...(request.contentType ? { 'Content-Type': request.contentType } : {}),
        ...(request.idempotencyKey !== undefined ? { 'Idempotency-Key': request.idempotencyKey } : {}),
      },
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    const text = await response.text();
    const summary = () => `${request.method} ${request.path} (${request.mode}) body ${showable(request.body)} answered ${response.status} ${showable(text)}`;
    if (response.status >= 500) throw new Error(`5xx: ${summary()}`);
    if (!/^application\/json\b/.test(response.headers.get('content-type') ?? '')) throw new Error(`not JSON: ${summary()}`);
    const json: unknown = JSON.parse(text);
    if (response.status >= 300) {
      const shape = ErrorBody.safeParse(json);
      if (!shape.success) throw new Error(`error shape (${shape.error.issues[0]?.message} at ${shape.error.issues[0]?.path.join('.')}): ${summary()}`);
      const allowed = typesByStatus[response.status];
      if (!allowed?.includes(shape.data.error.type)) throw new Error(`status and error type disagree: ${summary()}`);
      if (response.status === 404 && shape.data.error.code !== 'resource_missing') throw new Error(`a 404 that is not resource_missing: ${summary()}`);
      if ((shape.data.error.code === 'parameter_unknown' || shape.data.error.code === 'parameter_missing') && shape.data.error.param === undefined) {
        throw new Error(`a ${shape.data.error.code} without param: ${summary()}`);
      }
    }
    return { status: response.status, json };
  };

  /** Sends a request; a refused one must leave every tenant table as it was. */
  const sendAndCheck = async (request: FuzzRequest): Promise<Answer> => {
    const before = await snapshot();
    const answer = await send(request);
    if (answer.status >= 300) {
      const after = await snapshot();
      const changed = tenantTables.filter((table) => before[table] !== after[table]);
      if (changed.length > 0) throw new Error(`a ${answer.status} changed ${changed.join(', ')}: ${request.method} ${request.path} ${showable(request.body)}`);
    }
    return answer;
  };

  beforeAll(async () => {
    // Payouts enabled, as an operator would (no worker sends them).
    stack = await startTestStack('fuzz-unpolled', { worker: false, api: { payouts: testPayoutSettings } });
    ({ database, api } = stack);
    acme = await buildMerchant(database.db, 'Acme');

    const create = async (path: string, body: unknown) => {
      const answer = await send({ method: 'POST', path, mode: 'test', body: JSON.stringify(body), contentType: 'application/json' });
      expect(answer.status).toBe(200);
      return (answer.json as { id: string }).id;
    };
    fixture.customerId = await create('/customers', { email: 'fixture@example.com' });
    fixture.endpointId = await create('/webhook-endpoints', { url: 'http://127.0.0.1:9/fuzz', events: ['*'] });
    // Its own, so that the PATCH route's fuzzing (which may disable the other) leaves it pingable.
    fixture.pingEndpointId = await create('/webhook-endpoints', { url: 'http://127.0.0.1:9/fuzz-ping', events: ['deposit.completed'] });
    fixture.orderId = await create('/orders', { external_id: 'fuzz-fixture', network: 'ethereum', currency: 'USDT', amount: '10' });
    fixture.depositId = await create('/deposits/simulate', { customer_id: fixture.customerId, network: 'ethereum', currency: 'USDT', amount: '1' });
    fixture.eventId = (await database.db.selectFrom('events').select('id').where('type', '=', 'customer.created').executeTakeFirstOrThrow()).id;
  });

  afterAll(async () => {
    await stack?.stop();
    if (database) expect(await ledgerInvariantViolations(database.db)).toEqual([]);
    await database?.destroy();
  });

  // ---- Valid bodies, which the near-valid ones are one or two edits away from ----------------

  const safeText = (options: { minLength?: number; maxLength: number }) => fc.string(options).filter((text) => text.trim().length > 0);
  const metadata = fc.dictionary(safeText({ minLength: 1, maxLength: 40 }), fc.string({ maxLength: 100 }), { maxKeys: 4 });
  // Loopback only: test mode accepts these, and nothing listens for them anyway.
  const loopbackUrl = fc
    .tuple(
      fc.constantFrom('http://127.0.0.1', 'https://127.0.0.1', 'http://127.3.2.1', 'http://localhost', 'http://[::1]'),
      fc.integer({ min: 1, max: 65535 }),
      fc.stringMatching(/^[a-z0-9/_-]{0,30}$/),
    )
    .map(([origin, port, path]) => `${origin}:${port}/${path}`);
  // Six decimals at most: every currency has at least six.
  const assetAmount = fc
    .tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 999_999 }))
    .map(([whole, fraction]) => `${whole}.${String(fraction).padStart(6, '0')}`);
  const fiatAmount = fc.integer({ min: 1, max: 10_000_000 }).map((cents) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`);
  const events = fc.oneof(fc.constant(['*']), fc.subarray([...subscribableEventTypes], { minLength: 1 }));

  const validCustomer = () =>
    fc.record(
      {
        email: fc.stringMatching(/^[a-z0-9]{1,20}@example\.(com|org)$/),
        name: safeText({ maxLength: 60 }),
        external_id: safeText({ maxLength: 60 }),
        metadata,
      },
      { requiredKeys: [] },
    );
  // Metadata values of "" remove keys; null clears a field (metadata: every key).
  const validCustomerUpdate = () =>
    fc.record(
      {
        email: fc.option(fc.stringMatching(/^[a-z0-9]{1,20}@example\.(com|org)$/), { nil: null }),
        name: fc.option(safeText({ maxLength: 60 }), { nil: null }),
        external_id: fc.option(safeText({ maxLength: 60 }), { nil: null }),
        metadata: fc.option(metadata, { nil: null }),
      },
      { requiredKeys: [] },
    );
  const validSimulation = () =>
    fc.oneof(
      fc.constantFrom(...networkNames).chain((network) =>
        fc.record(
          {
            customer_id: fc.constant(fixture.customerId),
            network: fc.constant(network),
            currency: fc.constantFrom(...currenciesOf(network)),
            amount: assetAmount,
            outcome: fc.constantFrom('completed', 'failed'),
          },
          { requiredKeys: ['customer_id', 'network', 'currency', 'amount'] },
        ),
      ),
      fc.record(
        { order_id: fc.constant(fixture.orderId), amount: assetAmount, network: fc.constant('ethereum'), currency: fc.constant('USDT') },
        { requiredKeys: ['order_id', 'amount'] },
      ),
    );
  const validEndpoint = () => fc.record({ url: loopbackUrl, events, description: fc.string({ maxLength: 100 }) }, { requiredKeys: ['url', 'events'] });
  const validEndpointUpdate = () =>
    fc.record({ url: loopbackUrl, events, description: fc.option(fc.string({ maxLength: 100 }), { nil: null }), disabled: fc.boolean() }, { requiredKeys: [] });
  /** A 1×1 PNG, as a logo's data: URL. */
  const pngLogo = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
  const validAccountUpdate = () =>
    fc.record(
      { display_name: fc.option(fc.stringMatching(/^[A-Za-z][A-Za-z0-9 .&'-]{0,60}[A-Za-z0-9]$/), { nil: null }), logo: fc.constantFrom(pngLogo, null) },
      { requiredKeys: [] },
    );
  /** A checksummed EVM address, as a payout's destination must be. */
  const evmAddress = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => getAddress(hexlify(bytes)));
  const evmNetworks = networkNames.filter((network) => network !== 'tron');
  const validPayout = () =>
    fc.constantFrom(...evmNetworks).chain((network) =>
      fc.record(
        {
          network: fc.constant(network),
          currency: fc.constantFrom(...currenciesOf(network)),
          amount: fc.constantFrom('1', '0.5', '25.25'),
          destination: evmAddress,
          external_id: fc.uuid(),
          metadata: fc.constant({ order: 'A-1' }),
        },
        { requiredKeys: ['network', 'currency', 'amount', 'destination'] },
      ),
    );

  const validOrder = () =>
    fc.constantFrom(...networkNames).chain((network) =>
      fc
        .tuple(
          fc.record(
            {
              external_id: fc.uuid(),
              network: fc.constant(network),
              currency: fc.constantFrom(...currenciesOf(network)),
              customer_id: fc.constant(fixture.customerId),
              expires_in: fc.integer({ min: 60, max: 7 * 24 * 60 * 60 }),
              callback_url: loopbackUrl,
              callback_events: fc.subarray([...callbackStatuses]),
              metadata,
            },
            { requiredKeys: ['external_id', 'network', 'currency'] },
          ),
          fc.oneof(fc.record({ amount: assetAmount }), fc.record({ fiat_amount: fiatAmount, fiat_currency: fc.constantFrom('USD', 'EUR') })),
        )
        .map(([order, price]) => ({ ...order, ...price })),
    );
  const noBody = () => fc.constant({});
  const access = fc.constantFrom('read', 'write');
  // Only as much as the calling (full) key has, so a valid body is granted.
  const validApiKey = () =>
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 100 }).filter((name) => name.trim().length > 0 && !/[\u0000\ud800-\udfff]/.test(name)),
      permissions: fc.oneof(
        fc.constantFrom('full', 'read_only'),
        fc.record(Object.fromEntries(resources.map((resource) => [resource, access])), { requiredKeys: [] }),
      ),
    });

  interface BodyRoute {
    name: string;
    method: 'POST' | 'PATCH';
    path: () => string;
    /** The body's own fields (from its schema, so a new field is fuzzed without editing this file). */
    fields: readonly string[];
    valid: () => fc.Arbitrary<Record<string, unknown>>;
    /** What a valid body gets: 200, or 404 where the object must not exist (see cancel). */
    validStatus: number;
    /** Fields of the object the route refuses by name (`parameter_read_only`) rather than as unknown. */
    readOnly?: readonly string[];
  }

  const bodyRoutes: BodyRoute[] = [
    {
      name: 'POST /customers',
      method: 'POST',
      path: () => '/customers',
      fields: Object.keys(CreateCustomerBody.shape),
      valid: validCustomer,
      validStatus: 200,
    },
    {
      name: 'PATCH /customers/:id',
      method: 'PATCH',
      path: () => `/customers/${fixture.customerId}`,
      fields: Object.keys(UpdateCustomerFields.shape),
      valid: validCustomerUpdate,
      validStatus: 200,
      readOnly: customerReadOnlyFields,
    },
    {
      name: 'POST /deposits/simulate',
      method: 'POST',
      path: () => '/deposits/simulate',
      fields: Object.keys(SimulateDepositBody.shape),
      valid: validSimulation,
      validStatus: 200,
    },
    {
      name: 'POST /webhook-endpoints',
      method: 'POST',
      path: () => '/webhook-endpoints',
      fields: Object.keys(CreateEndpointBody.shape),
      valid: validEndpoint,
      validStatus: 200,
    },
    {
      name: 'PATCH /webhook-endpoints/:id',
      method: 'PATCH',
      path: () => `/webhook-endpoints/${fixture.endpointId}`,
      fields: Object.keys(UpdateEndpointBody.shape),
      valid: validEndpointUpdate,
      validStatus: 200,
    },
    {
      name: 'POST /webhook-endpoints/:id/rotate-secret',
      method: 'POST',
      path: () => `/webhook-endpoints/${fixture.endpointId}/rotate-secret`,
      fields: [],
      valid: noBody,
      validStatus: 200,
    },
    {
      name: 'POST /webhook-endpoints/:id/test',
      method: 'POST',
      path: () => `/webhook-endpoints/${fixture.pingEndpointId}/test`,
      fields: [],
      valid: noBody,
      validStatus: 200,
    },
    { name: 'POST /events/:id/resend', method: 'POST', path: () => `/events/${fixture.eventId}/resend`, fields: [], valid: noBody, validStatus: 200 },
    { name: 'POST /orders', method: 'POST', path: () => '/orders', fields: Object.keys(CreateOrderBody.shape), valid: validOrder, validStatus: 200 },
    {
      name: 'PATCH /account',
      method: 'PATCH',
      path: () => '/account',
      fields: Object.keys(UpdateAccountBody.shape),
      valid: validAccountUpdate,
      validStatus: 200,
    },
    { name: 'POST /api-keys', method: 'POST', path: () => '/api-keys', fields: Object.keys(CreateApiKeyBody.shape), valid: validApiKey, validStatus: 200 },
    // A key that does not exist: rolling the caller's own would lock the rest of the run out.
    {
      name: 'POST /api-keys/:id/roll',
      method: 'POST',
      path: () => `/api-keys/${absentIds[5]}/roll`,
      fields: Object.keys(RollApiKeyBody.shape),
      valid: () => fc.record({ expires_in: fc.integer({ min: 0, max: 7 * 24 * 60 * 60 }) }, { requiredKeys: [] }),
      validStatus: 404,
    },
    // An order that does not exist: cancelling a real one is a Temporal Update, which no worker here answers.
    { name: 'POST /orders/:id/cancel', method: 'POST', path: () => `/orders/${absentIds[4]}/cancel`, fields: [], valid: noBody, validStatus: 404 },
    // The merchant holds nothing here, so a valid payout is refused for its balance: the check after every other.
    { name: 'POST /payouts', method: 'POST', path: () => '/payouts', fields: Object.keys(CreatePayoutBody.shape), valid: validPayout, validStatus: 400 },
    { name: 'POST /payouts/:id/cancel', method: 'POST', path: () => `/payouts/${absentIds[6]}/cancel`, fields: [], valid: noBody, validStatus: 404 },
    { name: 'POST /payouts/:id/approve', method: 'POST', path: () => `/payouts/${absentIds[6]}/approve`, fields: [], valid: noBody, validStatus: 404 },
    {
      name: 'POST /deposits/:id/refunds',
      method: 'POST',
      path: () => `/deposits/${absentIds[1]}/refunds`,
      fields: Object.keys(CreateRefundBody.shape),
      valid: () => fc.record({ destination: evmAddress }),
      validStatus: 404,
    },
  ];

  const mode = fc.constantFrom<'test' | 'live'>('test', 'test', 'test', 'live');
  // A few shared keys, so replays and same-key-other-body conflicts happen; and keys past the 255-character limit.
  const idempotencyKey = fc.option(fc.oneof(fc.constantFrom('fuzz-a', 'fuzz-b', 'fuzz-c'), fc.stringMatching(/^[!-~]{200,300}$/)), { freq: 3, nil: undefined });

  describe.each(bodyRoutes)('$name', (route) => {
    it('answers a valid body as it should (the baseline the near-valid bodies break)', async () => {
      await fc.assert(
        fc.asyncProperty(route.valid(), async (body) => {
          const answer = await sendAndCheck({
            method: route.method,
            path: route.path(),
            mode: 'test',
            body: toJsonText(body),
            contentType: 'application/json',
          });
          expect(answer.status).toBe(route.validStatus);
        }),
        settings(8),
      );
    });

    it('refuses a valid body with an unknown field: 400 parameter_unknown naming it', async () => {
      // Short enough that the body stays under the 64 KB limit.
      const unknownKey = fc
        .oneof(fc.string({ minLength: 1, maxLength: 30 }), hostileKeys)
        .filter((key) => key.length < 5000 && !route.fields.includes(key) && !(route.readOnly ?? []).includes(key));
      await fc.assert(
        fc.asyncProperty(route.valid(), unknownKey, fc.jsonValue({ maxDepth: 1 }), async (body, key, value) => {
          const answer = await sendAndCheck({
            method: route.method,
            path: route.path(),
            mode: 'test',
            body: toJsonText({ ...body, ...Object.fromEntries([[key, value]]) }),
            contentType: 'application/json',
          });
          expect(answer).toEqual({ status: 400, json: { error: expect.objectContaining({ code: 'parameter_unknown', param: key }) } });
        }),
        settings(15),
      );
    });

    it('answers near-valid bodies below 500, in the error shape, writing nothing when it refuses', async () => {
      await fc.assert(
        fc.asyncProperty(nearValidBody(route.valid(), route.fields), mode, idempotencyKey, async (body, callerMode, key) => {
          fc.pre(onlyLocalUrls(body));
          const answer = await sendAndCheck({
            method: route.method,
            path: route.path(),
            mode: callerMode,
            body: toJsonText(body),
            contentType: 'application/json',
            idempotencyKey: key,
          });
          // A 400 about a field names one the route has or the body sent.
          const param = (answer.json as { error?: { param?: string } }).error?.param;
          if (answer.status === 400 && param !== undefined) {
            const named = [...route.fields, ...Object.keys(body), 'Idempotency-Key'];
            expect(named.some((field) => param === field || param.startsWith(`${field}[`))).toBe(true);
          }
        }),
        settings(60),
      );
    });

    it('answers random bodies below 500, in the error shape, writing nothing when it refuses', async () => {
      await fc.assert(
        fc.asyncProperty(randomBody(route.fields.length > 0 ? route.fields : ['x']), mode, async (body, callerMode) => {
          fc.pre(onlyLocalUrls(body.text));
          await sendAndCheck({ method: route.method, path: route.path(), mode: callerMode, body: body.text, contentType: body.contentType });
        }),
        settings(30),
      );
    });
  });

  // Regression: these actions ignored their bodies, so `{"secret": …}` rotated the secret anyway (API.md: unknown fields are a 400).
  it.each([
    ['POST /webhook-endpoints/:id/rotate-secret', () => `/webhook-endpoints/${fixture.endpointId}/rotate-secret`],
    ['POST /webhook-endpoints/:id/test', () => `/webhook-endpoints/${fixture.pingEndpointId}/test`],
    ['POST /events/:id/resend', () => `/events/${fixture.eventId}/resend`],
    ['POST /orders/:id/cancel', () => `/orders/${absentIds[4]}/cancel`],
  ])('%s refuses a parameter it does not take, and does nothing', async (_name, path) => {
    const answer = await sendAndCheck({ method: 'POST', path: path(), mode: 'test', body: '{"secret":"whsec_mine"}', contentType: 'application/json' });
    expect(answer).toEqual({
      status: 400,
      json: { error: expect.objectContaining({ type: 'invalid_request_error', code: 'parameter_unknown', param: 'secret' }) },
    });
  });

  // ---- List queries -------------------------------------------------------------------------

  interface ListRoute {
    path: string;
    /** Values for the route's own parameters, valid and not. */
    params: () => Record<string, fc.Arbitrary<string>>;
    /** Filters a 2xx must honour: query parameter → the listed object's field. */
    filters: Record<string, string>;
  }

  const limit = fc.oneof(fc.integer({ min: 1, max: 100 }).map(String), fc.integer({ min: -5, max: 200 }).map(String), exoticNumberStrings);
  const cursor = () =>
    fc.oneof(fc.constantFrom(...absentIds, fixture.customerId, fixture.depositId, fixture.eventId, fixture.endpointId, fixture.orderId), hostileStrings);
  const enumOrJunk = (values: readonly string[]) =>
    fc.oneof(
      fc.constantFrom(...values),
      fc.constantFrom(...values).map((value) => value.toUpperCase()),
      hostileStrings,
    );

  const listRoutes: ListRoute[] = [
    {
      path: '/customers',
      params: () => ({
        limit,
        starting_after: cursor(),
        email: fc.oneof(fc.constant('fixture@example.com'), hostileStrings),
        external_id: hostileStrings,
        archived: enumOrJunk(['true', 'false']),
      }),
      filters: { email: 'email', external_id: 'external_id' },
    },
    {
      path: '/deposits',
      params: () => ({
        limit,
        starting_after: cursor(),
        customer_id: fc.oneof(fc.constant(fixture.customerId), hostileStrings),
        status: enumOrJunk(depositStatuses),
        network: enumOrJunk(networkNames),
      }),
      filters: { customer_id: 'customer_id', status: 'status', network: 'network' },
    },
    { path: '/events', params: () => ({ limit, starting_after: cursor(), type: enumOrJunk(eventTypes) }), filters: { type: 'event' } },
    { path: '/webhook-endpoints', params: () => ({ limit, starting_after: cursor() }), filters: {} },
    {
      path: '/payouts',
      params: () => ({ limit, starting_after: cursor(), status: enumOrJunk(payoutStatuses), external_id: hostileStrings }),
      filters: { status: 'status', external_id: 'external_id' },
    },
    { path: '/api-keys', params: () => ({ limit, starting_after: cursor() }), filters: {} },
    {
      path: '/orders',
      params: () => ({
        limit,
        starting_after: cursor(),
        status: enumOrJunk(orderStatuses),
        external_id: fc.oneof(fc.constant('fuzz-fixture'), hostileStrings),
      }),
      filters: { status: 'status', external_id: 'external_id' },
    },
    {
      path: '/balance/transactions',
      params: () => ({
        limit,
        starting_after: cursor(),
        deposit_id: fc.oneof(fc.constant(fixture.depositId), hostileStrings),
        type: enumOrJunk(['deposit', 'reversal']),
        network: enumOrJunk(networkNames),
        currency: enumOrJunk(['USDT', 'USDC', 'ETH', 'TRX']),
      }),
      filters: { deposit_id: 'deposit_id', type: 'type', network: 'network', currency: 'currency' },
    },
    {
      path: '/requests',
      params: () => ({
        limit,
        starting_after: cursor(),
        status: enumOrJunk(['200', '400', '404']),
        failed: enumOrJunk(['true', 'false']),
        method: enumOrJunk(['GET', 'POST', 'PATCH', 'DELETE']),
      }),
      filters: { method: 'method' },
    },
  ];

  it('fuzzes every operation of the OpenAPI document that takes a body, and every list', () => {
    const operations = Object.entries(openApiDocument().paths as Record<string, Record<string, { requestBody?: unknown; operationId: string }>>).flatMap(
      ([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, ...operation })),
    );
    const withBody = operations.filter((operation) => operation.requestBody).map((operation) => operation.name);
    expect(withBody.filter((name) => !bodyRoutes.some((route) => route.name === name))).toEqual([]);
    const lists = operations.filter((operation) => operation.operationId.startsWith('list')).map((operation) => operation.name);
    expect(lists.filter((name) => !listRoutes.some((route) => `GET ${route.path}` === name))).toEqual([]);
  });

  describe.each(listRoutes)('GET $path', (route) => {
    it('answers random queries below 500, in the error shape; a list honours its limit, order and filters', async () => {
      await fc.assert(
        fc.asyncProperty(queryString(route.params()), mode, async (query, callerMode) => {
          const answer = await sendAndCheck({ method: 'GET', path: `${route.path}?${query}`, mode: callerMode });
          if (answer.status !== 200) return;
          const list = ListBody.parse(answer.json);
          const params = new URLSearchParams(query);
          const limits = params.getAll('limit');
          expect(list.data.length).toBeLessThanOrEqual(limits.length === 1 ? Number(limits[0]) : 10);
          const ids = list.data.map((item) => item.id);
          expect(ids).toEqual([...ids].sort().reverse());
          const after = params.get('starting_after');
          if (after) expect(ids.every((id) => id < after)).toBe(true);
          for (const [param, field] of Object.entries(route.filters)) {
            const value = params.get(param);
            if (value) expect(list.data.every((item) => item[field] === value)).toBe(true);
          }
        }),
        settings(60),
      );
    });
  });

  // ---- Path ids -----------------------------------------------------------------------------

  it('answers any id in a path below 500, in the error shape, writing nothing', async () => {
    // Every operation with an id in its path, from the OpenAPI document, so a new one is fuzzed without editing this file.
    const templates = Object.entries(openApiDocument().paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.includes('{id}'))
      .flatMap(([path, methods]) =>
        Object.keys(methods).map((method): [FuzzRequest['method'], (id: string) => string] => [
          method.toUpperCase() as FuzzRequest['method'],
          (id) => path.replace('{id}', id),
        ]),
      );
    expect(templates.length).toBeGreaterThanOrEqual(10);
    const id = fc.oneof(
      hostileStrings.filter((text) => text.length > 0 && text.length < 2000).map(encodeSegment),
      fc.constantFrom(...absentIds),
      // No `.` or `..`: the client resolves those away, onto other routes.
      fc.constantFrom('%', '%ZZ', '%ED%A0%80', '%E0%A4%A', '%00', 'a..b', '%2F', 'a%2Fb', '%C0%AF', '%25'),
      fc.stringMatching(/^[a-z]{2,3}_[0-9a-z%]{0,30}$/),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...templates), id, mode, async ([method, path], segment, callerMode) => {
        const answer = await sendAndCheck({
          method,
          path: path(segment),
          mode: callerMode,
          ...(method === 'GET' ? {} : { body: '{}', contentType: 'application/json' }),
        });
        // None of these ids names an object of this merchant.
        expect(answer.status).toBeGreaterThanOrEqual(400);
      }),
      settings(100),
    );
  });
});
