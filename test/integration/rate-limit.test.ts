import { grantsOf } from '../../src/domain/permissions';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { errorHandler } from '../../src/api/middleware/errors';
import { rateLimit } from '../../src/api/middleware/rate-limit';
import type { AppState } from '../../src/api/context';
import { createDb, type Database } from '../../src/db/database';
import { consumeRateLimit } from '../../src/api/rate-limits.repository';
import { hashApiKey } from '../../src/domain/api-keys';
import { defaultRateLimits, rateDecision, ratePolicy, type RateLimitSettings } from '../../src/domain/rate-limits';
import { createLogger } from '../../src/logger';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { freePort } from '../../dev/tools/ports';
import { buildMerchant, testSecretKeyHex, testXpubEnv } from '../../dev/fixtures';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { ScriptProcess } from '../helpers/script-process';
import { readTestEnv } from '../helpers/test-env';
import { waitFor } from '../helpers/wait';

const READS = 5;
const WINDOW_SECONDS = 10;
// As many as the rate test sends one process at once, so that test meets only the rate.
const CONCURRENT = 5;
// A merchant's writes in progress: above one key's cap, so the concurrency test meets that cap only,
// and below two keys' (a merchant's test and live key), so the write test meets this one.
const WRITES_PER_MERCHANT = CONCURRENT + 1;
const POLICY_FIELD = `"reads";q=${READS};w=${WINDOW_SECONDS}, "writes";q=1000;w=${WINDOW_SECONDS}, "concurrent";q=${CONCURRENT};qu="concurrent-requests", "concurrent-writes";q=${WRITES_PER_MERCHANT};qu="concurrent-requests"`;

/** One `npm run api`, as an operator starts it, on its own port. */
async function startApiProcess(env: Record<string, string>): Promise<{ process: ScriptProcess; baseUrl: string }> {
  const port = await freePort();
  const script = new ScriptProcess(['npm', 'run', '--silent', 'api'], { ...env, PORT: String(port) });
  await script.waitForOutput(/API listening/);
  return { process: script, baseUrl: `http://127.0.0.1:${port}` };
}

async function stopApiProcess(api: { process: ScriptProcess } | undefined): Promise<void> {
  if (!api) return;
  api.process.signal('SIGINT');
  await api.process.exited;
}

