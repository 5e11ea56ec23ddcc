import { Client, Connection } from '@temporalio/client';
import { Migrator, sql } from 'kysely';
import { buildMerchant, testHealthToken, testSecretKey } from '../../dev/fixtures';
import { migrations } from '../../migrations';
import { migrateToLatest } from '../../src/db/migrate';
import { nextAddressIndex } from '../../src/customers/customers.repository';
import { nextOrderAddressIndex } from '../../src/orders/orders.repository';
import { newId } from '../../src/domain/ids';
import { generateWebhookSecret, verifyWebhook } from '../../src/domain/signatures';
import { openWebhookSecret } from '../../src/webhooks/sealed-secrets';
import { startTestApi, type TestApi } from '../helpers/api';
import { useApiStack } from '../helpers/api-stack';
import { createEmptyDatabase } from '../helpers/database';
import { startReceiver } from '../helpers/receiver';
import { freePort } from '../../dev/tools/ports';
import { waitFor } from '../helpers/wait';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

// Simulated deposits wait for their confirmations on the dev server's one-second timers.
jest.setTimeout(120_000);

/**
 * Sessions, secrets and what is public (issue 23, docs/security.md): each attack of the review
 * (sections 13, 14, 21, 23, 25, 26) against the real API, worker, Temporal dev server and Postgres,
 * over real HTTP on loopback. Nothing is mocked; a proxy is played by sending its headers.
 */
