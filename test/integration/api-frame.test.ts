import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { hashApiKey } from '../../src/domain/api-keys';
import { revokeApiKey } from '../../src/api-keys/api-keys.repository';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import type { TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import type { TestDatabase } from '../helpers/database';
import { buildMerchant, testHealthToken } from '../../dev/fixtures';

/** node:http, not fetch: fetch refuses to send TRACE at all. */
function rawRequest(method: string, url: string, key?: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers: key ? { Authorization: `Bearer ${key}` } : {} }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('API frame: auth, errors, body limits, request ids (real app, Postgres and Temporal)', () => {
  let database: TestDatabase;
  let stack: TestStack;
  let api: TestApi;
  let acme: CreatedMerchant;

  beforeAll(async () => {
    stack = await startTestStack('api-frame', { worker: false });
    ({ database, api } = stack);
    acme = await buildMerchant(database.db, 'Acme');
  });

  afterAll(async () => {
    await stack?.stop();
    await database?.destroy();
  });

  describe('authentication', () => {
    it('lets a valid test key through, in test mode', async () => {
      const response = await api.request('/api/v1/nothing-here', { key: acme.test_key });
      // Past auth, an unknown path is a 404 in the contract's shape.
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: { type: 'invalid_request_error', code: 'resource_missing', message: expect.stringContaining('/api/v1/nothing-here') },
      });
      expect(api.logs.at(-1)).toMatchObject({ merchant_id: acme.merchant_id, livemode: false, status: 404 });
    });

    it('lets a valid live key through, in live mode', async () => {
      const response = await api.request('/api/v1/nothing-here', { key: acme.live_key });
      expect(response.status).toBe(404);
      expect(api.logs.at(-1)).toMatchObject({ merchant_id: acme.merchant_id, livemode: true });
    });

    const badKeys: Array<[string, () => Promise<Record<string, string>>]> = [
      ['missing', async () => ({})],
      ['not a bearer token', async () => ({ Authorization: `Basic ${Buffer.from(`${acme.test_key}:`).toString('base64')}` })],
      ['malformed', async () => ({ Authorization: 'Bearer sk_test_short' })],
      ['of an unknown kind', async () => ({ Authorization: `Bearer pk_test_${acme.test_key.slice(8)}` })],
      ['well-formed but unknown', async () => ({ Authorization: `Bearer sk_test_${'A'.repeat(43)}` })],
      ['a test key relabelled as live', async () => ({ Authorization: `Bearer sk_live_${acme.test_key.slice(8)}` })],
      [
        'revoked',
        async () => {
          const revoked = await buildMerchant(database.db, 'Revoked Ltd');
          const row = await database.db.selectFrom('api_keys').select('id').where('key_hash', '=', hashApiKey(revoked.test_key)).executeTakeFirstOrThrow();
          await revokeApiKey(database.db, row.id);
          return { Authorization: `Bearer ${revoked.test_key}` };
        },
      ],
    ];

    it.each(badKeys)('answers 401, identically and after the same single lookup, for a key that is %s', async (_label, headersFor) => {
      const headers = await headersFor();
      database.queries.length = 0;
      const response = await api.request('/api/v1/nothing-here', { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="inflow"');
      expect(await response.json()).toEqual({
        error: { type: 'authentication_error', code: 'api_key_invalid', message: expect.stringContaining('Invalid API key') },
      });
      // Constant work, whatever was wrong: one indexed lookup by hash, nothing else. (The request
      // log's batch of earlier, authenticated requests may be written meanwhile, on its own timer.)
      expect(database.queries.filter((query) => !query.startsWith('insert into "api_requests"'))).toEqual([
        expect.stringMatching(/from "api_keys" where "key_hash" = \$1 and "revoked_at" is null/),
      ]);
    });

    it('never stores a key in plain text', async () => {
      const rows = await database.db.selectFrom('api_keys').selectAll().where('merchant_id', '=', acme.merchant_id).execute();
      expect(rows).toHaveLength(2);
      const stored = JSON.stringify(rows);
      for (const key of [acme.test_key, acme.live_key]) {
        expect(stored).not.toContain(key);
        expect(stored).not.toContain(key.slice(8, 40));
        expect(rows.map((row) => row.key_hash)).toContain(hashApiKey(key));
      }
      expect(rows.find((row) => row.livemode)?.redacted).toBe(`sk_live_…${acme.live_key.slice(-4)}`);
    });
  });

  describe('request bodies', () => {
    it('are not read before authentication: an anonymous request gets its 401 whatever its body', async () => {
      for (const body of ['{"name": ', 'x'.repeat(70 * 1024)]) {
        const response = await api.request('/api/v1/customers', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        expect(response.status).toBe(401);
      }
    });

    it('answers 413 for a body over 64 KB', async () => {
      const response = await api.request('/api/v1/customers', {
        method: 'POST',
        key: acme.test_key,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'x'.repeat(64 * 1024) }),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({
        error: { type: 'invalid_request_error', code: 'body_too_large', message: 'Request bodies may be at most 64 KB.' },
      });
    });

    it('answers 400 for invalid JSON', async () => {
      const response = await api.request('/api/v1/customers', {
        method: 'POST',
        key: acme.test_key,
        headers: { 'Content-Type': 'application/json' },
        body: '{"name": ',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'json_invalid' } });
    });

    it('answers 400 for JSON that is not an object, and for a body that is not JSON', async () => {
      const array = await api.request('/api/v1/customers', { method: 'POST', key: acme.test_key, json: [1, 2] });
      expect(array.status).toBe(400);
      const form = await api.request('/api/v1/customers', {
        method: 'POST',
        key: acme.test_key,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'name=Ada',
      });
      expect(form.status).toBe(400);
      expect(await form.json()).toMatchObject({ error: { code: 'content_type_invalid' } });
    });

    it('refuses an Idempotency-Key on a write that does not honour one, and writes nothing', async () => {
      const customer = (await (await api.request('/api/v1/customers', { method: 'POST', key: acme.test_key, json: { name: 'Before' } })).json()) as {
        id: string;
      };
      const patched = await api.request(`/api/v1/customers/${customer.id}`, {
        method: 'PATCH',
        key: acme.test_key,
        headers: { 'Idempotency-Key': 'patch-once' },
        json: { name: 'After' },
      });
      expect(patched.status).toBe(400);
      expect(await patched.json()).toMatchObject({ error: { code: 'idempotency_key_not_supported', param: 'Idempotency-Key' } });
      const unchanged = (await (await api.request(`/api/v1/customers/${customer.id}`, { key: acme.test_key })).json()) as { name: string };
      expect(unchanged.name).toBe('Before');
      const keys = await api.request('/api/v1/api-keys', {
        method: 'POST',
        key: acme.test_key,
        headers: { 'Idempotency-Key': 'k1' },
        json: { name: 'x', permissions: 'full' },
      });
      expect(keys.status).toBe(400);
      // Where it is honoured, it still is.
      const created = await api.request('/api/v1/customers', { method: 'POST', key: acme.test_key, headers: { 'Idempotency-Key': 'honoured' }, json: {} });
      expect(created.status).toBe(200);
    });

    it("says what is wrong with a parameter in the API's words, not the validation library's", async () => {
      const messageOf = async (path: string, json?: unknown) => {
        const response = await api.request(`/api/v1${path}`, { key: acme.test_key, ...(json ? { method: 'POST', json } : {}) });
        expect(response.status).toBe(400);
        return ((await response.json()) as { error: { message: string } }).error.message;
      };
      expect(await messageOf('/customers?email=')).toBe('Invalid email: must not be empty');
      expect(await messageOf('/customers', { email: 'ada' })).toBe('Invalid email: must be a valid email');
      expect(await messageOf('/customers', { name: 'x'.repeat(300) })).toMatch(/^Invalid name: must be at most \d+ characters long$/);
      expect(await messageOf('/customers', { name: 5 })).toBe('Invalid name: must be a string');
      expect(await messageOf('/deposits?status=lost')).toMatch(/^Invalid status: must be one of "detected", /);
      expect(await messageOf('/webhook-endpoints', { url: 'http://127.0.0.1:1/hook', events: [] })).toBe('Invalid events: must have at least 1 item');
      expect(await messageOf('/events?created[gte]=monday')).toBe('Invalid created[gte]: must be an ISO 8601 time with its offset, e.g. 2026-12-01T00:00:00Z');
    });
  });

  describe('request ids and logs', () => {
    it('puts a request id in a response header and in one JSON log line per request', async () => {
      const response = await api.request('/healthz');
      const requestId = response.headers.get('request-id');
      expect(requestId).toMatch(/^req_[0-9a-z]{26}$/);
      const line = api.logs.find((entry) => entry.request_id === requestId);
      expect(line).toMatchObject({ msg: 'request', method: 'GET', path: '/healthz', status: 200, level: 'info', service: 'inflow' });
      expect(typeof line?.duration_ms).toBe('number');
    });

    // RFC 9110 §15.5.5: a method the path does not serve is a 405 naming the ones it does.
    it.each([
      ['TRACE', '/api/v1/customers', 'GET, HEAD, POST'],
      ['PUT', '/api/v1/customers/cus_00000000000000000000000000', 'GET, HEAD, PATCH, DELETE'],
      ['DELETE', '/api/v1/balance', 'GET, HEAD'],
      ['GET', '/api/v1/orders/ord_00000000000000000000000000/cancel', 'POST'],
    ])('answers %s %s, a method the path does not serve, with 405 and Allow', async (method, path, allow) => {
      const { status, headers, body } = await rawRequest(method, `${api.baseUrl}${path}`, acme.test_key);
      expect(status).toBe(405);
      expect(headers.allow?.split(', ').sort()).toEqual(allow.split(', ').sort());
      expect(JSON.parse(body)).toEqual({
        error: { type: 'invalid_request_error', code: 'method_not_allowed', message: expect.stringContaining(allow.split(', ')[0]!) },
      });
    });

    it('answers 401 before 405: an anonymous client learns nothing of the paths', async () => {
      expect((await rawRequest('TRACE', `${api.baseUrl}/api/v1/customers`)).status).toBe(401);
    });

    it('answers unknown paths outside the API with a 404 in the contract shape', async () => {
      const response = await api.request('/no/such/thing');
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'resource_missing' } });
    });
  });

  describe('GET /healthz', () => {
    it('reports Postgres and Temporal up (detailed, with the operator token)', async () => {
      const response = await api.request('/healthz?detail', { key: testHealthToken });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        status: 'ok',
        postgres: { status: 'up', latency_ms: expect.any(Number) },
        temporal: { status: 'up', latency_ms: expect.any(Number) },
        outbox: { queued: 0, oldest_age_s: null },
        chains: [],
        // No worker here has a signer, so no sweep Schedule exists, and the answer says what that means.
        treasury: {
          sweeps: { under_way: 0, failed_24h: 0, last_completed_at: null },
          reconciliation: { differences_24h: 0, last_difference_at: null, operator_events_undelivered: 0 },
          sweep_schedules: [],
          note: expect.stringMatching(/^no sweep Schedules: no worker has a signer/),
        },
      });
    });
  });
});