const call = (baseUrl: string, key: string, method: string, path: string) =>
  fetch(`${baseUrl}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(15_000) });

/**
 * A POST whose body is sent only when the test says so: the request stays in progress (the app is
 * reading its body) for as long as the test likes, a real slow path with no test-only route.
 */
function heldPost(baseUrl: string, key: string, body: string) {
  const url = new URL(`${baseUrl}/api/v1/customers`);
  const request = http.request({
    host: url.hostname,
    port: url.port,
    method: 'POST',
    path: url.pathname,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
  });
  const response = new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    request.once('error', reject);
    request.once('response', (incoming) => {
      let text = '';
      incoming.on('data', (chunk: Buffer) => (text += chunk.toString()));
      incoming.once('end', () => resolve({ status: incoming.statusCode!, body: JSON.parse(text) }));
    });
  });
  request.write(body.slice(0, 1));
  return { response, finish: () => request.end(body.slice(1)) };
}

const remainingOf = (response: Response) => Number(/;r=(\d+)/.exec(response.headers.get('ratelimit') ?? '')?.[1]);

/**
 * The real rate-limit middleware on `db` behind a stand-in for auth (the caller a merchant's, its key
 * the one the query string names, else `key_x`), answering 200 `{ok: true}`: its URL, and how to close it.
 */
async function serveLimiter(db: Kysely<Database>, settings: RateLimitSettings, merchantId = 'mch_x'): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Koa<AppState>();
  app.use(errorHandler(createLogger('silent')));
  app.use(async (ctx, next) => {
    ctx.state.caller = { merchantId, apiKeyId: String(ctx.query.key ?? 'key_x'), mode: 'test', livemode: false, grants: grantsOf('full') };
    return next();
  });
  app.use(rateLimit(db, settings));
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  const server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('per-API-key limits across two API processes (npm run api twice, one database)', () => {
  let database: TestDatabase;
  let acme: CreatedMerchant;
  let globex: CreatedMerchant;
  let initech: CreatedMerchant;
  let umbrella: CreatedMerchant;
  let first: { process: ScriptProcess; baseUrl: string } | undefined;
  let second: { process: ScriptProcess; baseUrl: string } | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    [acme, globex, initech, umbrella] = await Promise.all([
      buildMerchant(database.db, 'Acme'),
      buildMerchant(database.db, 'Globex'),
      buildMerchant(database.db, 'Initech'),
      buildMerchant(database.db, 'Umbrella'),
    ]);
    const env = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
      LOG_LEVEL: 'info',
      INFLOW_SECRET_KEY: testSecretKeyHex,
      ...testXpubEnv(),
      // 5 reads per 10 s: a burst of 5, then one more every 2 s.
      INFLOW_RATE_LIMIT_READS: String(READS),
      INFLOW_RATE_LIMIT_WRITES: '1000',
      INFLOW_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
      INFLOW_CONCURRENT_REQUESTS_PER_KEY: String(CONCURRENT),
      INFLOW_CONCURRENT_WRITES_PER_MERCHANT: String(WRITES_PER_MERCHANT),
    };
    [first, second] = await Promise.all([startApiProcess(env), startApiProcess(env)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([stopApiProcess(first), stopApiProcess(second)]);
    await database?.destroy();
  });

  it('admits one quota in all between the two processes, refuses the rest with 429, Retry-After and RateLimit, and admits again after Retry-After', async () => {
    const processes = [first!.baseUrl, second!.baseUrl];
    // Ten reads at once, alternating between the processes: each process alone would admit all five it gets.
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => call(processes[i % 2]!, acme.test_key, 'GET', '/customers')));
    const admitted = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status === 429);
    expect([admitted.length, refused.length]).toEqual([READS, 10 - READS]);
    // One shared count: the five admitted requests saw 4, 3, 2, 1 and 0 remaining, whichever process served them.
    expect(admitted.map(remainingOf).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const response of responses) expect(response.headers.get('ratelimit-policy')).toBe(POLICY_FIELD);
    for (const response of admitted) expect(response.headers.get('ratelimit')).toMatch(/^"reads";r=[0-4];t=([1-9]|10)$/);

    let retryAfter = 0;
    for (const response of refused) {
      const seconds = Number(response.headers.get('retry-after'));
      // A refused read waits for one emission interval (10 s / 5 = 2 s) at most.
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(2);
      expect(response.headers.get('ratelimit')).toBe(`"reads";r=0;t=${seconds}`);
      expect(await response.json()).toEqual({
        error: {
          type: 'rate_limit_error',
          code: 'rate_limit_exceeded',
          message: expect.stringMatching(/may make 5 read requests per 10 s\. Retry after \d s\./),
        },
      });
      retryAfter = Math.max(retryAfter, seconds);
    }

    // Writes have their own quota (1000 per 10 s: one every 10 ms), and another key its own. Errors carry the fields too.
    const write = await call(first!.baseUrl, acme.test_key, 'POST', '/probe');
    expect(write.status).toBe(404);
    expect(write.headers.get('ratelimit')).toBe('"writes";r=999;t=1');
    const otherKey = await call(second!.baseUrl, globex.test_key, 'GET', '/customers');
    expect(otherKey.status).toBe(200);
    expect(otherKey.headers.get('ratelimit')).toMatch(/^"reads";r=4;t=\d+$/);

    // Refused requests took nothing: once Retry-After has passed, one unit has come back, on either process.
    let attempt = 0;
    let again: Response | undefined;
    await waitFor(
      'a read admitted again after Retry-After',
      async () => {
        again = await call(processes[attempt++ % 2]!, acme.test_key, 'GET', '/customers');
        return again.status === 200;
      },
      (retryAfter + 5) * 1000,
    );
    expect(again!.headers.get('ratelimit')).toMatch(/^"reads";r=0;t=\d+$/);

    // State is one row per key and policy, however many requests: nothing to purge.
    const rows = await database.db.selectFrom('rate_limits').select(['api_key_id', 'policy']).orderBy('api_key_id').orderBy('policy').execute();
    const keyId = async (key: string) =>
      (await database.db.selectFrom('api_keys').select('id').where('key_hash', '=', hashApiKey(key)).executeTakeFirstOrThrow()).id;
    expect(rows).toEqual(
      expect.arrayContaining([
        { api_key_id: await keyId(acme.test_key), policy: 'reads' },
        { api_key_id: await keyId(acme.test_key), policy: 'writes' },
        { api_key_id: await keyId(globex.test_key), policy: 'reads' },
      ]),
    );
    expect(rows).toHaveLength(3);
  });

  it('caps the requests one key has in progress in a process, and frees a slot when one ends', async () => {
    const held = Array.from({ length: CONCURRENT }, (_, i) => heldPost(first!.baseUrl, initech.test_key, JSON.stringify({ external_id: `held_${i}` })));
    // The slots fill as the held requests arrive; until then a fourth request is served.
    let refused: Response | undefined;
    await waitFor('a request beyond the cap refused', async () => {
      refused = await call(first!.baseUrl, initech.test_key, 'POST', '/probe');
      return refused.status === 429;
    });
    expect(refused!.headers.get('retry-after')).toBe('1');
    expect(refused!.headers.get('ratelimit')).toBe('"concurrent";r=0');
    expect(refused!.headers.get('ratelimit-policy')).toBe(POLICY_FIELD);
    expect(await refused!.json()).toEqual({
      error: {
        type: 'rate_limit_error',
        code: 'concurrency_limit_exceeded',
        message: expect.stringContaining(`already has ${CONCURRENT} requests in progress`),
      },
    });

    // The cap is per key, and per process (docs/limits.md says why): the other process still serves this key.
    expect((await call(first!.baseUrl, globex.test_key, 'POST', '/probe')).status).toBe(404);
    expect((await call(second!.baseUrl, initech.test_key, 'POST', '/probe')).status).toBe(404);

    held[0]!.finish();
    expect((await held[0]!.response).status).toBe(200);
    expect((await call(first!.baseUrl, initech.test_key, 'POST', '/probe')).status).toBe(404);

    for (const request of held.slice(1)) request.finish();
    expect((await Promise.all(held.slice(1).map((request) => request.response))).map((answer) => answer.status)).toEqual(Array(CONCURRENT - 1).fill(200));
  });

  it("caps one merchant's writes in progress over all its keys, both modes, and frees a place when one ends", async () => {
    // Three writes of each of the merchant's keys: each key below its own cap, the merchant at its.
    const held = Array.from({ length: WRITES_PER_MERCHANT }, (_, i) =>
      heldPost(first!.baseUrl, i % 2 ? umbrella.live_key : umbrella.test_key, JSON.stringify({ external_id: `writes_${i}` })),
    );
    let refused: Response | undefined;
    await waitFor('a write beyond the merchant cap refused', async () => {
      refused = await call(first!.baseUrl, umbrella.test_key, 'POST', '/probe');
      return refused.status === 429;
    });
    expect(refused!.headers.get('retry-after')).toBe('1');
    expect(refused!.headers.get('ratelimit')).toBe('"concurrent-writes";r=0');
    expect(await refused!.json()).toEqual({
      error: {
        type: 'rate_limit_error',
        code: 'concurrency_limit_exceeded',
        message: expect.stringContaining(`This account already has ${WRITES_PER_MERCHANT} write requests in progress (its keys of both modes together)`),
      },
    });
    // Either key: the count is the merchant's.
    expect((await call(first!.baseUrl, umbrella.live_key, 'POST', '/probe')).headers.get('ratelimit')).toBe('"concurrent-writes";r=0');
    // Its reads, another merchant's writes, and the other process are not held back.
    expect((await call(first!.baseUrl, umbrella.test_key, 'GET', '/probe')).status).toBe(404);
    expect((await call(first!.baseUrl, globex.test_key, 'POST', '/probe')).status).toBe(404);
    expect((await call(second!.baseUrl, umbrella.test_key, 'POST', '/probe')).status).toBe(404);

    held[0]!.finish();
    expect((await held[0]!.response).status).toBe(200);
    expect((await call(first!.baseUrl, umbrella.live_key, 'POST', '/probe')).status).toBe(404);

    for (const request of held.slice(1)) request.finish();
    expect((await Promise.all(held.slice(1).map((request) => request.response))).map((answer) => answer.status)).toEqual(
      Array(WRITES_PER_MERCHANT - 1).fill(200),
    );
  });
});

describe('the rate statement (rate-limits.repository.ts) on its own', () => {
  let database: TestDatabase;
  let apiKeyId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const merchant = await buildMerchant(database.db, 'Statement Ltd');
    apiKeyId = (await database.db.selectFrom('api_keys').select('id').where('key_hash', '=', hashApiKey(merchant.test_key)).executeTakeFirstOrThrow()).id;
  });

  afterAll(async () => {
    await database?.destroy();
  });

  it('admits exactly the quota from 40 requests raced over two connection pools, each remaining count once', async () => {
    // Two pools stand for two processes: the row lock, not a process, serialises them.
    const otherPool = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 5 }) }) });
    try {
      const policy = ratePolicy('writes', 10, 60);
      const states = await Promise.all(Array.from({ length: 40 }, (_, i) => consumeRateLimit(i % 2 ? otherPool : database.db, apiKeyId, policy)));
      const decisions = states.map((state) => rateDecision(policy, state));
      const admitted = decisions.filter((decision) => decision.admitted);
      expect(admitted.map((decision) => decision.remaining).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // One more every 6 s: each refusal says to wait at most that long.
      for (const decision of decisions.filter((decision) => !decision.admitted)) {
        expect(decision.retryAfterSeconds).toBeGreaterThanOrEqual(5);
        expect(decision.retryAfterSeconds).toBeLessThanOrEqual(6);
      }
    } finally {
      await otherPool.destroy();
    }
  });

  it('pulls a stored arrival time far in the future back to one window, so a lowered limit never locks a key out longer', async () => {
    await database.db
      .insertInto('rate_limits')
      .values({ api_key_id: apiKeyId, policy: 'reads', theoretical_arrival_at: new Date(Date.now() + 86_400_000), last_admitted: true })
      .execute();
    const policy = ratePolicy('reads', 2, 4);
    const decision = rateDecision(policy, await consumeRateLimit(database.db, apiKeyId, policy));
    expect(decision).toEqual({ admitted: false, remaining: 0, resetSeconds: 2, retryAfterSeconds: 2 });
  });

  it('keeps its state in an unlogged table: written on every request, and worth no WAL record', async () => {
    const { rows } = await sql<{ relpersistence: string }>`select relpersistence from pg_class where relname = 'rate_limits'`.execute(database.db);
    expect(rows).toEqual([{ relpersistence: 'u' }]);
  });
  it("takes a busy key's read units in leases: 50 reads in a row cost a handful of statements, every one counted, and a lone read one unit", async () => {
    const initech = await buildMerchant(database.db, 'Lease Ltd');
    const statements: string[] = [];
    const loggedDb = createDb(database.url, { log: (text) => statements.push(text) });
    const keyIdOf = async (key: string) =>
      (await database.db.selectFrom('api_keys').select('id').where('key_hash', '=', hashApiKey(key)).executeTakeFirstOrThrow()).id;
    const [busy, lone] = [await keyIdOf(initech.test_key), await keyIdOf(initech.live_key)];
    // 100 units per 10,000 s: one comes back every 100 s, so however slowly this machine serves them, none does during the reads.
    const limiter = await serveLimiter(loggedDb, { ...defaultRateLimits, reads: 100, writes: 100, windowSeconds: 10_000 }, initech.merchant_id);
    try {
      const { url } = limiter;
      const read = async (key: string) => {
        const response = await fetch(`${url}?key=${key}`, { signal: AbortSignal.timeout(15_000) });
        await response.arrayBuffer();
        return { status: response.status, remaining: remainingOf(response) };
      };
      const busyReads = [];
      for (let i = 0; i < 50; i++) busyReads.push(await read(busy));
      // Each admitted read counts down by one, as a statement per read would have shown.
      expect(busyReads).toEqual(Array.from({ length: 50 }, (_, i) => ({ status: 200, remaining: 99 - i })));
      const leases = statements.filter((text) => text.includes('insert into rate_limits'));
      // Leases of 1, 2, 4, 8, 16, 16 and a last one: 7 statements, not 50.
      expect(leases.length).toBeLessThanOrEqual(8);
      // Never more charged than served plus the last lease's unused units.
      const charged = await sql<{ ahead_us: number }>`
        select extract(epoch from theoretical_arrival_at - now()) * 1000000 as ahead_us from rate_limits where api_key_id = ${busy} and policy = 'reads'`.execute(
        database.db,
      );
      expect(Math.round(Number(charged.rows[0]!.ahead_us) / 100_000_000)).toBeLessThanOrEqual(50 + 16);

      // A key read once is charged that one unit.
      expect(await read(lone)).toEqual({ status: 200, remaining: 99 });
      const loneRow = await database.db.selectFrom('rate_limits').select('last_granted').where('api_key_id', '=', lone).executeTakeFirstOrThrow();
      expect(loneRow.last_granted).toBe(1);
    } finally {
      await limiter.close();
      await loggedDb.destroy();
    }
  });
});

describe('the limiter when Postgres is down', () => {
  it('answers 503, as any request that needs Postgres does, and frees its slot', async () => {
    // The real middleware behind a stand-in for auth (which would itself answer 503 first), on a pool with nothing behind it.
    const deadDb = createDb(`postgres://nobody:nothing@127.0.0.1:${await freePort()}/inflow`);
    const limiter = await serveLimiter(deadDb, { ...defaultRateLimits, reads: 10, writes: 10, windowSeconds: 1, concurrentRequestsPerKey: 1 });
    try {
      const { url } = limiter;
      // Two in a row with a cap of one: the second is not refused for the first one's slot.
      for (let i = 0; i < 2; i++) {
        const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({
          error: { type: 'api_error', code: 'service_unavailable', message: 'Postgres is unavailable; nothing was changed. Retry later.' },
        });
      }
    } finally {
      await limiter.close();
      await deadDb.destroy();
    }
  });
});
