/**
 * The request log (docs/api.md, "The request log"): every authenticated request found by its
 * `Request-Id`, its errors, what is never kept, tenant isolation, the list's filters, the batch
 * writer's flush, drop and bound, and the retention prune. Real app and Postgres, no worker.
 *
 * The app's log is given a flush interval of an hour, so nothing is written unless a test (or a
 * lookup that misses, or a full batch) asks: what a test sees written was written because of it.
 */
import { Writable } from 'node:stream';
import { buildMerchant } from '../../dev/fixtures';
import { pruneRequestLog } from '../../src/activities/maintenance.activities';
import { createDb } from '../../src/db/database';
import { newId } from '../../src/domain/ids';
import { createLogger } from '../../src/logger';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import { RequestLog } from '../../src/requests/request-log';
import { deleteApiRequestsBefore } from '../../src/requests/requests.repository';
import type { TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/wait';

/** A logger whose lines a test reads. */
function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger('info', { process: 'test' }, sink) };
}

describe('the request log (real app and Postgres)', () => {
  let stack: TestStack;
  let database: TestDatabase;
  let api: TestApi;
  let acme: CreatedMerchant;
  let requestLog: RequestLog;
  const logged = memoryLogger();

  beforeAll(async () => {
    stack = await startTestStack('requests', {
      worker: false,
      api: (inflow) => {
        requestLog = new RequestLog(inflow.db, logged.logger, { flushIntervalMs: 3_600_000 });
        return { requestLog };
      },
    });
    ({ database, api } = stack);
    acme = await buildMerchant(database.db, 'Acme');
  });
  afterAll(async () => {
    await stack?.stop();
    await database?.destroy();
  });

  const call = async (key: string, method: string, path: string, init: { json?: unknown; headers?: Record<string, string> } = {}) => {
    const response = await api.request(`/api/v1${path}`, { method, key, ...init });
    return { status: response.status, requestId: response.headers.get('Request-Id')!, body: (await response.json()) as any };
  };
  const stored = (id: string) => database.db.selectFrom('api_requests').selectAll().where('id', '=', id).executeTakeFirst();

  it('finds a request by its Request-Id right after its answer, with its method, path, operation and status, and nothing of its key or body', async () => {
    const created = await call(acme.test_key, 'POST', '/customers', { json: { email: 'ada@example.com', name: 'Ada' } });
    expect(created.status).toBe(200);
    // Waiting in memory, not written: the answer did not wait for the database.
    expect(requestLog.pending).toBeGreaterThanOrEqual(1);
    expect(await stored(created.requestId)).toBeUndefined();

    // The lookup misses, writes what waits and looks again.
    const found = await call(acme.test_key, 'GET', `/requests/${created.requestId}`);
    expect(found.status).toBe(200);
    expect(found.body).toEqual({
      id: created.requestId,
      object: 'request',
      livemode: false,
      api_key_id: expect.stringMatching(/^key_/),
      method: 'POST',
      path: '/api/v1/customers',
      operation_id: 'createCustomer',
      status: 200,
      error: null,
      idempotency_key: null,
      duration_ms: expect.any(Number),
      created_at: expect.any(String),
    });
    const account = await call(acme.test_key, 'GET', '/account');
    expect(found.body.api_key_id).toBe(account.body.api_key.id);
    const row = JSON.stringify(await stored(created.requestId));
    expect(row).not.toContain(acme.test_key);
    expect(row).not.toContain('ada@example.com');
  });

  it('keeps the error of a refused request, and its Idempotency-Key', async () => {
    const missing = await call(acme.test_key, 'GET', `/customers/${newId('customer')}`);
    expect(missing.status).toBe(404);
    const invalid = await call(acme.test_key, 'POST', '/customers', { json: { email: 'not an email' }, headers: { 'Idempotency-Key': 'retry-1' } });
    expect(invalid.status).toBe(400);

    const notFound = (await call(acme.test_key, 'GET', `/requests/${missing.requestId}`)).body;
    expect(notFound).toMatchObject({
      method: 'GET',
      operation_id: 'retrieveCustomer',
      status: 404,
      error: { type: 'invalid_request_error', code: 'resource_missing', message: missing.body.error.message, param: 'id' },
    });
    expect((await call(acme.test_key, 'GET', `/requests/${invalid.requestId}`)).body).toMatchObject({
      method: 'POST',
      path: '/api/v1/customers',
      status: 400,
      error: { type: 'invalid_request_error', code: 'parameter_invalid', param: 'email' },
      idempotency_key: 'retry-1',
    });
    // A path no route serves is logged too, without an operation.
    const unknown = await call(acme.test_key, 'GET', '/nowhere');
    expect((await call(acme.test_key, 'GET', `/requests/${unknown.requestId}`)).body).toMatchObject({
      path: '/api/v1/nowhere',
      operation_id: null,
      status: 404,
    });
  });

  it('does not log a request whose key did not authenticate', async () => {
    const refused = await call(`sk_test_${'x'.repeat(43)}`, 'GET', '/customers');
    expect(refused.status).toBe(401);
    expect(refused.requestId).toMatch(/^req_/);
    await requestLog.flush();
    expect(await stored(refused.requestId)).toBeUndefined();
    expect((await call(acme.test_key, 'GET', `/requests/${refused.requestId}`)).status).toBe(404);
  });

  it("answers another merchant's or another mode's request id with the 404 of an id never logged", async () => {
    const other = await buildMerchant(database.db, 'Other');
    const mine = await call(acme.test_key, 'GET', '/balance');
    await requestLog.flush();
    expect(await stored(mine.requestId)).toBeDefined();
    const never = newId('request');
    const answerFor = async (key: string, id: string) => {
      const answer = await call(key, 'GET', `/requests/${id}`);
      return { status: answer.status, body: JSON.parse(JSON.stringify(answer.body).replaceAll(id, 'ID')) };
    };
    const nothing = await answerFor(acme.test_key, never);
    expect(nothing).toEqual({
      status: 404,
      body: { error: { type: 'invalid_request_error', code: 'resource_missing', message: "No such request: 'ID'", param: 'id' } },
    });
    expect(await answerFor(other.test_key, mine.requestId)).toEqual(nothing);
    expect(await answerFor(acme.live_key, mine.requestId)).toEqual(nothing);
    // Nor does another merchant's list show it.
    await requestLog.flush();
    expect((await call(other.test_key, 'GET', '/requests?limit=100')).body.data.map((request: { id: string }) => request.id)).not.toContain(mine.requestId);
  });

  it('never keeps a query string', async () => {
    const search = await call(acme.test_key, 'GET', '/customers?search=grace%40example.com&limit=5');
    const badSearch = await call(acme.test_key, 'GET', '/customers?search=grace%40example.com&limit=500');
    expect(badSearch.status).toBe(400);
    await requestLog.flush();
    expect(await stored(search.requestId)).toMatchObject({ path: '/api/v1/customers', status: 200 });
    expect(await stored(badSearch.requestId)).toMatchObject({ path: '/api/v1/customers', status: 400, error_param: 'limit' });
    for (const id of [search.requestId, badSearch.requestId]) {
      const row = JSON.stringify(await stored(id));
      expect(row).not.toContain('grace');
      expect(row).not.toContain('search=');
    }
  });

  it('lists requests newest first, filtered by status, failure, method and key, in pages and creation windows', async () => {
    const merchant = await buildMerchant(database.db, 'Lister');
    const key = merchant.test_key;
    const first = await call(key, 'GET', '/customers');
    const failed = await call(key, 'GET', `/orders/${newId('order')}`);
    const posted = await call(key, 'POST', '/customers', { json: {} });
    await requestLog.flush();
    const ids = async (query: string) => (await call(key, 'GET', `/requests${query}`)).body.data.map((request: { id: string }) => request.id);

    expect(await ids('')).toEqual([posted.requestId, failed.requestId, first.requestId]);
    expect(await ids('?status=404')).toEqual([failed.requestId]);
    expect(await ids('?failed=true')).toEqual([failed.requestId]);
    expect(await ids('?failed=false&method=GET')).toEqual([first.requestId]);
    expect(await ids('?method=POST')).toEqual([posted.requestId]);
    const account = await call(key, 'GET', '/account');
    expect(await ids(`?api_key_id=${account.body.api_key.id}&limit=1&starting_after=${failed.requestId}`)).toEqual([first.requestId]);
    expect(await ids(`?created[gte]=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    // The lists themselves were logged since.
    await requestLog.flush();
    expect((await ids('?limit=2')).length).toBe(2);
    const page = (await call(key, 'GET', '/requests?limit=1')).body;
    expect(page).toMatchObject({ object: 'list', has_more: true });

    expect((await call(key, 'GET', '/requests?status=99')).status).toBe(400);
    expect((await call(key, 'GET', '/requests?failed=yes')).status).toBe(400);
    expect((await call(key, 'GET', `/requests?starting_after=${newId('request')}`)).body.error).toMatchObject({
      code: 'resource_missing',
      param: 'starting_after',
    });
  });

  it('is read with the requests permission: full and read_only keys have it, a restricted key only when granted', async () => {
    const granted = await call(acme.test_key, 'POST', '/api-keys', { json: { name: 'Support', permissions: { requests: 'read' } } });
    const denied = await call(acme.test_key, 'POST', '/api-keys', { json: { name: 'Orders', permissions: { orders: 'write' } } });
    const readOnly = await call(acme.test_key, 'POST', '/api-keys', { json: { name: 'Reader', permissions: 'read_only' } });
    expect((await call(granted.body.secret, 'GET', '/requests')).status).toBe(200);
    expect((await call(readOnly.body.secret, 'GET', `/requests/${granted.requestId}`)).status).toBe(200);
    expect((await call(denied.body.secret, 'GET', '/requests')).body.error).toMatchObject({ code: 'api_key_permission_denied' });
  });

  it('drops a batch the database refuses with a warning, and the request it came from was answered all the same', async () => {
    await requestLog.flush();
    await database.db.schema.alterTable('api_requests').renameTo('api_requests_away').execute();
    let answered: Awaited<ReturnType<typeof call>>;
    try {
      answered = await call(acme.test_key, 'GET', '/balance');
      expect(answered.status).toBe(200);
      await requestLog.flush();
    } finally {
      await database.db.schema.alterTable('api_requests_away').renameTo('api_requests').execute();
    }
    expect(logged.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', dropped: 1, msg: expect.stringContaining('request log: the database refused a batch') }),
    );
    expect(requestLog.pending).toBe(0);
    expect(await stored(answered.requestId)).toBeUndefined();
    // The log goes on with the next batch.
    const next = await call(acme.test_key, 'GET', '/balance');
    expect((await call(acme.test_key, 'GET', `/requests/${next.requestId}`)).status).toBe(200);
  });
});

describe('the request log writer (Postgres)', () => {
  let database: TestDatabase;
  let merchant: CreatedMerchant;

  beforeAll(async () => {
    database = await createTestDatabase();
    merchant = await buildMerchant(database.db, 'Writer');
  });
  afterAll(async () => {
    await database?.destroy();
  });

  const row = (id = newId('request'), createdAt = new Date()) => ({
    id,
    merchant_id: merchant.merchant_id,
    livemode: false,
    api_key_id: newId('apiKey'),
    method: 'GET',
    path: '/api/v1/balance',
    operation_id: 'retrieveBalance',
    status: 200,
    error_type: null,
    error_code: null,
    error_message: null,
    error_param: null,
    idempotency_key: null,
    duration_ms: 1,
    created_at: createdAt,
  });
  const count = async () =>
    Number(
      (
        await database.db
          .selectFrom('api_requests')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('writes a full batch at once, and what is left on close', async () => {
    await database.db.deleteFrom('api_requests').execute();
    const { logger } = memoryLogger();
    const log = new RequestLog(database.db, logger, { flushIntervalMs: 3_600_000, batchSize: 2 });
    for (let i = 0; i < 5; i++) log.record(row());
    // Two full batches go without the timer; the fifth waits for it, or for close.
    await waitFor('two full batches are written', async () => (await count()) === 4);
    expect(log.pending).toBe(1);
    await log.close();
    expect(await count()).toBe(5);
    // Closed: a late record is dropped, not written.
    log.record(row());
    await log.flush();
    expect(await count()).toBe(5);
  });

  it('holds at most maxBuffered records while the database is unreachable, and drops a refused batch with all that waits behind it, with warnings', async () => {
    const { lines, logger } = memoryLogger();
    const unreachable = createDb('postgres://inflow:none@127.0.0.1:1/none');
    try {
      const log = new RequestLog(unreachable, logger, { flushIntervalMs: 3_600_000, batchSize: 2, maxBuffered: 4 });
      for (let i = 0; i < 6; i++) log.record(row());
      // Two full batches are queued; nothing has been taken yet, and the bound refused two.
      expect(log.pending).toBe(4);
      expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringContaining('records are being dropped') }));
      await log.close();
      expect(log.pending).toBe(0);
      // One failed insert, not one per batch: the second batch went with the first.
      const refused = lines.filter((line) => String(line.msg).includes('the database refused a batch'));
      expect(refused).toEqual([expect.objectContaining({ level: 'warn', dropped: 4 })]);
      expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', dropped: 2, msg: expect.stringContaining('while the buffer was full') }));
    } finally {
      await unreachable.destroy();
    }
  });

  it('prunes requests older than the retention, and only those, a bounded batch per statement', async () => {
    await database.db.deleteFrom('api_requests').execute();
    const now = new Date('2026-12-07T12:00:00Z');
    const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);
    const old = [row(newId('request', daysAgo(31).getTime()), daysAgo(31)), row(newId('request', daysAgo(45).getTime()), daysAgo(45))];
    const kept = [row(newId('request', daysAgo(29).getTime()), daysAgo(29)), row(newId('request', now.getTime()), now)];
    await database.db
      .insertInto('api_requests')
      .values([...old, ...kept])
      .execute();
    expect(await deleteApiRequestsBefore(database.db, daysAgo(30), 1)).toBe(1);
    expect(await pruneRequestLog(database.db, 30, now)).toEqual({ deleted: 1, olderThanDays: 30, more: false });
    const left = (await database.db.selectFrom('api_requests').select('id').orderBy('id').execute()).map((request) => request.id);
    expect(left).toEqual(kept.map((request) => request.id));
  });
});
