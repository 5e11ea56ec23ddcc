import { get as httpGet } from 'node:http';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import type { TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import type { TestDatabase } from '../helpers/database';
import { useApiStack } from '../helpers/api-stack';
import { buildMerchant } from '../../dev/fixtures';
import { CONTENT_SECURITY_POLICY } from '../../src/dashboard/dashboard.routes';
import { completeDeposit } from '../../src/deposits/transitions';

/** What a browser does, over plain HTTP: cookies by hand, forms urlencoded, redirects not followed. */
function browser(baseUrl: () => string) {
  const get = (path: string, cookie?: string) =>
    fetch(`${baseUrl()}${path}`, { redirect: 'manual', headers: cookie ? { Cookie: cookie } : {}, signal: AbortSignal.timeout(15_000) });

  const post = (path: string, form: Record<string, string>, { cookie, origin = baseUrl() }: { cookie?: string | undefined; origin?: string | null } = {}) =>
    fetch(`${baseUrl()}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(cookie ? { Cookie: cookie } : {}), ...(origin ? { Origin: origin } : {}) },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(15_000),
    });

  const cookiesOf = (response: Response) => response.headers.getSetCookie();
  const pair = (setCookie: string) => setCookie.split(';')[0] as string;
  const hidden = (page: string, name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page)?.[1] as string;

  /** Signs in as a browser does: the login page's token and cookie, then the form. */
  async function signIn(key: string): Promise<{ cookie: string; csrf: string; response: Response }> {
    const loginPage = await get('/dashboard/login');
    const loginCookie = pair(cookiesOf(loginPage)[0] as string);
    const response = await post('/dashboard/login', { csrf: hidden(await loginPage.text(), 'csrf'), key }, { cookie: loginCookie });
    const session = cookiesOf(response).find((value) => /^(__Host-)?inflow_dashboard=/.test(value));
    const cookie = session ? pair(session) : '';
    const overview = cookie ? await get('/dashboard', cookie) : undefined;
    const csrf = overview ? hidden(await overview.text(), 'csrf') : '';
    return { cookie, csrf, response };
  }

  return { get, post, cookiesOf, pair, hidden, signIn };
}

/** The dashboard over plain HTTP: cookies, CSRF and headers as a browser would meet them. */
describe('dashboard (real app, Postgres and Temporal)', () => {
  let database: TestDatabase;
  let stack: TestStack;
  let api: TestApi;
  let acme: CreatedMerchant;

  beforeAll(async () => {
    stack = await startTestStack('dashboard', { worker: false });
    ({ database, api } = stack);
    acme = await buildMerchant(database.db, 'Acme');
  });

  afterAll(async () => {
    await stack?.stop();
    await database?.destroy();
  });

  const { get, post, cookiesOf, pair, hidden, signIn } = browser(() => api.baseUrl);

  it('signs in with an API key: 303 to /dashboard and, on this plain-http loopback origin, a host-only cookie, HttpOnly, SameSite=Strict, without Secure (Safari keeps none from http://localhost)', async () => {
    const { response, cookie } = await signIn(acme.test_key);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/dashboard');
    const setCookie = cookiesOf(response).find((value) => value.startsWith('inflow_dashboard=')) as string;
    expect(setCookie).toMatch(/; Path=\/;/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toMatch(/Secure/);
    expect(setCookie).not.toMatch(/Domain=/i);
    expect(setCookie).not.toContain(acme.test_key);
    // The row holds the key sealed, and the token only as its hash.
    const rows = await database.db.selectFrom('dashboard_sessions').selectAll().execute();
    const token = cookie.split('=')[1] as string;
    for (const row of rows) {
      expect(JSON.stringify(row)).not.toContain(acme.test_key);
      expect(row.id).not.toBe(token);
    }
    expect(rows.some((row) => row.test_key_sealed && row.expires_at.getTime() - row.created_at.getTime() === 12 * 3600 * 1000)).toBe(true);
  });

  it('marks the cookie Secure and __Host- on any other origin, plain http to another host included (where browsers drop it)', async () => {
    // fetch may not set Host; node:http may.
    const setCookie = await new Promise<string[]>((resolve, reject) => {
      const request = httpGet(`${api.baseUrl}/dashboard/login`, { headers: { Host: 'pay.example.com' } }, (response) => {
        response.resume();
        resolve(response.headers['set-cookie'] ?? []);
      });
      request.on('error', reject);
    });
    expect(setCookie[0]).toMatch(/^__Host-inflow_dashboard_login=[^;]+; Path=\/; Secure;/);
  });

  it('refuses a wrong key with 401 and an alert, and sets no session', async () => {
    const { response } = await signIn(`sk_test_${'0'.repeat(43)}`);
    expect(response.status).toBe(401);
    expect(await response.text()).toMatch(/role="alert"/);
    expect(cookiesOf(response).some((value) => /^(__Host-)?inflow_dashboard=/.test(value))).toBe(false);
  });

  it('refuses a login without the CSRF token or from another origin', async () => {
    const loginPage = await get('/dashboard/login');
    const loginCookie = pair(cookiesOf(loginPage)[0] as string);
    const csrf = hidden(await loginPage.text(), 'csrf');
    expect((await post('/dashboard/login', { key: acme.test_key }, { cookie: loginCookie })).status).toBe(403);
    expect((await post('/dashboard/login', { csrf: 'wrong', key: acme.test_key }, { cookie: loginCookie })).status).toBe(403);
    expect((await post('/dashboard/login', { csrf, key: acme.test_key }, { cookie: loginCookie, origin: 'https://evil.example' })).status).toBe(403);
    expect((await post('/dashboard/login', { csrf, key: acme.test_key }, { cookie: loginCookie, origin: null })).status).toBe(403);
  });

  it('sends the strict CSP and the other security headers on every dashboard answer', async () => {
    const { cookie } = await signIn(acme.test_key);
    for (const response of [await get('/dashboard/login'), await get('/dashboard', cookie), await get('/dashboard/assets/dashboard.css')]) {
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('same-origin');
    }
    expect((await get('/dashboard', cookie)).headers.get('cache-control')).toBe('no-store');
    const page = await (await get('/dashboard', cookie)).text();
    expect(page).not.toMatch(/<script>|<style|style="| on[a-z]+="/);
    expect(page).not.toContain(acme.test_key);
  });

  it('answers every page 200 to a session and 303 to /dashboard/login without one', async () => {
    const { cookie } = await signIn(acme.test_key);
    const created = await post('/dashboard/customers', { csrf: (await signInCsrf(cookie)) as string, email: 'ada@example.com' }, { cookie });
    expect(created.status).toBe(303);
    const customerPath = created.headers.get('location') as string;
    expect(customerPath).toMatch(/^\/dashboard\/customers\/cus_/);
    for (const path of [
      '/dashboard',
      '/dashboard/deposits',
      '/dashboard/balance',
      '/dashboard/customers',
      customerPath,
      '/dashboard/orders',
      '/dashboard/webhooks',
      '/dashboard/events',
    ]) {
      const signedIn = await get(path, cookie);
      expect([path, signedIn.status]).toEqual([path, 200]);
      const anonymous = await get(path);
      expect([path, anonymous.status, anonymous.headers.get('location')]).toEqual([path, 303, '/dashboard/login']);
    }
    const customerPage = await (await get(customerPath, cookie)).text();
    expect(customerPage).toMatch(/<svg data-qr/);
    expect(customerPage).toMatch(/data-address data-network="ethereum"/);
  });

  async function signInCsrf(cookie: string) {
    return hidden(await (await get('/dashboard', cookie)).text(), 'csrf');
  }

  it('refuses a POST with a missing or wrong CSRF token with 403, and writes nothing', async () => {
    const { cookie, csrf } = await signIn(acme.test_key);
    const count = async () =>
      (
        await database.db
          .selectFrom('customers')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n;
    const before = await count();
    expect((await post('/dashboard/customers', { email: 'mallory@example.com' }, { cookie })).status).toBe(403);
    expect((await post('/dashboard/customers', { csrf: `${csrf}x`, email: 'mallory@example.com' }, { cookie })).status).toBe(403);
    expect((await post('/dashboard/customers', { csrf, email: 'mallory@example.com' }, { cookie, origin: 'https://evil.example' })).status).toBe(403);
    expect((await post('/dashboard/customers', { csrf, email: 'big@example.com', name: 'x'.repeat(70_000) }, { cookie })).status).toBe(413);
    expect(await count()).toBe(before);
  });

  it('renders metadata holding <script> as text', async () => {
    const { cookie, csrf } = await signIn(acme.test_key);
    const created = await post('/dashboard/customers', { csrf, name: '<img src=x onerror=alert(1)>', metadata: 'note=<script>alert(1)</script>' }, { cookie });
    expect(created.status).toBe(303);
    const page = await (await get(created.headers.get('location') as string, cookie)).text();
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(page).not.toContain('<img src=x');
  });

  it('shows an API refusal (403 for a read-only key) as an alert, not a 500', async () => {
    const created = await api.request('/api/v1/api-keys', { method: 'POST', key: acme.test_key, json: { name: 'Support', permissions: 'read_only' } });
    const readOnly = ((await created.json()) as { secret: string }).secret;
    const { cookie, csrf } = await signIn(readOnly);
    const refused = await post('/dashboard/customers', { csrf, email: 'ro@example.com' }, { cookie });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/role="alert"/);
    const missing = await get('/dashboard/customers/cus_00000000000000000000000000', cookie);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toMatch(/role="alert"/);
  });

  it('downloads the filtered deposits and balance transactions as the API exports them, every matching row; a bad filter is an alert, no session a redirect', async () => {
    const apiPost = async (path: string, json: unknown) => {
      const response = await api.request(`/api/v1${path}`, { method: 'POST', key: acme.test_key, json });
      expect(response.status).toBe(200);
      return (await response.json()) as { id: string };
    };
    const apiExport = async (path: string) => {
      const response = await api.request(`/api/v1${path}`, { key: acme.test_key });
      expect(response.status).toBe(200);
      return response.text();
    };
    const payer = await apiPost('/customers', { email: 'csv-payer@example.com' });
    const bystander = await apiPost('/customers', { email: 'csv-bystander@example.com' });
    // More than the page's 50: the download holds every matching deposit, not the page shown.
    const paid: string[] = [];
    for (let index = 0; index < 52; index++) {
      paid.push((await apiPost('/deposits/simulate', { customer_id: payer.id, network: 'ethereum', currency: 'USDT', amount: `${index + 3}.25` })).id);
    }
    await apiPost('/deposits/simulate', { customer_id: bystander.id, network: 'ethereum', currency: 'USDT', amount: '99' });
    // Booked as the worker's activity books them (no worker runs here): the ledger gets two transactions.
    for (const id of paid.slice(0, 2)) await completeDeposit(database.db, id, { confirmations: 12, priceUsd: '1.00' });

    const { cookie } = await signIn(acme.test_key);
    const listPage = await (await get(`/dashboard/deposits?customer_id=${payer.id}&status=detected`, cookie)).text();
    const href = /<a href="([^"]+)" download data-download-csv>/.exec(listPage)?.[1]?.replaceAll('&#38;', '&');
    expect(href).toBe(`/dashboard/deposits/export?status=detected&customer_id=${payer.id}`);
    const download = await get(href!, cookie);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="deposits-test.csv"');
    expect(download.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const csv = await download.text();
    expect(csv).toBe(await apiExport(`/deposits/export?status=detected&customer_id=${payer.id}`));
    const ids = csv
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((line) => line.split(',')[0]);
    expect(ids).toEqual(paid.slice(2).reverse());

    // The balance page lists the ledger, filtered; its download is the API's export of the same filters.
    const balancePage = await (await get(`/dashboard/balance?type=deposit&currency=USDT`, cookie)).text();
    expect(balancePage.match(/data-balance-transaction-id="ltx_/g)).toHaveLength(2);
    const balanceHref = /<a href="([^"]+)" download data-download-csv>/.exec(balancePage)?.[1]?.replaceAll('&#38;', '&');
    expect(balanceHref).toBe('/dashboard/balance/export?type=deposit&currency=USDT');
    const ledger = await get(balanceHref!, cookie);
    expect([ledger.status, ledger.headers.get('content-disposition')]).toEqual([200, 'attachment; filename="balance-transactions-test.csv"']);
    const ledgerCsv = await ledger.text();
    expect(ledgerCsv).toBe(await apiExport('/balance/transactions/export?type=deposit&currency=USDT'));
    expect(ledgerCsv.trimEnd().split('\r\n')).toHaveLength(3);
    expect((await (await get(`/dashboard/balance/export?type=reversal`, cookie)).text()).trimEnd().split('\r\n')).toHaveLength(1);

    // The API's refusal of a filter is the page's alert with its status; without a session, the sign-in page.
    const refused = await get('/dashboard/deposits/export?customer_id=nobody', cookie);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/role="alert"/);
    const anonymous = await get(href!);
    expect([anonymous.status, anonymous.headers.get('location')]).toEqual([303, '/dashboard/login']);
  });

  it('creates a webhook endpoint showing its secret once, rotates it (a new secret, once), disables, enables and pings it', async () => {
    const { cookie, csrf } = await signIn(acme.test_key);
    const created = await post('/dashboard/webhooks', { csrf, url: 'http://127.0.0.1:9/webhooks', events: 'deposit.completed' }, { cookie });
    const createdPage = await created.text();
    expect([created.status, /role="alert">([^<]*)/.exec(createdPage)?.[1]]).toEqual([200, undefined]);
    const secret = /data-secret>(whsec_[^<]+)</.exec(createdPage)?.[1] as string;
    expect(secret).toMatch(/^whsec_/);
    const endpointId = /action="\/dashboard\/webhooks\/(we_[0-9a-z]+)\/rotate"/.exec(createdPage)?.[1] as string;
    expect(endpointId).toBeDefined();
    const shown = await (await get(`/dashboard/webhooks/${endpointId}`, cookie)).text();
    expect(shown).not.toContain(secret);
    expect(shown).not.toMatch(/data-secret/);
    expect(await (await get('/dashboard/webhooks', cookie)).text()).toContain(`data-endpoint-id="${endpointId}"`);

    const rotated = await (await post(`/dashboard/webhooks/${endpointId}/rotate`, { csrf }, { cookie })).text();
    const newSecret = /data-secret>(whsec_[^<]+)</.exec(rotated)?.[1];
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(secret);

    const disabled = await post(`/dashboard/webhooks/${endpointId}/toggle`, { csrf, disabled: 'true' }, { cookie });
    expect(disabled.headers.get('location')).toBe(`/dashboard/webhooks/${endpointId}`);
    expect(await (await get(`/dashboard/webhooks/${endpointId}`, cookie)).text()).toMatch(/data-endpoint-state>\s*disabled/);
    await post(`/dashboard/webhooks/${endpointId}/toggle`, { csrf, disabled: 'false' }, { cookie });
    expect(await (await get(`/dashboard/webhooks/${endpointId}`, cookie)).text()).toMatch(/data-endpoint-state>\s*enabled/);

    // The X-Webhook-Signature format: compact when the form left it, then switched for TotoPay's Python sample.
    expect(shown).toMatch(/data-signature-format>compact:/);
    const switched = await post(`/dashboard/webhooks/${endpointId}/signature-format`, { csrf, x_webhook_signature_format: 'python_json_dumps' }, { cookie });
    expect(switched.headers.get('location')).toBe(`/dashboard/webhooks/${endpointId}`);
    expect(await (await get(`/dashboard/webhooks/${endpointId}`, cookie)).text()).toMatch(/data-signature-format>python_json_dumps:/);
    const wrongFormat = await post(`/dashboard/webhooks/${endpointId}/signature-format`, { csrf, x_webhook_signature_format: 'pretty' }, { cookie });
    expect([wrongFormat.status, /role="alert">[^<]*x_webhook_signature_format/.test(await wrongFormat.text())]).toEqual([400, true]);
    const createdPython = await post(
      '/dashboard/webhooks',
      { csrf, url: 'http://127.0.0.1:9/python', events: 'deposit.completed', x_webhook_signature_format: 'python_json_dumps' },
      { cookie },
    );
    expect(await createdPython.text()).toMatch(/data-signature-format>python_json_dumps:/);

    const pinged = await post(`/dashboard/webhooks/${endpointId}/test`, { csrf }, { cookie });
    expect(pinged.status).toBe(303);
    const events = await (await get('/dashboard/events?type=ping', cookie)).text();
    const eventId = /data-event-id="(evt_[0-9a-z]+)"/.exec(events)?.[1] as string;
    expect(eventId).toBeDefined();
    const eventPage = await (await get(`/dashboard/events/${eventId}`, cookie)).text();
    expect(eventPage).toMatch(/<form id="resend"/);
    expect(eventPage).toMatch(/data-delivery-id="/);
    const resent = await post(`/dashboard/events/${eventId}/resend`, { csrf }, { cookie });
    expect([resent.status, resent.headers.get('location')]).toEqual([303, `/dashboard/events/${eventId}`]);
  });

  it('switches to live mode only with a live key, and signs out', async () => {
    const { cookie, csrf } = await signIn(acme.test_key);
    const toLive = await post('/dashboard/mode', { csrf, mode: 'live' }, { cookie });
    expect(toLive.headers.get('location')).toBe('/dashboard/login?mode=live');
    const ask = await get('/dashboard/login?mode=live', cookie);
    expect(await ask.text()).toMatch(/Sign in to live mode/);
    const added = await post('/dashboard/login', { csrf, key: acme.live_key }, { cookie });
    expect(added.status).toBe(303);
    // Every sign-in is a new session (the old one is gone), holding both keys of the merchant.
    const both = pair(cookiesOf(added).find((value) => value.startsWith('inflow_dashboard=')) as string);
    expect(both).not.toBe(cookie);
    expect((await get('/dashboard', cookie)).status).toBe(303);
    const overview = await (await get('/dashboard', both)).text();
    expect(overview).toMatch(/data-mode="live"/);
    const out = await post('/dashboard/logout', { csrf: hidden(overview, 'csrf') }, { cookie: both });
    expect(out.headers.get('location')).toBe('/dashboard/login');
    expect((await get('/dashboard', both)).status).toBe(303);
  });

  it("binds the session to the merchant of the key signed in with: the layout names it, and the mode switch refuses another merchant's key", async () => {
    const { cookie, csrf } = await signIn(acme.test_key);
    const overview = await (await get('/dashboard', cookie)).text();
    expect(overview).toContain(`data-merchant-id="${acme.merchant_id}"`);
    expect(/data-merchant-name>([^<]*)</.exec(overview)?.[1]).toBe('Acme');
    const rows = await database.db.selectFrom('dashboard_sessions').select(['merchant_id', 'merchant_name']).execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toEqual({ merchant_id: acme.merchant_id, merchant_name: 'Acme' });

    // The mode switch's sign-in says whose session it is, and sends its form to /dashboard/mode/key.
    const ask = await (await get('/dashboard/login?mode=live', cookie)).text();
    expect(ask).toContain(`data-session-merchant="${acme.merchant_id}"`);
    expect(ask).toMatch(/<form id="login"[^>]*action="\/dashboard\/mode\/key"/);

    // Another merchant's live key: refused with an alert naming both merchants; the session is unchanged.
    const globex = await buildMerchant(database.db, 'Globex');
    const mixed = await post('/dashboard/mode/key', { csrf, key: globex.live_key }, { cookie });
    const mixedPage = await mixed.text();
    expect(mixed.status).toBe(403);
    const message = /role="alert">([^<]*)</.exec(mixedPage)?.[1] ?? '';
    expect(message).toContain(`belongs to merchant Globex (${globex.merchant_id})`);
    expect(message).toContain(`this session is merchant Acme&#39;s (${acme.merchant_id})`);
    expect(mixedPage).not.toContain(globex.live_key);
    expect(cookiesOf(mixed).some((value) => value.startsWith('inflow_dashboard='))).toBe(false);
    const still = await (await get('/dashboard', cookie)).text();
    expect(still).toMatch(/data-mode="test"/);
    expect(still).toMatch(/Switch to live mode \(sign in\)/);
    // Nor may it come in as a test key of the session: any other merchant's key is refused.
    expect((await post('/dashboard/mode/key', { csrf, key: globex.test_key }, { cookie })).status).toBe(403);
    // A key that is no key: 401, as at sign-in.
    expect((await post('/dashboard/mode/key', { csrf, key: `sk_live_${'0'.repeat(43)}` }, { cookie })).status).toBe(401);
    // The form is a POST like the others: CSRF token and same origin required.
    expect((await post('/dashboard/mode/key', { key: acme.live_key }, { cookie })).status).toBe(403);
    expect((await post('/dashboard/mode/key', { csrf, key: acme.live_key }, { cookie, origin: 'https://evil.example' })).status).toBe(403);
    expect((await get('/dashboard', cookie)).status).toBe(200);

    // The same merchant's live key: a new session holding both, in live mode, still Acme's.
    const added = await post('/dashboard/mode/key', { csrf, key: acme.live_key }, { cookie });
    expect([added.status, added.headers.get('location')]).toEqual([303, '/dashboard']);
    const both = pair(cookiesOf(added).find((value) => value.startsWith('inflow_dashboard=')) as string);
    expect((await get('/dashboard', cookie)).status).toBe(303);
    const live = await (await get('/dashboard', both)).text();
    expect(live).toMatch(/data-mode="live"/);
    expect(live).toContain(`data-merchant-id="${acme.merchant_id}"`);
    const toTest = await post('/dashboard/mode', { csrf: hidden(live, 'csrf'), mode: 'test' }, { cookie: both });
    expect(toTest.headers.get('location')).toBe('/dashboard');
  });

  /** The page's alert text, or undefined. */
  const alertOf = (page: string) => /role="alert">([^<]*)</.exec(page)?.[1];
  const readOnlyKey = async () => {
    const created = await api.request('/api/v1/api-keys', { method: 'POST', key: acme.test_key, json: { name: 'Read only', permissions: 'read_only' } });
    return ((await created.json()) as { secret: string }).secret;
  };
  const apiGet = async (path: string, key = acme.test_key) => {
    const response = await api.request(`/api/v1${path}`, { key });
    return { status: response.status, body: (await response.json()) as any };
  };

  it("edits a customer (an emptied field cleared, a metadata line removed is a key removed) and archives it; a read-only key gets the API's 403 as an alert; no CSRF token, no change", async () => {
    const { cookie, csrf } = await signIn(acme.test_key);
    const created = await post('/dashboard/customers', { csrf, email: 'edit@example.com', name: 'Before', metadata: 'plan=pro\nregion=eu' }, { cookie });
    const path = created.headers.get('location') as string;
    const id = path.split('/').pop() as string;
    const detail = await (await get(path, cookie)).text();
    expect(detail).toMatch(/<form id="edit-customer"[^>]*action="\/dashboard\/customers\/cus_\w+\/edit"/);
    expect(detail).toMatch(/<label for="ce-name">Name <input id="ce-name" name="name" autocomplete="off" value="Before"/);

    expect((await post(`${path}/edit`, { name: 'Mallory' }, { cookie })).status).toBe(403);
    expect((await post(`${path}/edit`, { csrf, name: 'Mallory' }, { cookie, origin: 'https://evil.example' })).status).toBe(403);
    expect((await apiGet(`/customers/${id}`)).body.name).toBe('Before');

    const edited = await post(`${path}/edit`, { csrf, email: '', name: 'After', external_id: 'ext-9', metadata: 'plan=team' }, { cookie });
    expect([edited.status, edited.headers.get('location')]).toEqual([303, path]);
    expect((await apiGet(`/customers/${id}`)).body).toMatchObject({ email: null, name: 'After', external_id: 'ext-9', metadata: { plan: 'team' } });

    const readOnly = await signIn(await readOnlyKey());
    const refused = await post(`${path}/edit`, { csrf: readOnly.csrf, name: 'RO' }, { cookie: readOnly.cookie });
    expect([refused.status, alertOf(await refused.text())]).toEqual([403, expect.any(String)]);
    const refusedArchive = await post(`${path}/archive`, { csrf: readOnly.csrf }, { cookie: readOnly.cookie });
    expect(refusedArchive.status).toBe(403);
    expect((await apiGet(`/customers/${id}`)).body).toMatchObject({ name: 'After', archived: false });

    const archived = await post(`${path}/archive`, { csrf }, { cookie });
    expect([archived.status, archived.headers.get('location')]).toEqual([303, path]);
    expect((await apiGet(`/customers/${id}`)).body.archived).toBe(true);
    const after = await (await get(path, cookie)).text();
    expect(after).not.toMatch(/<form id="archive-customer"/);
  });

  it("creates an order from form#create-order (an amount, or a fiat amount) and cancels it; the API's 400 and a read-only key's 403 are alerts", async () => {
    const { cookie, csrf } = await signIn(acme.test_key);
    const list = await (await get('/dashboard/orders', cookie)).text();
    expect(list).toMatch(/<form id="create-order"/);
    expect(list).toMatch(/<label for="o-expires">/);

    const created = await post(
      '/dashboard/orders',
      { csrf, external_id: 'dash-order-1', network: 'ethereum', currency: 'USDT', amount: '12.5', expires_in: '600' },
      { cookie },
    );
    expect(created.status).toBe(303);
    const path = created.headers.get('location') as string;
    expect(path).toMatch(/^\/dashboard\/orders\/ord_/);
    const id = path.split('/').pop() as string;
    const order = (await apiGet(`/orders/${id}`)).body;
    expect(order).toMatchObject({ external_id: 'dash-order-1', network: 'ethereum', currency: 'USDT', status: 'pending' });
    expect(Math.abs(new Date(order.expires_at).getTime() - new Date(order.created_at).getTime() - 600_000)).toBeLessThan(5_000);
    expect(await (await get(path, cookie)).text()).toMatch(/<form id="cancel-order"/);

    const fiat = await post(
      '/dashboard/orders',
      { csrf, external_id: 'dash-order-2', network: 'ethereum', currency: 'USDT', fiat_amount: '20', fiat_currency: 'USD', expires_in: '900' },
      { cookie },
    );
    expect(fiat.status).toBe(303);
    expect((await apiGet(`/orders/${(fiat.headers.get('location') as string).split('/').pop()}`)).body).toMatchObject({
      fiat_amount: expect.any(String),
      fiat_currency: 'USD',
    });

    const invalid = await post(
      '/dashboard/orders',
      { csrf, external_id: 'dash-order-3', network: 'ethereum', currency: 'USDT', expires_in: '900' },
      { cookie },
    );
    expect([invalid.status, alertOf(await invalid.text())]).toEqual([400, expect.any(String)]);
    expect((await post('/dashboard/orders', { external_id: 'dash-order-4', network: 'ethereum', currency: 'USDT', amount: '1' }, { cookie })).status).toBe(403);

    const readOnly = await signIn(await readOnlyKey());
    expect((await post(`${path}/cancel`, { csrf: readOnly.csrf }, { cookie: readOnly.cookie })).status).toBe(403);
    // The cancel itself signals the order's workflow: in the worker's describe below.
  });

  it("edits a webhook endpoint (URL, events, description, disabled) and deletes it; a read-only key's 403 is an alert", async () => {
    const { cookie, csrf } = await signIn(acme.test_key);
    const created = await (
      await post('/dashboard/webhooks', { csrf, url: 'http://127.0.0.1:9/edit-me', events: '*', description: 'first' }, { cookie })
    ).text();
    const id = /action="\/dashboard\/webhooks\/(we_[0-9a-z]+)\/edit"/.exec(created)?.[1] as string;
    expect(id).toBeDefined();
    const path = `/dashboard/webhooks/${id}`;
    expect((await post(`${path}/edit`, { url: 'http://127.0.0.1:9/evil', events: '*' }, { cookie })).status).toBe(403);

    const edited = await post(
      `${path}/edit`,
      { csrf, url: 'http://127.0.0.1:9/edited', events: 'order.completed', description: '', disabled: 'true' },
      { cookie },
    );
    expect([edited.status, edited.headers.get('location')]).toEqual([303, path]);
    expect((await apiGet(`/webhook-endpoints/${id}`)).body).toMatchObject({
      url: 'http://127.0.0.1:9/edited',
      events: ['order.completed'],
      description: null,
      disabled: true,
    });
    const page = await (await get(path, cookie)).text();
    expect(page).toMatch(/name="events" value="order.completed"\s+checked/);
    expect(page).toMatch(/name="disabled" value="true"\s+checked/);

    const readOnly = await signIn(await readOnlyKey());
    const refused = await post(`${path}/delete`, { csrf: readOnly.csrf }, { cookie: readOnly.cookie });
    expect([refused.status, alertOf(await refused.text())]).toEqual([403, expect.any(String)]);

    const deleted = await post(`${path}/delete`, { csrf }, { cookie });
    expect([deleted.status, deleted.headers.get('location')]).toEqual([303, '/dashboard/webhooks']);
    expect((await apiGet(`/webhook-endpoints/${id}`)).status).toBe(404);
    expect((await get(path, cookie)).status).toBe(404);
  });

  it("lists, creates (secret shown once), rolls (with grace) and deletes API keys; rolling the session's own key keeps the session; a read-only key gets 403 alerts", async () => {
    const { cookie, csrf } = await signIn(acme.test_key);
    const list = await (await get('/dashboard/api-keys', cookie)).text();
    expect(list).toMatch(/<a href="\/dashboard\/api-keys"\s+aria-current="page"/);
    expect(list).toMatch(/data-current-key/);
    expect(list).toMatch(/<form id="create-api-key"/);

    expect((await post('/dashboard/api-keys', { name: 'No token', permissions: 'full' }, { cookie })).status).toBe(403);
    const createdPage = await (await post('/dashboard/api-keys', { csrf, name: 'Reporting', permissions: 'read_only' }, { cookie })).text();
    expect(alertOf(createdPage)).toBeUndefined();
    const secret = /data-secret>(sk_test_[^<]+)</.exec(createdPage)?.[1] as string;
    expect(secret).toMatch(/^sk_test_/);
    const id = /action="\/dashboard\/api-keys\/(key_[0-9a-z]+)\/roll"/.exec(createdPage)?.[1] as string;
    expect(id).toBeDefined();
    expect((await apiGet('/account', secret)).body.api_key).toMatchObject({ id, permissions: 'read_only' });
    const detail = await (await get(`/dashboard/api-keys/${id}`, cookie)).text();
    expect(detail).not.toContain(secret);
    expect(detail).not.toMatch(/data-secret/);
    expect(await (await get('/dashboard/api-keys', cookie)).text()).toContain(`data-api-key-id="${id}"`);

    // Roll with an hour's grace: a new secret, once; the old one works until then.
    const rolledPage = await (await post(`/dashboard/api-keys/${id}/roll`, { csrf, expires_in: '3600' }, { cookie })).text();
    const rolledSecret = /data-secret>(sk_test_[^<]+)</.exec(rolledPage)?.[1] as string;
    expect(rolledSecret).toMatch(/^sk_test_/);
    expect(rolledSecret).not.toBe(secret);
    expect((await apiGet('/account', secret)).status).toBe(200);
    expect((await apiGet('/account', rolledSecret)).status).toBe(200);
    const badGrace = await post(
      `/dashboard/api-keys/${(await apiGet('/account', rolledSecret)).body.api_key.id}/roll`,
      { csrf, expires_in: 'soon' },
      { cookie },
    );
    expect([badGrace.status, alertOf(await badGrace.text())]).toEqual([400, expect.any(String)]);

    // A read-only key sees the page and is refused the writes by the API.
    const readOnly = await signIn(secret);
    expect((await get('/dashboard/api-keys', readOnly.cookie)).status).toBe(200);
    const refused = await post('/dashboard/api-keys', { csrf: readOnly.csrf, name: 'Escalate', permissions: 'full' }, { cookie: readOnly.cookie });
    expect([refused.status, alertOf(await refused.text())]).toEqual([403, expect.any(String)]);

    const rolledId = (await apiGet('/account', rolledSecret)).body.api_key.id as string;
    const deleted = await post(`/dashboard/api-keys/${rolledId}/delete`, { csrf }, { cookie });
    expect([deleted.status, deleted.headers.get('location')]).toEqual([303, '/dashboard/api-keys']);
    expect((await apiGet('/account', rolledSecret)).status).toBe(401);

    // The session's own key, rolled with no grace: the session goes on with the new secret.
    const own = await api.request('/api/v1/api-keys', { method: 'POST', key: acme.test_key, json: { name: 'Dashboard', permissions: 'full' } });
    const ownKey = (await own.json()) as { id: string; secret: string };
    const mine = await signIn(ownKey.secret);
    const ownRolled = await (await post(`/dashboard/api-keys/${ownKey.id}/roll`, { csrf: mine.csrf, expires_in: '0' }, { cookie: mine.cookie })).text();
    expect(ownRolled).toMatch(/data-secret>sk_test_/);
    expect((await apiGet('/account', ownKey.secret)).status).toBe(401);
    expect((await get('/dashboard/api-keys', mine.cookie)).status).toBe(200);
    // And deleted: the session ends with it.
    const newId = /action="\/dashboard\/api-keys\/(key_[0-9a-z]+)\/delete"/.exec(ownRolled)?.[1] as string;
    const gone = await post(`/dashboard/api-keys/${newId}/delete`, { csrf: mine.csrf }, { cookie: mine.cookie });
    expect([gone.status, gone.headers.get('location')]).toEqual([303, '/dashboard/login']);
    expect((await get('/dashboard', mine.cookie)).status).toBe(303);
  });

  it("finds a request by its Request-Id from form#request-lookup, lists requests by result, method and status, and shows a key without requests access the API's 403", async () => {
    const merchant = await buildMerchant(database.db, 'Requests');
    const missing = await api.request('/api/v1/orders/ord_00000000000000000000000000', { key: merchant.test_key });
    expect(missing.status).toBe(404);
    const requestId = missing.headers.get('Request-Id') as string;
    const { cookie } = await signIn(merchant.test_key);

    // The lookup box is a GET to the list, which sends the id on to the request's page.
    const list = await (await get('/dashboard/requests', cookie)).text();
    expect(list).toMatch(/<form\s+id="request-lookup"[^>]*method="get"\s+action="\/dashboard\/requests"/);
    expect(list).toMatch(/<a href="\/dashboard\/requests"\s+aria-current="page"/);
    const lookup = await get(`/dashboard/requests?id=${requestId}`, cookie);
    expect([lookup.status, lookup.headers.get('location')]).toEqual([303, `/dashboard/requests/${requestId}`]);
    const detail = await get(`/dashboard/requests/${requestId}`, cookie);
    expect(detail.status).toBe(200);
    const page = await detail.text();
    expect(page).toContain(`data-request-id="${requestId}"`);
    expect(page).toMatch(/data-request-status><span class="status-failed">404</);
    expect(page).toMatch(/<dd data-error-code><code>resource_missing<\/code>/);
    expect(page).toContain('/api/v1/orders/ord_00000000000000000000000000');

    // The list by result and status: the 404 is there, successes are not.
    const failed = await (await get('/dashboard/requests?result=failed', cookie)).text();
    expect(failed).toContain(`data-request-id="${requestId}"`);
    expect(failed).not.toMatch(/class="status-succeeded"/);
    expect(await (await get('/dashboard/requests?status=404&method=GET', cookie)).text()).toContain(`data-request-id="${requestId}"`);
    expect(await (await get('/dashboard/requests?result=succeeded', cookie)).text()).not.toContain(`data-request-id="${requestId}"`);

    // Another merchant's request is the API's 404; a malformed id its 400; both alerts.
    const other = await buildMerchant(database.db, 'Other');
    const theirs = (await api.request('/api/v1/balance', { key: other.test_key })).headers.get('Request-Id') as string;
    const notMine = await get(`/dashboard/requests/${theirs}`, cookie);
    expect(notMine.status).toBe(404);
    expect(await notMine.text()).toMatch(/role="alert"/);
    expect((await get('/dashboard/requests/not-an-id', cookie)).status).toBe(400);

    const narrow = await api.request('/api/v1/api-keys', { method: 'POST', key: merchant.test_key, json: { name: 'Orders', permissions: { orders: 'read' } } });
    const refused = await get('/dashboard/requests', (await signIn(((await narrow.json()) as { secret: string }).secret)).cookie);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/role="alert"/);
  });
});