describe('hostile tenants and receivers: sessions, secrets, what is public', () => {
  const stack = useApiStack('hostile-sessions');

  /**
   * A browser over plain HTTP against `api`: cookies by hand, redirects not followed. `origin`: the
   * page's origin its forms are sent from (the API's own unless a proxy in front is played).
   */
  const browser = (api: () => TestApi, origin?: string) => {
    const get = (path: string, cookie?: string, headers: Record<string, string> = {}) =>
      fetch(`${api().baseUrl}${path}`, {
        redirect: 'manual',
        headers: { ...(cookie ? { Cookie: cookie } : {}), ...headers },
        signal: AbortSignal.timeout(15_000),
      });
    const post = (path: string, form: Record<string, string>, options: { cookie?: string; origin?: string; headers?: Record<string, string> } = {}) =>
      fetch(`${api().baseUrl}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Origin: options.origin ?? origin ?? api().baseUrl,
          ...(options.cookie ? { Cookie: options.cookie } : {}),
          ...options.headers,
        },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(15_000),
      });
    const hidden = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    // Either name: which one an origin gets is what some tests are about.
    const sessionCookie = (response: Response) => response.headers.getSetCookie().find((value) => /^(__Host-)?inflow_dashboard=/.test(value));
    const pair = (setCookie: string | undefined) => (setCookie ?? '').split(';')[0] as string;
    async function signIn(key: string, options: { origin?: string; headers?: Record<string, string> } = {}) {
      // Every request through the same proxy: its headers on the pages too.
      const page = await get('/dashboard/login', undefined, options.headers);
      const loginCookie = pair(page.headers.getSetCookie()[0]);
      const response = await post('/dashboard/login', { csrf: hidden(await page.text()), key }, { cookie: loginCookie, ...options });
      const cookie = pair(sessionCookie(response));
      const csrf = cookie ? hidden(await (await get('/dashboard', cookie, options.headers)).text()) : '';
      return { response, cookie, csrf };
    }
    return { get, post, hidden, sessionCookie, pair, signIn };
  };
  /** The dashboard as deployed: at https://pay.example.com (INFLOW_PUBLIC_URL), behind a TLS-terminating proxy that is played here. */
  const PUBLIC_ORIGIN = 'https://pay.example.com';
  let deployed: TestApi;
  beforeAll(async () => {
    deployed = await startTestApi({ db: stack.database.db, temporal: stack.dev.client, taskQueue: stack.taskQueue, publicOrigin: PUBLIC_ORIGIN });
  });
  afterAll(async () => {
    await deployed?.close();
  });
  const { get, post, hidden, sessionCookie, pair, signIn } = browser(() => deployed, PUBLIC_ORIGIN);
  /** The same dashboard as `npm run dev` serves it: plain http on loopback. */
  const local = browser(() => stack.api);

  describe('dashboard sessions (review 13)', () => {
    it('a planted session cookie does not capture the key signed in with: a new session, the planted one dropped', async () => {
      const mallory = await buildMerchant(stack.database.db, 'Mallory');
      // The attacker's own session, whose cookie they plant in the victim's browser.
      const planted = await signIn(mallory.test_key);
      expect(planted.cookie).toMatch(/^__Host-inflow_dashboard=/);

      // The victim follows a link to the live sign-in with the planted cookie: the page carries the planted session's token.
      const page = await get('/dashboard/login?mode=live', planted.cookie);
      const victim = await post('/dashboard/login', { csrf: hidden(await page.text()), key: stack.acme.live_key }, { cookie: planted.cookie });
      expect([victim.status, victim.headers.get('location')]).toEqual([303, '/dashboard']);
      const victimCookie = pair(sessionCookie(victim));
      expect(victimCookie).toMatch(/^__Host-inflow_dashboard=/);
      expect(victimCookie).not.toBe(planted.cookie);

      // The attacker's cookie opens nothing any more: not the victim's live mode, not even their own session.
      const attacker = await get('/dashboard', planted.cookie);
      expect([attacker.status, attacker.headers.get('location')]).toEqual([303, '/dashboard/login']);
      // The victim's new session holds their live key only: the planted session's (another merchant's) test key did not come along.
      const overview = await (await get('/dashboard', victimCookie)).text();
      expect(overview).toMatch(/data-mode="live"/);
      const toTest = await post('/dashboard/mode', { csrf: hidden(overview), mode: 'test' }, { cookie: victimCookie });
      expect(toTest.headers.get('location')).toBe('/dashboard/login?mode=test');
    });

    it('adding the other mode of the same merchant makes a new session that keeps both keys', async () => {
      const first = await signIn(stack.acme.test_key);
      const page = await get('/dashboard/login?mode=live', first.cookie);
      const added = await post('/dashboard/login', { csrf: hidden(await page.text()), key: stack.acme.live_key }, { cookie: first.cookie });
      const cookie = pair(sessionCookie(added));
      expect(cookie).not.toBe(first.cookie);
      expect((await get('/dashboard', first.cookie)).status).toBe(303);
      const csrf = hidden(await (await get('/dashboard', cookie)).text());
      const toTest = await post('/dashboard/mode', { csrf, mode: 'test' }, { cookie });
      expect(toTest.headers.get('location')).toBe('/dashboard');
      expect(await (await get('/dashboard', cookie)).text()).toMatch(/data-mode="test"/);
    });

    it('a session cookie sent twice (one of them planted) opens no session', async () => {
      const mine = await signIn(stack.acme.test_key);
      const other = await signIn(stack.acme.test_key);
      expect((await get('/dashboard', mine.cookie)).status).toBe(200);
      expect((await get('/dashboard', `${other.cookie}; ${mine.cookie}`)).status).toBe(303);
    });

    it('on an https origin the session cookie is __Host- prefixed: Secure, Path=/, no Domain, HttpOnly, SameSite=Strict', async () => {
      const { response } = await signIn(stack.acme.test_key);
      const setCookie = sessionCookie(response) as string;
      expect(setCookie).toMatch(/^__Host-inflow_dashboard=/);
      const attributes = setCookie
        .split(';')
        .slice(1)
        .map((part) => part.trim());
      expect(attributes).toEqual(expect.arrayContaining(['Path=/', 'Secure', 'HttpOnly', 'SameSite=Strict']));
      expect(attributes.some((attribute) => /^domain=/i.test(attribute))).toBe(false);
      // The login page's CSRF cookie is __Host- too, so a sibling subdomain cannot plant one either.
      const login = (await get('/dashboard/login')).headers.getSetCookie()[0] as string;
      expect(login).toMatch(/^__Host-inflow_dashboard_login=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Strict/);
    });

    it('on a plain-http loopback origin (development): a host-only inflow_dashboard cookie without Secure, which Safari keeps on http://localhost', async () => {
      const { response, cookie, csrf } = await local.signIn(stack.acme.test_key);
      expect(response.status).toBe(303);
      const setCookie = local.sessionCookie(response) as string;
      expect(setCookie).toMatch(/^inflow_dashboard=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
      expect(csrf).toBeTruthy();
      const login = (await local.get('/dashboard/login')).headers.getSetCookie()[0] as string;
      expect(login).toMatch(/^inflow_dashboard_login=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/);
      // A fresh session per sign-in there too.
      const again = await local.signIn(stack.acme.test_key);
      expect(again.cookie).not.toBe(cookie);
    });

    it('each origin reads only its own cookie name: a planted unprefixed cookie opens nothing on an https deployment', async () => {
      // A valid session token, planted under the unprefixed name (any subdomain or plain-http answer can set that one).
      const { cookie } = await local.signIn(stack.acme.test_key);
      const token = cookie.slice('inflow_dashboard='.length);
      expect((await local.get('/dashboard', cookie)).status).toBe(200);
      const planted = await get('/dashboard', `inflow_dashboard=${token}`);
      expect([planted.status, planted.headers.get('location')]).toEqual([303, '/dashboard/login']);
      // Nor a planted unprefixed login token: the sign-in form's check reads the __Host- one only.
      const page = await get('/dashboard/login');
      const csrf = hidden(await page.text());
      const forged = await post('/dashboard/login', { csrf, key: stack.acme.test_key }, { cookie: `inflow_dashboard_login=${csrf}` });
      expect(forged.status).toBe(403);
      // And the other way: the https name means nothing to the development origin.
      expect((await local.get('/dashboard', `__Host-inflow_dashboard=${token}`)).status).toBe(303);
    });

    it('plain http to another host: the secure cookie (browsers drop it), and the sign-in page says why', async () => {
      const plain = await startTestApi({
        db: stack.database.db,
        temporal: stack.dev.client,
        taskQueue: stack.taskQueue,
        publicOrigin: 'http://pay.example.com',
      });
      try {
        const page = await browser(() => plain, 'http://pay.example.com').get('/dashboard/login');
        expect(page.headers.getSetCookie()[0]).toMatch(/^__Host-inflow_dashboard_login=[^;]+; Path=\/; Secure;/);
        expect(await page.text()).toMatch(/role="alert"[^]*plain http[^]*https/);
      } finally {
        await plain.close();
      }
    });
  });

  describe('the dashboard behind a TLS-terminating proxy (review 23)', () => {
    const apis: TestApi[] = [];
    afterAll(async () => {
      for (const api of apis) await api.close();
    });
    const apiWith = async (settings: { publicOrigin?: string; trustedProxies?: string[] }) => {
      const api = await startTestApi({ db: stack.database.db, temporal: stack.dev.client, taskQueue: stack.taskQueue, ...settings });
      apis.push(api);
      return browser(() => api);
    };
    const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'pay.example.com' };

    it('INFLOW_PUBLIC_URL: forms from that origin are accepted, from the connection’s own http:// origin refused', async () => {
      const proxied = await apiWith({ publicOrigin: 'https://pay.example.com' });
      expect((await proxied.signIn(stack.acme.test_key, { origin: 'https://pay.example.com' })).response.status).toBe(303);
      expect((await proxied.signIn(stack.acme.test_key)).response.status).toBe(403);
    });

    it('INFLOW_TRUSTED_PROXIES: X-Forwarded-Proto/Host are believed from a listed peer only', async () => {
      const trusted = await apiWith({ trustedProxies: ['127.0.0.1'] });
      const signedIn = await trusted.signIn(stack.acme.test_key, { origin: 'https://pay.example.com', headers: forwarded });
      expect(signedIn.response.status).toBe(303);
      // The proxy says https: the cookie is the __Host- one.
      expect(trusted.sessionCookie(signedIn.response)).toMatch(/^__Host-inflow_dashboard=[^;]+; Path=\/; Secure;/);
      // The same headers from a peer that is not listed (this test is 127.0.0.1): spoofed, refused.
      const untrusted = await apiWith({ trustedProxies: ['10.20.30.40'] });
      expect((await untrusted.signIn(stack.acme.test_key, { origin: 'https://pay.example.com', headers: forwarded })).response.status).toBe(403);
      // And with nothing configured, from anyone.
      expect((await local.signIn(stack.acme.test_key, { origin: 'https://pay.example.com', headers: forwarded })).response.status).toBe(403);
      expect(
        (
          await local.signIn(stack.acme.test_key, {
            origin: 'https://evil.example',
            headers: { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' },
          })
        ).response.status,
      ).toBe(403);
    });
  });

  describe('webhook endpoint secrets sealed at rest (review 25)', () => {
    const call = async (method: string, path: string, json?: unknown) => {
      const response = await stack.api.request(`/api/v1${path}`, { method, key: stack.acme.test_key, ...(json !== undefined ? { json } : {}) });
      return { status: response.status, body: (await response.json()) as any };
    };
    const rowOf = (id: string) => stack.database.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    it('the table holds no whsec_, the answers show the secret, and deliveries verify, across a rotation too', async () => {
      const receiver = await startReceiver();
      try {
        const created = await call('POST', '/webhook-endpoints', { url: receiver.url, events: ['customer.created'] });
        expect(created.body.secret).toMatch(/^whsec_/);
        let row = await rowOf(created.body.id);
        expect(JSON.stringify(row)).not.toContain('whsec_');
        expect(JSON.stringify(row)).not.toContain(created.body.secret.slice('whsec_'.length));

        await call('POST', '/customers', { email: 'sealed@example.com' });
        await receiver.waitForRequests(1);
        expect(verifyWebhook(receiver.requests[0]!.rawBody, receiver.requests[0]!.headers, created.body.secret)).toMatchObject({ event: 'customer.created' });

        const rotated = await call('POST', `/webhook-endpoints/${created.body.id}/rotate-secret`);
        expect(rotated.body.secret).toMatch(/^whsec_/);
        row = await rowOf(created.body.id);
        expect(JSON.stringify(row)).not.toContain('whsec_');
        // The old secret moved, still sealed, into previous_secret.
        expect(openWebhookSecret(row.previous_secret!, testSecretKey, row.id)).toBe(created.body.secret);
        await call('POST', '/customers', { email: 'rotated@example.com' });
        await receiver.waitForRequests(2);
        // Signed with both while the old one is honoured.
        for (const secret of [rotated.body.secret, created.body.secret]) {
          expect(verifyWebhook(receiver.requests[1]!.rawBody, receiver.requests[1]!.headers, secret)).toMatchObject({ event: 'customer.created' });
        }
        // The table's own copy, read directly, opens under no other server key: it is not the secret.
        expect(() => openWebhookSecret(row.secret, Buffer.alloc(32, 7), row.id)).toThrow(/does not open/);
      } finally {
        await receiver.close();
      }
    });

    it('answers kept for an Idempotency-Key hold no secret; the retry still answers it; the ping event carries none', async () => {
      const receiver = await startReceiver();
      const keyed = async (path: string, key: string, json?: unknown) => {
        const response = await stack.api.request(`/api/v1${path}`, {
          method: 'POST',
          key: stack.acme.test_key,
          headers: { 'Idempotency-Key': key },
          ...(json !== undefined ? { json } : {}),
        });
        return { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: (await response.json()) as any };
      };
      const idempotencyRows = async () => JSON.stringify(await stack.database.db.selectFrom('idempotency_keys').selectAll().execute());
      const createKey = `create-${newId('request')}`;
      const created = await keyed('/webhook-endpoints', createKey, { url: receiver.url, events: ['customer.created'] });
      expect([created.status, created.replayed]).toEqual([200, null]);
      expect(created.body.secret).toMatch(/^whsec_/);
      expect(await idempotencyRows()).not.toContain('whsec_');
      expect(await idempotencyRows()).not.toContain(created.body.secret.slice('whsec_'.length));
      // The retry (a lost answer) gets the same secret, as it would from Stripe.
      const again = await keyed('/webhook-endpoints', createKey, { url: receiver.url, events: ['customer.created'] });
      expect([again.status, again.replayed, again.body]).toEqual([200, 'true', created.body]);

      const rotateKey = `rotate-${newId('request')}`;
      const rotated = await keyed(`/webhook-endpoints/${created.body.id}/rotate-secret`, rotateKey);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(created.body.secret);
      const rows = await idempotencyRows();
      for (const secret of [created.body.secret, rotated.body.secret]) expect(rows).not.toContain(secret.slice('whsec_'.length));
      expect(rows).not.toContain('whsec_');
      expect((await keyed(`/webhook-endpoints/${created.body.id}/rotate-secret`, rotateKey)).body.secret).toBe(rotated.body.secret);

      // Stored in the sealed format (sealed-secrets.ts), not as JSON.
      const sealed = await stack.database.db.selectFrom('idempotency_keys').select('response_body').where('key', '=', createKey).executeTakeFirstOrThrow();
      expect(sealed.response_body).toMatch(/^v1\./);

      // The ping event's data is the endpoint without its secret.
      const ping = await keyed(`/webhook-endpoints/${created.body.id}/test`, `ping-${newId('request')}`);
      expect([ping.status, ping.body.event, ping.body.data.id]).toEqual([200, 'ping', created.body.id]);
      const events = JSON.stringify(await stack.database.db.selectFrom('events').selectAll().where('merchant_id', '=', stack.acme.merchant_id).execute());
      expect(events).not.toContain('whsec_');
      expect(JSON.stringify(ping.body)).not.toContain('whsec_');
      // Nor does the ping as delivered.
      await receiver.waitForRequests(1);
      expect(receiver.requests[0]!.rawBody).not.toContain('whsec_');
      await call('DELETE', `/webhook-endpoints/${created.body.id}`);
      await receiver.close();
    });

    it('an answer stored with a plaintext secret before answers were sealed is sealed by the migration step, and replays the same', async () => {
      const receiver = await startReceiver();
      const key = `legacy-${newId('request')}`;
      const created = await stack.api.request('/api/v1/webhook-endpoints', {
        method: 'POST',
        key: stack.acme.test_key,
        headers: { 'Idempotency-Key': key },
        json: { url: receiver.url, events: ['customer.created'] },
      });
      expect(created.status).toBe(200);
      // Stored as earlier versions stored it: the answer's JSON text, secret and all.
      const answer = await created.text();
      expect(answer).toContain('"secret":"whsec_');
      await stack.database.db.updateTable('idempotency_keys').set({ response_body: answer }).where('key', '=', key).execute();

      await migrateToLatest(stack.database.db, { secretKey: testSecretKey });
      const row = await stack.database.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
      expect(JSON.stringify(row)).not.toContain('whsec_');
      const replay = await stack.api.request('/api/v1/webhook-endpoints', {
        method: 'POST',
        key: stack.acme.test_key,
        headers: { 'Idempotency-Key': key },
        json: { url: receiver.url, events: ['customer.created'] },
      });
      expect([replay.headers.get('idempotent-replayed'), await replay.text()]).toEqual(['true', answer]);
      await call('DELETE', `/webhook-endpoints/${(JSON.parse(answer) as { id: string }).id}`);
      await receiver.close();
    });

    it('rows stored in plaintext before sealing are sealed by the migration step, and still deliver with their old secret', async () => {
      const receiver = await startReceiver();
      try {
        // A row as earlier versions wrote it: both secrets in plaintext.
        const secret = generateWebhookSecret();
        const previous = generateWebhookSecret();
        const id = newId('webhookEndpoint');
        await stack.database.db
          .insertInto('webhook_endpoints')
          .values({
            id,
            merchant_id: stack.acme.merchant_id,
            livemode: false,
            url: receiver.url,
            description: null,
            events: ['customer.created'],
            secret,
            previous_secret: previous,
            previous_secret_expires_at: new Date(Date.now() + 3_600_000),
            disabled_reason: null,
            deleted_at: null,
          })
          .execute();

        const { sealedWebhookSecrets } = await migrateToLatest(stack.database.db, { secretKey: testSecretKey });
        expect(sealedWebhookSecrets).toBeGreaterThanOrEqual(1);
        const row = await rowOf(id);
        expect(JSON.stringify(row)).not.toContain('whsec_');
        expect([openWebhookSecret(row.secret, testSecretKey, id), openWebhookSecret(row.previous_secret!, testSecretKey, id)]).toEqual([secret, previous]);
        // Idempotent: nothing is left to seal, and sealed values are not sealed twice.
        expect((await migrateToLatest(stack.database.db, { secretKey: testSecretKey })).sealedWebhookSecrets).toBe(0);

        const ping = await call('POST', `/webhook-endpoints/${id}/test`);
        expect([ping.status, ping.body.error]).toEqual([200, undefined]);
        await receiver.waitForRequests(1);
        for (const key of [secret, previous])
          expect(verifyWebhook(receiver.requests[0]!.rawBody, receiver.requests[0]!.headers, key)).toMatchObject({ event: 'ping' });
      } finally {
        await receiver.close();
      }
    });
  });

  describe('/healthz (review 26)', () => {
    it('answers anyone with the status alone; the detail needs the operator token', async () => {
      const open = await stack.api.request('/healthz');
      expect([open.status, await open.json()]).toEqual([200, { status: 'ok' }]);
      expect((await stack.api.request('/healthz?detail')).status).toBe(401);
      expect((await stack.api.request('/healthz?detail', { key: `${testHealthToken}x` })).status).toBe(401);
      expect((await stack.api.request('/healthz?detail', { key: stack.acme.test_key })).status).toBe(401);
      const detailed = await stack.api.request('/healthz?detail', { key: testHealthToken });
      expect(await detailed.json()).toMatchObject({ status: 'ok', postgres: { status: 'up' }, temporal: { status: 'up' }, chains: [] });
      // No token configured: the detail is closed to everyone.
      const closed = await startTestApi({ db: stack.database.db, temporal: stack.dev.client, healthToken: '' });
      try {
        expect((await closed.request('/healthz?detail', { key: testHealthToken })).status).toBe(403);
      } finally {
        await closed.close();
      }
    });

    it('a dependency down: the public answer says degraded and names no host, port or error', async () => {
      const port = await freePort();
      // No retry interceptor: the SDK's retries would outlive the test and hit a closed channel.
      const connection = await Connection.lazy({ address: `127.0.0.1:${port}`, connectTimeout: 1_000, interceptors: [] });
      const api = await startTestApi({ db: stack.database.db, temporal: new Client({ connection }) });
      try {
        const open = await api.request('/healthz');
        const text = await open.text();
        expect([open.status, JSON.parse(text)]).toEqual([200, { status: 'degraded' }]);
        expect(text).not.toContain(String(port));
        const detailed = (await (await api.request('/healthz?detail', { key: testHealthToken })).json()) as any;
        expect(detailed.temporal).toMatchObject({ status: 'down', error: expect.any(String) });
      } finally {
        await api.close();
        await connection.close();
      }
    });
  });

  describe('address indexes per mode (review 14)', () => {
    const indexOf = async (table: 'customers' | 'orders', id: string) =>
      (await stack.database.db.selectFrom(table).select('address_index').where('id', '=', id).executeTakeFirstOrThrow()).address_index;

    it('test-mode creations do not advance live’s index', async () => {
      const create = async (key: string) =>
        (await (await stack.api.request('/api/v1/customers', { method: 'POST', key, json: {} })).json()) as { id: string; livemode: boolean };
      const liveBefore = await indexOf('customers', (await create(stack.acme.live_key)).id);
      for (let i = 0; i < 5; i++) await create(stack.acme.test_key);
      const liveAfter = await indexOf('customers', (await create(stack.acme.live_key)).id);
      expect(liveAfter).toBe(liveBefore + 1);
    });

    it('the migration keeps every stored index and address; both modes continue after the highest index ever given out', async () => {
      const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: await createEmptyDatabase(), max: 2 }) }) });
      try {
        const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
        const { error } = await migrator.migrateTo('20261206T0000-chain-truth');
        expect(error).toBeUndefined();
        // Rows as the global sequences numbered them: modes interleaved.
        await db.insertInto('merchants').values({ id: 'mch_old', name: 'Old' }).execute();
        const customers = [
          { id: 'cus_t0', livemode: false, address_index: 0 },
          { id: 'cus_l1', livemode: true, address_index: 1 },
          { id: 'cus_t2', livemode: false, address_index: 2 },
          { id: 'cus_l3', livemode: true, address_index: 3 },
          { id: 'cus_l4', livemode: true, address_index: 4 },
        ];
        for (const customer of customers) {
          await db
            .insertInto('customers')
            .values({ ...customer, merchant_id: 'mch_old' })
            .execute();
          await db
            .insertInto('customer_addresses')
            .values({
              customer_id: customer.id,
              family: 'evm',
              address: `0xaddress${customer.address_index}`,
              livemode: customer.livemode,
              merchant_id: 'mch_old',
            })
            .execute();
        }
        await sql`select setval('customer_address_index_seq', 4)`.execute(db);
        await sql`select setval('order_address_index_seq', 7)`.execute(db);
        const before = await db
          .selectFrom('customers')
          .innerJoin('customer_addresses', 'customer_id', 'customers.id')
          .select(['id', 'address_index', 'address'])
          .orderBy('id')
          .execute();

        expect((await migrateToLatest(db)).error).toBeUndefined();
        const after = await db
          .selectFrom('customers')
          .innerJoin('customer_addresses', 'customer_id', 'customers.id')
          .select(['id', 'address_index', 'address'])
          .orderBy('id')
          .execute();
        expect(after).toEqual(before);
        // Both modes continue after the highest index of either: test's next is not 3 (live's cus_l3
        // has it, and with the same xpub in both modes it would derive cus_l3's address again).
        expect([await nextAddressIndex(db, false), await nextAddressIndex(db, true)]).toEqual([5, 5]);
        // No orders stored, but the old sequence gave out 0…7 (to requests that rolled back): none is given again.
        expect([await nextOrderAddressIndex(db, false), await nextOrderAddressIndex(db, true)]).toEqual([8, 8]);
        // Unique per (livemode, account, index): the same index in both modes is allowed, twice in one mode is not.
        await db.insertInto('customers').values({ id: 'cus_t9', livemode: false, address_index: 9, merchant_id: 'mch_old' }).execute();
        await db.insertInto('customers').values({ id: 'cus_l9', livemode: true, address_index: 9, merchant_id: 'mch_old' }).execute();
        await expect(db.insertInto('customers').values({ id: 'cus_t9b', livemode: false, address_index: 9, merchant_id: 'mch_old' }).execute()).rejects.toThrow(
          /unique/,
        );
      } finally {
        await db.destroy();
      }
    });
  });

  describe('simulate after the Idempotency-Key purge (review 21)', () => {
    it('a key reused after its 24 h gives a new deposit with a new hash, never the old one', async () => {
      const call = async (json: unknown) => {
        const response = await stack.api.request('/api/v1/deposits/simulate', {
          method: 'POST',
          key: stack.acme.test_key,
          json,
          headers: { 'Idempotency-Key': 'reused-key' },
        });
        return { status: response.status, body: (await response.json()) as any };
      };
      const customer = (await (await stack.api.request('/api/v1/customers', { method: 'POST', key: stack.acme.test_key, json: {} })).json()) as { id: string };
      const first = await call({ customer_id: customer.id, network: 'ethereum', currency: 'USDC', amount: '10' });
      expect(first.status).toBe(200);
      // A retry within the 24 h is the stored answer.
      expect((await call({ customer_id: customer.id, network: 'ethereum', currency: 'USDC', amount: '10' })).body).toEqual(first.body);

      // The key ages past its 24 h, as the purge would find it; the next request with it is a new request.
      await stack.database.db
        .updateTable('idempotency_keys')
        .set({ created_at: sql<Date>`now() - interval '25 hours'` } as never)
        .where('key', '=', 'reused-key')
        .execute();
      const second = await call({ customer_id: customer.id, network: 'ethereum', currency: 'USDC', amount: '20' });
      expect(second.status).toBe(200);
      expect(second.body.id).not.toBe(first.body.id);
      expect(second.body.transaction_hash).not.toBe(first.body.transaction_hash);
      expect(second.body.amount).toBe('20.000000');

      for (const id of [first.body.id, second.body.id]) {
        await waitFor(
          `${id} completed`,
          async () => {
            const deposit = (await (await stack.api.request(`/api/v1/deposits/${id}`, { key: stack.acme.test_key })).json()) as { status: string };
            return deposit.status === 'completed';
          },
          90_000,
        );
      }
    });
  });
});
