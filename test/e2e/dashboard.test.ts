import { stat } from 'node:fs/promises';
import type { Browser, BrowserContext, HTTPResponse, Page } from 'puppeteer-core';
import { launchBrowser, saveScreenshot } from '../helpers/browser';
import { useApiStack } from '../helpers/api-stack';
import { startReceiver } from '../helpers/receiver';
import { waitFor } from '../helpers/wait';
import { buildMerchant } from '../../dev/fixtures';

// The page's globals, inside the functions puppeteer runs in the browser (the project has no DOM lib).
declare const window: any;
declare const document: any;
declare const localStorage: any;
declare const sessionStorage: any;

// A simulated deposit waits for its confirmations on the dev server's one-second timers.
jest.setTimeout(120_000);

/**
 * The dashboard in a real headless Chromium against the real stack: the API process serving
 * /dashboard, inflow's worker on the run's Temporal dev server, Postgres. Selectors are the ids and
 * data-* hooks of DASHBOARD-CONTRACT.md.
 */
describe('dashboard (headless Chromium, real API, worker, Temporal dev server, Postgres)', () => {
  const stack = useApiStack('dashboard-e2e');
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
  });

  const url = (path: string) => `${stack.api.baseUrl}${path}`;

  const api = async (method: string, path: string, json?: unknown) => {
    const response = await stack.api.request(`/api/v1${path}`, { method, key: stack.acme.test_key, ...(json !== undefined ? { json } : {}) });
    return { status: response.status, body: (await response.json()) as any };
  };
  const createCustomer = async (json: Record<string, unknown> = {}) => {
    const created = await api('POST', '/customers', json);
    expect(created.status).toBe(200);
    return created.body as { id: string; addresses: Array<{ network: string; address: string }> };
  };

  /** A page in a browser context of its own: no cookie or storage shared with another test. */
  const freshPage = async (): Promise<Page> => {
    const context = await browser.createBrowserContext();
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.setDefaultNavigationTimeout(30_000);
    return page;
  };

  const open = async (page: Page, path: string): Promise<HTTPResponse> => {
    const response = await page.goto(url(path), { waitUntil: 'load' });
    if (!response) throw new Error(`no response for ${path}`);
    return response;
  };

  /** Submits the form with its own submit button, as a user does, and returns the answer it lands on. */
  const submit = async (page: Page, form: string): Promise<HTTPResponse> => {
    const button = await page.waitForSelector(`${form} button:not([type=button]):not([type=reset]), ${form} input[type=submit]`);
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button!.click()]);
    if (!response) throw new Error(`submitting ${form} navigated nowhere`);
    return response;
  };

  const typeInto = async (page: Page, selector: string, value: string) => {
    await page.$eval(selector, (input: any) => {
      input.value = '';
    });
    await page.type(selector, value);
  };

  const signIn = async (page: Page, key = stack.acme.test_key): Promise<HTTPResponse> => {
    await open(page, '/dashboard/login');
    await typeInto(page, 'form#login input[name=key]', key);
    return submit(page, 'form#login');
  };

  const signedInPage = async (): Promise<Page> => {
    const page = await freshPage();
    const landed = await signIn(page);
    expect(landed.status()).toBe(200);
    expect(page.url()).toBe(url('/dashboard'));
    return page;
  };

  const textOf = (page: Page, selector: string) => page.$eval(selector, (element: any) => String(element.textContent).trim());

  /** The status of the redirect that led to `response` (the first one), if any. */
  const redirectStatus = (response: HTTPResponse) => response.request().redirectChain()[0]?.response()?.status();

  it('signs in with the test key through form#login, refuses a wrong key with a 401, and leaves no key in the browser', async () => {
    const page = await freshPage();

    // Anonymous: the dashboard sends the visitor to the sign-in form.
    await open(page, '/dashboard');
    await page.waitForSelector('form#login');
    expect(page.url()).toBe(url('/dashboard/login'));
    expect(await page.$eval('form#login input[name=key]', (input: any) => input.type)).toBe('password');
    expect(await page.$eval('form#login', (form: any) => form.method.toLowerCase())).toBe('post');
    expect(await page.$('form#login input[type=hidden][name=csrf]')).not.toBeNull();

    // A wrong key of the right shape: refused with a 401 and a message, and not echoed back.
    const wrongKey = `sk_test_${'x'.repeat(43)}`;
    const refused = await signIn(page, wrongKey);
    expect(refused.status()).toBe(401);
    expect(page.url()).toBe(url('/dashboard/login'));
    expect(await textOf(page, '[role=alert]')).not.toBe('');
    expect(await page.$eval('form#login input[name=key]', (input: any) => input.value)).toBe('');
    expect(await page.content()).not.toContain(wrongKey);
    // No session came of it: whatever cookie the sign-in form sets is HttpOnly and SameSite=Strict, and the dashboard still asks for a key.
    for (const cookie of await page.browserContext().cookies())
      expect({ name: cookie.name, httpOnly: cookie.httpOnly, sameSite: cookie.sameSite }).toEqual({ name: cookie.name, httpOnly: true, sameSite: 'Strict' });
    await open(page, '/dashboard');
    await page.waitForSelector('form#login');
    expect(page.url()).toBe(url('/dashboard/login'));

    // The right key: a 303 to /dashboard, signed in.
    const landed = await signIn(page);
    expect(redirectStatus(landed)).toBe(303);
    expect(landed.status()).toBe(200);
    expect(page.url()).toBe(url('/dashboard'));
    await page.waitForSelector('header nav');
    expect(await page.$('[data-mode="test"]')).not.toBeNull();
    expect(await page.$('form#logout')).not.toBeNull();

    // The key is nowhere the page's scripts or the address bar can reach.
    const key = stack.acme.test_key;
    expect(page.url()).not.toContain(key);
    const storage = await page.evaluate(() => ({
      local: localStorage.length as number,
      session: sessionStorage.length as number,
      documentCookie: document.cookie as string,
      html: document.documentElement.outerHTML as string,
    }));
    expect(storage).toMatchObject({ local: 0, session: 0, documentCookie: '' });
    expect(storage.html).not.toContain(key);
    const cookies = await page.browserContext().cookies();
    expect(cookies.length).toBeGreaterThan(0);
    // On this plain-http loopback origin (development) the session is the host-only, non-Secure
    // cookie, which browsers keep here (Safari keeps no Secure cookie from http://localhost).
    expect(cookies.find((cookie) => cookie.name === 'inflow_dashboard')).toMatchObject({ secure: false, path: '/', domain: new URL(url('/')).hostname });
    expect(cookies.some((cookie) => cookie.name.startsWith('__Host-'))).toBe(false);
    for (const cookie of cookies) {
      expect({ name: cookie.name, httpOnly: cookie.httpOnly, sameSite: cookie.sameSite }).toEqual({ name: cookie.name, httpOnly: true, sameSite: 'Strict' });
      expect(cookie.value).not.toContain(key);
      expect(cookie.value).not.toContain(key.slice('sk_test_'.length));
    }

    // Signing out ends the session: the dashboard asks for the key again.
    await submit(page, 'form#logout');
    await open(page, '/dashboard');
    await page.waitForSelector('form#login');
    expect(page.url()).toBe(url('/dashboard/login'));
  });

  it("names the merchant in the header, and the mode switch refuses another merchant's live key before taking this one's", async () => {
    const page = await signedInPage();
    expect(await textOf(page, 'header [data-merchant-name]')).toBe('Acme');
    expect(await page.$eval('header [data-merchant-id]', (element: any) => element.getAttribute('data-merchant-id'))).toBe(stack.acme.merchant_id);
    expect(await textOf(page, 'header [data-mode]')).toBe('Test mode');

    const asked = await submit(page, 'form#mode-switch');
    expect(redirectStatus(asked)).toBe(303);
    expect(page.url()).toBe(url('/dashboard/login?mode=live'));
    expect(await page.$eval('[data-session-merchant]', (element: any) => element.getAttribute('data-session-merchant'))).toBe(stack.acme.merchant_id);

    const globex = await buildMerchant(stack.database.db, 'Globex');
    await typeInto(page, 'form#login input[name=key]', globex.live_key);
    const refused = await submit(page, 'form#login');
    expect(refused.status()).toBe(403);
    expect(await textOf(page, '[role=alert]')).toContain(
      `This key belongs to merchant Globex (${globex.merchant_id}); this session is merchant Acme's (${stack.acme.merchant_id})`,
    );
    expect(await page.content()).not.toContain(globex.live_key);

    await typeInto(page, 'form#login input[name=key]', stack.acme.live_key);
    const landed = await submit(page, 'form#login');
    expect(redirectStatus(landed)).toBe(303);
    expect(page.url()).toBe(url('/dashboard'));
    expect(await textOf(page, 'header [data-mode]')).toBe('Live mode');
    expect(await textOf(page, 'header [data-merchant-name]')).toBe('Acme');
    await saveScreenshot(page, 'overview-live-merchant');
  });

  it('does a write on every page through its form: edits a customer, creates and cancels an order, edits and deletes an endpoint, creates and deletes an API key', async () => {
    const page = await signedInPage();
    // The forms that ask first (data-confirm): the user says yes.
    page.on('dialog', (dialog) => void dialog.accept());

    // Customers: create, then edit its name from form#edit-customer.
    const customer = await createCustomer({ email: 'e2e-edit@example.com', name: 'Before' });
    await open(page, `/dashboard/customers/${customer.id}`);
    await typeInto(page, 'form#edit-customer input[name=name]', 'After');
    const edited = await submit(page, 'form#edit-customer');
    expect([redirectStatus(edited), page.url()]).toEqual([303, url(`/dashboard/customers/${customer.id}`)]);
    expect((await api('GET', `/customers/${customer.id}`)).body.name).toBe('After');
    expect(await page.title()).toContain('e2e-edit@example.com');

    // Orders: create from the list's form, then cancel it on its page.
    await open(page, '/dashboard/orders');
    await typeInto(page, 'form#create-order input[name=external_id]', 'e2e-dash-order');
    expect(await page.select('form#create-order select[name=network]', 'ethereum')).toEqual(['ethereum']);
    await typeInto(page, 'form#create-order input[name=amount]', '7.5');
    const orderPage = await submit(page, 'form#create-order');
    expect(redirectStatus(orderPage)).toBe(303);
    const orderId = /\/dashboard\/orders\/(ord_\w+)$/.exec(page.url())?.[1] as string;
    expect(await textOf(page, '[data-order-status]')).toBe('pending');
    await submit(page, 'form#cancel-order');
    expect(await textOf(page, '[data-order-status]')).toBe('canceled');
    expect((await api('GET', `/orders/${orderId}`)).body).toMatchObject({
      external_id: 'e2e-dash-order',
      amount: expect.stringMatching(/^7\.5/),
      status: 'canceled',
    });
    await saveScreenshot(page, 'order-canceled');

    // Webhooks: edit the description and disable it, then delete it.
    const endpoint = await api('POST', '/webhook-endpoints', { url: 'http://127.0.0.1:9/e2e', events: ['*'] });
    await open(page, `/dashboard/webhooks/${endpoint.body.id}`);
    await typeInto(page, 'form#edit-endpoint input[name=description]', 'edited in the browser');
    await page.click('form#edit-endpoint input[name=disabled]');
    await submit(page, 'form#edit-endpoint');
    expect(await textOf(page, '[data-endpoint-state]')).toMatch(/^disabled/);
    expect((await api('GET', `/webhook-endpoints/${endpoint.body.id}`)).body).toMatchObject({ description: 'edited in the browser', disabled: true });
    await saveScreenshot(page, 'webhook-edited');
    const afterDelete = await submit(page, 'form#delete-endpoint');
    expect([redirectStatus(afterDelete), page.url()]).toEqual([303, url('/dashboard/webhooks')]);
    expect((await api('GET', `/webhook-endpoints/${endpoint.body.id}`)).status).toBe(404);

    // API keys: create a read-only key (its secret shown once, and it works), then delete it.
    await open(page, '/dashboard/api-keys');
    expect(await page.$('[data-current-key]')).not.toBeNull();
    await typeInto(page, 'form#create-api-key input[name=name]', 'E2E reporting');
    expect(await page.select('form#create-api-key select[name=permissions]', 'read_only')).toEqual(['read_only']);
    await submit(page, 'form#create-api-key');
    const secret = await textOf(page, '[data-secret]');
    expect(secret).toMatch(/^sk_test_/);
    const account = await stack.api.request('/api/v1/account', { key: secret });
    expect(((await account.json()) as any).api_key).toMatchObject({ name: 'E2E reporting', permissions: 'read_only' });
    await saveScreenshot(page, 'api-key-created');
    const keyId = ((await stack.api.request('/api/v1/account', { key: secret }).then((response) => response.json())) as any).api_key.id as string;
    await open(page, `/dashboard/api-keys/${keyId}`);
    expect(await page.content()).not.toContain(secret);
    const listed = await submit(page, 'form#delete-api-key');
    expect([redirectStatus(listed), page.url()]).toEqual([303, url('/dashboard/api-keys')]);
    expect(await page.$(`tr[data-api-key-id="${keyId}"]`)).toBeNull();
    expect((await stack.api.request('/api/v1/account', { key: secret })).status).toBe(401);
  });

  it('simulates a deposit from form#simulate, watches it reach completed without a reload, and the overview shows the new balance', async () => {
    const customer = await createCustomer();
    const page = await signedInPage();
    const netBefore = await textOf(page, '[data-net-usd]');
    expect(netBefore).toBe(((await api('GET', '/balance')).body as { net_usd: string }).net_usd);

    await open(page, '/dashboard/deposits');
    await page.waitForSelector('form#simulate');
    expect(await page.$('form#simulate input[type=hidden][name=csrf]')).not.toBeNull();
    expect(await page.select('form#simulate select[name=customer_id]', customer.id)).toEqual([customer.id]);
    expect(await page.select('form#simulate select[name=network]', 'ethereum')).toEqual(['ethereum']);
    await typeInto(page, 'form#simulate input[name=currency]', 'USDT');
    await typeInto(page, 'form#simulate input[name=amount]', '25');
    expect(await page.select('form#simulate select[name=outcome]', 'completed')).toEqual(['completed']);

    const landed = await submit(page, 'form#simulate');
    expect(redirectStatus(landed)).toBe(303);
    expect(landed.status()).toBe(200);
    const depositId = /\/dashboard\/deposits\/(dep_\w+)$/.exec(page.url())?.[1];
    expect(depositId).toBeDefined();
    const depositUrl = page.url();

    // A marker on this document: a reload or a navigation would lose it.
    await page.evaluate(() => {
      window.__marker = 1;
    });
    const initialStatus = await textOf(page, '[data-deposit-status]');
    // It takes its 12 confirmations (about 12 s on the dev server): the page sees it before it completes.
    expect(initialStatus).not.toBe('completed');
    await page.waitForFunction(() => document.querySelector('[data-deposit-status]')?.textContent?.trim() === 'completed', { timeout: 60_000 });
    await page.waitForFunction(
      () => {
        const progress = document.querySelector('progress[data-confirmations]');
        return progress !== null && progress.max > 0 && progress.value === progress.max;
      },
      { timeout: 10_000 },
    );
    expect(
      await page.evaluate(() => ({
        marker: window.__marker,
        navigations: window.performance.getEntriesByType('navigation').length,
        url: window.location.href,
      })),
    ).toEqual({ marker: 1, navigations: 1, url: depositUrl });

    const deposit = (await api('GET', `/deposits/${depositId}`)).body;
    expect(deposit).toMatchObject({
      status: 'completed',
      customer_id: customer.id,
      network: 'ethereum',
      currency: 'USDT',
      amount: '25.000000',
      simulated: true,
    });
    // Fee, net and completion time arrived with the live update too, as the server would render them.
    expect(await textOf(page, '[data-fee]')).toBe(`${deposit.fee} USDT`);
    expect(await textOf(page, '[data-net]')).toBe(`${deposit.net_amount} USDT`);
    expect(await textOf(page, '[data-completed-at]')).toBe(deposit.completed_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
    await saveScreenshot(page, 'deposit-detail-completed');

    // The list and the overview show it.
    await open(page, '/dashboard/deposits');
    expect(await textOf(page, `tr[data-deposit-id="${depositId}"] [data-field="status"]`)).toBe('completed');
    await open(page, '/dashboard');
    const balance = (await api('GET', '/balance')).body as { net_usd: string };
    expect(balance.net_usd).not.toBe(netBefore);
    expect(await textOf(page, '[data-net-usd]')).toBe(balance.net_usd);
  });

  it('shows a failed webhook attempt, resends the event from form#resend, and shows the new delivery with 200', async () => {
    let answer = 500;
    const receiver = await startReceiver(() => answer);
    try {
      const endpoint = await api('POST', '/webhook-endpoints', { url: receiver.url, events: ['customer.created'] });
      expect(endpoint.status).toBe(200);
      const customer = await createCustomer();
      const events = (await api('GET', '/events?type=customer.created')).body as { data: Array<{ id: string; data: { id: string } }> };
      const eventId = events.data.find((event) => event.data.id === customer.id)?.id;
      expect(eventId).toBeDefined();
      // The first attempt is made at once and answered 500; wait until it is recorded.
      await waitFor('the failed attempt', async () =>
        ((await api('GET', `/events/${eventId}`)).body.deliveries as any[]).some((delivery) =>
          delivery.attempts.some((attempt: any) => attempt.status_code === 500),
        ),
      );

      const page = await signedInPage();
      await open(page, `/dashboard/events/${eventId}`);
      const before = await page.$$eval('[data-delivery-id]', (deliveries: any[]) =>
        deliveries.map((delivery) => ({
          id: delivery.getAttribute('data-delivery-id') as string,
          codes: [...delivery.querySelectorAll('tr[data-attempt] [data-field="status_code"]')].map((cell: any) => String(cell.textContent).trim()),
        })),
      );
      expect(before).toHaveLength(1);
      expect(before[0]!.codes).toContain('500');
      await saveScreenshot(page, 'event-detail-failed');

      answer = 200;
      const requestsBefore = receiver.requests.length;
      const landed = await submit(page, 'form#resend');
      expect(redirectStatus(landed)).toBe(303);
      expect(page.url()).toBe(url(`/dashboard/events/${eventId}`));
      await receiver.waitForRequests(requestsBefore + 1);

      // The new delivery, its attempt answered 200 (reloading until the worker has recorded it).
      const deadline = Date.now() + 30_000;
      const newDeliveryCodes = async () => {
        await open(page, `/dashboard/events/${eventId}`);
        return page.$$eval(
          '[data-delivery-id]',
          (deliveries: any[], oldId: string) =>
            deliveries
              .filter((delivery) => delivery.getAttribute('data-delivery-id') !== oldId)
              .map((delivery) =>
                [...delivery.querySelectorAll('tr[data-attempt] [data-field="status_code"]')].map((cell: any) => String(cell.textContent).trim()),
              ),
          before[0]!.id,
        );
      };
      let codes = await newDeliveryCodes();
      while (!codes.some((attempts) => attempts.includes('200')) && Date.now() < deadline) codes = await newDeliveryCodes();
      expect(codes).toEqual([['200']]);
      await saveScreenshot(page, 'event-detail-resent');
      expect((await api('DELETE', `/webhook-endpoints/${endpoint.body.id}`)).status).toBe(200);
    } finally {
      await receiver.close();
    }
  });

  it('renders injected markup in metadata as text, and its Content-Security-Policy blocks inline scripts', async () => {
    const script = '<script>window.__pwned=1</script>';
    const image = '<img src=x onerror="window.__pwned=2">';
    const customer = await createCustomer({ metadata: { note: script, avatar: image } });
    const page = await signedInPage();
    // Every CSP violation of the page, recorded from before its first script runs.
    await page.evaluateOnNewDocument(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (event: any) => window.__violations.push(event.effectiveDirective));
    });

    const response = await open(page, `/dashboard/customers/${customer.id}`);
    expect(response.status()).toBe(200);
    const policy = response.headers()['content-security-policy'];
    expect(policy).toBeDefined();
    expect(policy).not.toContain("'unsafe-inline'");
    expect(policy).not.toContain("'unsafe-eval'");
    expect(policy).toMatch(/(^|;)\s*(script-src|default-src)\s/);

    await page.waitForSelector('[data-metadata]');
    const metadata = await page.$eval('[data-metadata]', (element: any) => ({
      text: String(element.textContent),
      elements: [...element.querySelectorAll('script, img')].length,
    }));
    expect(metadata.text).toContain(script);
    expect(metadata.text).toContain(image);
    expect(metadata.elements).toBe(0);
    expect(await page.evaluate(() => typeof window.__pwned)).toBe('undefined');

    // An inline script injected through the DOM is refused by the policy, and reported.
    await page.evaluate(() => {
      const injected = document.createElement('script');
      injected.textContent = 'window.__pwned = 3';
      document.body.append(injected);
    });
    await page.waitForFunction(() => window.__violations.some((directive: string) => directive.startsWith('script-src')), { timeout: 5_000 });
    expect(await page.evaluate(() => typeof window.__pwned)).toBe('undefined');
  });

  it('renders every page, saving a screenshot of each, and the overview at 375 px wide without overflowing', async () => {
    const receiver = await startReceiver();
    try {
      const customer = await createCustomer({ email: 'ada@example.com', metadata: { plan: 'pro' } });
      const address = customer.addresses.find((entry) => entry.network === 'ethereum')!.address;
      const simulated = await api('POST', '/deposits/simulate', { customer_id: customer.id, network: 'ethereum', currency: 'USDC', amount: '40' });
      expect(simulated.status).toBe(200);
      const depositId = simulated.body.id as string;
      const order = await api('POST', '/orders', {
        external_id: 'e2e-order-1',
        network: 'ethereum',
        currency: 'USDT',
        amount: '12.5',
        customer_id: customer.id,
      });
      expect(order.status).toBe(200);
      const endpoint = await api('POST', '/webhook-endpoints', { url: receiver.url, events: ['*'] });
      expect(endpoint.status).toBe(200);
      const events = (await api('GET', '/events?type=customer.created')).body as { data: Array<{ id: string; data: { id: string } }> };
      const eventId = events.data.find((event) => event.data.id === customer.id)!.id;
      await waitFor('the deposit completed', async () => (await api('GET', `/deposits/${depositId}`)).body.status === 'completed', 60_000);

      const page = await signedInPage();
      await page.setViewport({ width: 1280, height: 900 });
      const pages: Array<{ name: string; path: string; hooks: string[] }> = [
        {
          name: 'overview',
          path: '/dashboard',
          hooks: ['[data-balance]', '[data-net-usd]', '[data-balance-row]', 'svg[data-chart="deposits-per-day"]', 'svg[data-chart="time-to-completion"]'],
        },
        {
          name: 'deposits',
          path: '/dashboard/deposits',
          hooks: [`tr[data-deposit-id="${depositId}"] [data-field="status"]`, 'form#simulate', 'a[data-download-csv]'],
        },
        {
          name: 'balance',
          path: '/dashboard/balance',
          hooks: ['form#balance-filters', 'a[data-download-csv]', '[data-balance-transaction-id] [data-field="type"]'],
        },
        {
          name: 'deposit-detail',
          path: `/dashboard/deposits/${depositId}`,
          hooks: ['[data-deposit-status]', 'progress[data-confirmations]', '[data-fee]', '[data-net]', '[data-event-id]'],
        },
        { name: 'customers', path: '/dashboard/customers', hooks: [`tr[data-customer-id="${customer.id}"]`, 'form#create-customer'] },
        {
          name: 'customer-detail',
          path: `/dashboard/customers/${customer.id}`,
          hooks: ['[data-address][data-network="ethereum"]', 'svg[data-qr]', '[data-metadata]'],
        },
        { name: 'orders', path: '/dashboard/orders', hooks: [`tr[data-order-id="${order.body.id}"]`] },
        { name: 'order-detail', path: `/dashboard/orders/${order.body.id}`, hooks: ['[data-order-status]'] },
        { name: 'webhooks', path: '/dashboard/webhooks', hooks: ['form#create-endpoint', `tr[data-endpoint-id="${endpoint.body.id}"]`] },
        { name: 'webhook-detail', path: `/dashboard/webhooks/${endpoint.body.id}`, hooks: ['form#rotate-secret', 'form#toggle-endpoint', 'form#send-test'] },
        { name: 'events', path: '/dashboard/events', hooks: [`tr[data-event-id="${eventId}"]`] },
        { name: 'event-detail', path: `/dashboard/events/${eventId}`, hooks: ['form#resend'] },
      ];
      for (const { name, path, hooks } of pages) {
        const response = await open(page, path);
        expect({ name, status: response.status(), url: page.url() }).toEqual({ name, status: 200, url: url(path) });
        const missing: string[] = [];
        for (const hook of ['header nav', '[data-mode="test"]', 'form#logout', ...hooks]) if ((await page.$(hook)) === null) missing.push(hook);
        expect({ name, missing }).toEqual({ name, missing: [] });
        const file = await saveScreenshot(page, name);
        expect((await stat(file)).size).toBeGreaterThan(0);
      }
      // The deposits list filtered to this customer, through its form: the download link fetched by the
      // browser (its session cookie) is the API's export of exactly that filter.
      await open(page, '/dashboard/deposits');
      await typeInto(page, 'form#deposit-filters input[name=customer_id]', customer.id);
      await submit(page, 'form#deposit-filters');
      const href = await page.$eval('a[data-download-csv]', (link: any) => String(link.getAttribute('href')));
      expect(href).toBe(`/dashboard/deposits/export?customer_id=${customer.id}`);
      const downloaded = await page.evaluate(async (path: string) => {
        const response = await fetch(path);
        return { status: response.status, disposition: response.headers.get('content-disposition'), text: await response.text() };
      }, href);
      const exported = await stack.api.request(`/api/v1/deposits/export?customer_id=${customer.id}`, { key: stack.acme.test_key });
      expect(downloaded).toEqual({ status: 200, disposition: 'attachment; filename="deposits-test.csv"', text: await exported.text() });
      expect(
        downloaded.text
          .trimEnd()
          .split('\r\n')
          .slice(1)
          .map((line) => line.split(',')[0]),
      ).toEqual([depositId]);
      // The ledger filtered to the deposit: its one booking, and the download says the same.
      await open(page, `/dashboard/balance?deposit_id=${depositId}`);
      expect(await textOf(page, '[data-balance-transaction-id] [data-field="type"]')).toBe('deposit');
      const ledger = await page.evaluate(async () => (await fetch(document.querySelector('a[data-download-csv]').getAttribute('href'))).text());
      const ledgerRows = ledger.trimEnd().split('\r\n');
      expect(ledgerRows).toHaveLength(2);
      expect(ledgerRows[1]).toContain(`,deposit,${depositId},,ethereum,USDC,40.000000,`);

      await open(page, `/dashboard/customers/${customer.id}`);
      expect(await textOf(page, '[data-address][data-network="ethereum"]')).toBe(address);
      await open(page, `/dashboard/deposits/${depositId}`);
      expect(await textOf(page, '[data-deposit-status]')).toBe('completed');
      await open(page, `/dashboard/orders/${order.body.id}`);
      expect(await textOf(page, '[data-order-status]')).toBe(order.body.status);

      // The overview on a phone: 375 px wide, nothing wider than the screen.
      await page.setViewport({ width: 375, height: 800 });
      await open(page, '/dashboard');
      await page.waitForSelector('[data-net-usd]');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      expect((await stat(await saveScreenshot(page, 'overview-375'))).size).toBeGreaterThan(0);

      // The sign-in page, in a context with no session.
      const anonymous = await freshPage();
      expect((await open(anonymous, '/dashboard/login')).status()).toBe(200);
      await anonymous.waitForSelector('form#login input[name=key]');
      expect((await stat(await saveScreenshot(anonymous, 'login'))).size).toBeGreaterThan(0);
      expect((await api('DELETE', `/webhook-endpoints/${endpoint.body.id}`)).status).toBe(200);
    } finally {
      await receiver.close();
    }
  });

  it('finds a request by the Request-Id its answer carried, typed into form#request-lookup, and lists it among the failed ones', async () => {
    const refused = await stack.api.request('/api/v1/customers/cus_00000000000000000000000000', { key: stack.acme.test_key });
    expect(refused.status).toBe(404);
    const requestId = refused.headers.get('Request-Id') as string;

    const page = await signedInPage();
    await page.setViewport({ width: 1280, height: 900 });
    await open(page, '/dashboard/requests');
    expect(await page.$eval('header nav a[aria-current="page"]', (link: any) => link.getAttribute('href'))).toBe('/dashboard/requests');
    await typeInto(page, 'form#request-lookup input[name=id]', requestId);
    const found = await submit(page, 'form#request-lookup');
    expect([found.status(), page.url()]).toEqual([200, url(`/dashboard/requests/${requestId}`)]);
    expect(await textOf(page, '[data-request-status]')).toBe('404');
    expect(await textOf(page, '[data-error-code]')).toBe('resource_missing');
    expect(await textOf(page, '[data-request-path]')).toBe('/api/v1/customers/cus_00000000000000000000000000');
    expect((await stat(await saveScreenshot(page, 'request-detail'))).size).toBeGreaterThan(0);

    // The list, filtered to failures from form#request-filters: the request is a row, linking to its page.
    await open(page, '/dashboard/requests');
    await page.select('form#request-filters select[name=result]', 'failed');
    await submit(page, 'form#request-filters');
    expect(page.url()).toContain('result=failed');
    expect(await textOf(page, `tr[data-request-id="${requestId}"] [data-field="status"]`)).toBe('404');
    expect((await stat(await saveScreenshot(page, 'requests'))).size).toBeGreaterThan(0);
  });
});