/** With inflow's worker: a deposit simulated from the dashboard's form, watched through /dashboard/stream. */
describe('dashboard deposits (real worker)', () => {
  const stack = useApiStack('dashboard');
  const { get, post, hidden, signIn } = browser(() => stack.api.baseUrl);

  it('simulates a deposit from form#simulate, and /dashboard/stream relays its progress until it completes', async () => {
    const { cookie, csrf } = await signIn(stack.acme.test_key);
    const created = await post('/dashboard/customers', { csrf, email: 'live@example.com' }, { cookie });
    const customerId = (created.headers.get('location') as string).split('/').pop() as string;
    const depositsPage = await (await get('/dashboard/deposits', cookie)).text();
    expect(depositsPage).toMatch(/<form id="simulate"/);
    expect(depositsPage).toContain(`<option value="${customerId}"`);

    const simulated = await post(
      '/dashboard/deposits/simulate',
      { csrf, customer_id: customerId, network: 'ethereum', currency: 'USDC', amount: '25', outcome: 'completed' },
      { cookie },
    );
    expect(simulated.status).toBe(303);
    const depositPath = simulated.headers.get('location') as string;
    expect(depositPath).toMatch(/^\/dashboard\/deposits\/dep_/);
    const depositId = depositPath.split('/').pop() as string;
    const detail = await (await get(depositPath, cookie)).text();
    expect(detail).toMatch(/data-deposit-status/);
    expect(detail).toMatch(/<progress\s+data-confirmations/);
    const after = /data-stream-after="([^"]*)"/.exec(detail)?.[1] ?? '';

    // The relay, resumed after the page's newest event, as the page's script opens it.
    const abort = new AbortController();
    const stream = await fetch(`${stack.api.baseUrl}/dashboard/stream?after=${after}`, { headers: { Cookie: cookie }, signal: abort.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('content-security-policy')).toBeTruthy();
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + 60_000;
    let completed: { status: string; confirmations: number; required_confirmations: number; fee: string | null; net_amount: string | null } | undefined;
    while (!completed && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      for (const block of text.split('\n\n')) {
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (/^event: deposit$/m.test(block) && data) {
          const deposit = JSON.parse(data);
          if (deposit.id === depositId && deposit.status === 'completed') completed = deposit;
        }
      }
    }
    abort.abort();
    expect(completed).toMatchObject({ status: 'completed', fee: expect.any(String), net_amount: expect.any(String) });
    expect(completed!.confirmations).toBeGreaterThanOrEqual(completed!.required_confirmations);
    // The relay's answer holds no key.
    expect(text).not.toContain(stack.acme.test_key);

    const overview = await (await get('/dashboard', cookie)).text();
    expect(/data-net-usd>([^<]+)</.exec(overview)?.[1]).not.toBe('0.00');
    expect(hidden(overview, 'csrf')).toBe(csrf);
  });

  it('cancels an order from form#cancel-order (the order workflow, on the worker)', async () => {
    const { cookie, csrf } = await signIn(stack.acme.test_key);
    const created = await post('/dashboard/orders', { csrf, external_id: 'dash-cancel-1', network: 'ethereum', currency: 'USDT', amount: '3' }, { cookie });
    expect(created.status).toBe(303);
    const path = created.headers.get('location') as string;
    const detail = await (await get(path, cookie)).text();
    expect(detail).toMatch(/<form id="cancel-order"/);
    // The payer's page, linked from the order's: the order's own payment_url, which answers.
    const paymentUrl = /<a href="([^"]+)" data-payment-url/.exec(detail)?.[1];
    expect(paymentUrl).toMatch(new RegExp(`^${stack.api.baseUrl}/pay/cs_test_`));
    expect((await fetch(paymentUrl!)).status).toBe(200);
    expect((await post(`${path}/cancel`, {}, { cookie })).status).toBe(403);
    const canceled = await post(`${path}/cancel`, { csrf }, { cookie });
    expect([canceled.status, canceled.headers.get('location')]).toEqual([303, path]);
    const page = await (await get(path, cookie)).text();
    expect(page).toMatch(/data-order-status class="status-canceled">canceled</);
    expect(page).not.toMatch(/<form id="cancel-order"/);
  });

  it('closes the relay without a session: 303 to the sign-in page', async () => {
    const response = await get('/dashboard/stream');
    expect(response.status).toBe(303);
  });
});
