/**
 * The hosted payment page over HTTP (docs/checkout.md): each order's `payment_url`, what the page
 * shows and hides, its refusals, its languages, the merchant's display name and logo, the live
 * stream of one order's status, and the test-mode simulate form. Real API, worker on the run's
 * Temporal dev server, Postgres; the browser's view of the same page is test/e2e/checkout.test.ts.
 */
import { readServerSentEvents, type ServerSentEvent } from '../../sdk/src/server-sent-events';
import { useApiStack } from '../helpers/api-stack';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120_000);

/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

describe('payment page (real API, worker, Temporal dev server, Postgres)', () => {
  const stack = useApiStack('checkout');

  const api = async (method: string, path: string, json?: unknown, key = stack.acme.test_key) => {
    const response = await stack.api.request(`/api/v1${path}`, { method, key, ...(json !== undefined ? { json } : {}) });
    return { status: response.status, body: (await response.json()) as any };
  };
  let serial = 0;
  const createOrder = async (json: Record<string, unknown> = {}, key = stack.acme.test_key) => {
    const created = await api('POST', '/orders', { external_id: `checkout-${++serial}`, network: 'ethereum', currency: 'USDT', amount: '25', ...json }, key);
    expect(created).toMatchObject({ status: 200 });
    return created.body as { id: string; payment_url: string; address: string; external_id: string; success_url: string | null; cancel_url: string | null };
  };
  const page = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
  const pathOf = (url: string) => new URL(url).pathname;

  /** The page's live stream, read in the background. */
  const openStream = async (paymentUrl: string) => {
    const abort = new AbortController();
    const response = await fetch(`${paymentUrl}/events`, { signal: abort.signal });
    const received: ServerSentEvent[] = [];
    const ended =
      response.ok && response.body
        ? (async () => {
            try {
              for await (const event of readServerSentEvents(response.body!)) received.push(event);
            } catch (error) {
              if (!abort.signal.aborted) throw error;
            }
          })()
        : Promise.resolve();
    const states = () => received.filter((event) => event.event === 'state').map((event) => JSON.parse(event.data) as { status: string; detail: string });
    return { response, received, states, ended, close: () => abort.abort() };
  };

  it("gives each order a payment_url on the API's origin, with its return URLs", async () => {
    const order = await createOrder({ success_url: 'https://shop.example/thanks?order=1', cancel_url: 'https://shop.example/cart' });
    expect(order.payment_url).toMatch(new RegExp(`^${stack.api.baseUrl}/pay/cs_test_[A-Za-z0-9_-]{32}$`));
    expect(order.payment_url).not.toContain(order.id);
    expect(order).toMatchObject({ success_url: 'https://shop.example/thanks?order=1', cancel_url: 'https://shop.example/cart' });
    expect((await api('GET', `/orders/${order.id}`)).body.payment_url).toBe(order.payment_url);
  });

  it('refuses return URLs a browser should not be sent to, naming the field, and writes nothing', async () => {
    for (const [field, value] of [
      ['success_url', 'javascript:alert(1)'],
      ['success_url', 'https://user:pass@shop.example/'],
      ['cancel_url', 'ftp://shop.example/'],
      ['cancel_url', 'not a url'],
    ] as const) {
      const refused = await api('POST', '/orders', {
        external_id: `refused-${field}-${value}`,
        network: 'arbitrum',
        currency: 'USDT',
        amount: '1',
        [field]: value,
      });
      expect(refused).toMatchObject({ status: 400, body: { error: { param: field } } });
    }
    // Live mode wants https.
    const live = await api(
      'POST',
      '/orders',
      { external_id: 'live-http', network: 'arbitrum', currency: 'USDT', amount: '1', success_url: 'http://shop.example/thanks' },
      stack.acme.live_key,
    );
    expect(live).toMatchObject({ status: 400, body: { error: { param: 'success_url', code: 'url_invalid' } } });
    expect((await api('GET', '/orders?external_id=live-http', undefined, stack.acme.live_key)).body.data).toEqual([]);
  });

  it('shows the payer what to send and where, and nothing private of the order or the merchant', async () => {
    const order = await createOrder({ metadata: { internal_note: 'vip-customer-7' }, callback_url: 'http://127.0.0.1:1/private-callback' });
    const response = await page(order.payment_url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).not.toMatch(/unsafe-inline|https?:/);
    expect(response.headers.get('referrer-policy')).toBe('same-origin');
    expect(response.headers.get('x-robots-tag')).toContain('noindex');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.text();
    expect(body).toContain(order.address);
    expect(body).toContain('25.000000');
    expect(body).toContain('Ethereum');
    expect(body).toContain('USDT on Tron is not USDT on Ethereum');
    expect(body).toContain('Waiting for your payment');
    expect(body).toContain('Test mode');
    for (const secret of [order.id, order.external_id, stack.acme.merchant_id, 'vip-customer-7', 'private-callback']) expect(body).not.toContain(secret);
  });

  it('answers a token that opens nothing with the same 404, whatever is wrong with it', async () => {
    const order = await createOrder();
    const token = pathOf(order.payment_url).slice('/pay/'.length);
    const otherMode = token.replace('cs_test_', 'cs_live_');
    const answers = await Promise.all(
      [`/pay/${otherMode}`, `/pay/cs_test_${'A'.repeat(32)}`, '/pay/nonsense', `/pay/${order.id}`].map(async (path) => {
        const response = await page(`${stack.api.baseUrl}${path}`);
        return { status: response.status, body: await response.text() };
      }),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.body).toBe(answers[0]!.body);
    }
    expect((await page(`${stack.api.baseUrl}/pay/${otherMode}/events`)).status).toBe(404);
  });

  it("speaks the browser's language, Spanish and German besides English", async () => {
    const order = await createOrder();
    const text = async (headers: Record<string, string>, query = '') => (await page(`${order.payment_url}${query}`, headers)).text();
    expect(await text({ 'Accept-Language': 'es-ES,es;q=0.9,en;q=0.5' })).toContain('Esperando su pago');
    expect(await text({ 'Accept-Language': 'fr-FR, de;q=0.8, en;q=0.7' })).toContain('Warten auf Ihre Zahlung');
    expect(await text({ 'Accept-Language': 'ja' })).toContain('Waiting for your payment');
    expect(await text({ 'Accept-Language': 'es;q=0, de;q=0.5' })).toContain('lang="de"');
    expect(await text({ 'Accept-Language': 'en' }, '?lang=es')).toContain('lang="es"');
  });

  it("shows the merchant's display name and logo from inflow's own origin, set through PATCH /account", async () => {
    const named = await api('PATCH', '/account', { display_name: 'Acme <Shop>', logo: `data:image/png;base64,${PNG.toString('base64')}` });
    expect(named.status).toBe(200);
    expect(named.body).toMatchObject({ display_name: 'Acme <Shop>', logo: { type: 'image/png', bytes: PNG.length } });
    const order = await createOrder();
    const body = await (await page(order.payment_url)).text();
    expect(body).toContain('Pay Acme &#60;Shop&#62;');
    expect(body).toContain(`src="/pay/${pathOf(order.payment_url).slice(5)}/logo"`);
    const logo = await page(`${order.payment_url}/logo`);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await logo.arrayBuffer())).toEqual(PNG);

    // Bytes that are not the image the URL says: refused, and nothing changes.
    const lying = await api('PATCH', '/account', { logo: `data:image/png;base64,${Buffer.from('<svg onload=alert(1)>').toString('base64')}` });
    expect(lying).toMatchObject({ status: 400, body: { error: { code: 'logo_invalid', param: 'logo' } } });
    expect((await api('PATCH', '/account', { logo: 'https://evil.example/logo.png' })).status).toBe(400);
    expect((await api('GET', '/account')).body.logo).toEqual({ type: 'image/png', bytes: PNG.length });

    // A key without write access to the account cannot change it.
    const restricted = await api('POST', '/api-keys', { name: 'orders only', permissions: { orders: 'write', account: 'read' } });
    expect(restricted).toMatchObject({ status: 200 });
    expect((await api('PATCH', '/account', { display_name: 'Hijacked' }, restricted.body.secret)).status).toBe(403);

    const cleared = await api('PATCH', '/account', { display_name: null, logo: null });
    expect(cleared.body).toMatchObject({ display_name: null, logo: null });
    expect(await (await page(order.payment_url)).text()).toContain('Pay Acme');
    expect((await page(`${order.payment_url}/logo`)).status).toBe(404);
  });

  it("streams only its own order's status, live, to the end", async () => {
    const mine = await createOrder();
    const other = await createOrder();
    const stream = await openStream(mine.payment_url);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toContain('text/event-stream');
    await waitFor('the first state', async () => stream.states().length === 1);
    expect(stream.states()[0]).toMatchObject({ status: 'awaiting_payment', final: false, payable: true });

    // Another order of the same merchant is paid in full: this page hears nothing of it.
    expect((await api('POST', '/deposits/simulate', { order_id: other.id })).status).toBe(200);
    await waitFor('the other order completed', async () => (await api('GET', `/orders/${other.id}`)).body.status === 'completed', 60_000);

    expect((await api('POST', '/deposits/simulate', { order_id: mine.id })).status).toBe(200);
    await stream.ended;
    const statuses = stream.states().map((state) => state.status);
    expect(statuses[0]).toBe('awaiting_payment');
    expect(statuses).toContain('confirming');
    expect(statuses.at(-1)).toBe('completed');
    expect(stream.states().at(-1)).toMatchObject({ final: true, payable: false, detail: '25.000000 USDT received. Thank you.' });
    // Only this order's amounts were ever sent, and each state once.
    expect(new Set(stream.received.filter((event) => event.event === 'state').map((event) => event.data)).size).toBe(stream.states().length);
  });

  it('limits the live streams of one page, and frees them when they close', async () => {
    const order = await createOrder();
    const streams = await Promise.all(Array.from({ length: 5 }, () => openStream(order.payment_url)));
    expect(streams.map((stream) => stream.response.status)).toEqual([200, 200, 200, 200, 200]);
    const refused = await openStream(order.payment_url);
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers.get('retry-after')).toBe('10');
    streams[0]!.close();
    await waitFor('a slot freed', async () => {
      const again = await openStream(order.payment_url);
      again.close();
      return again.response.status === 200;
    });
    for (const stream of streams) stream.close();
  });

  it('renders an order whose time ran out as expired, and one paid in part as underpaid with what is missing', async () => {
    const expired = await createOrder();
    const partly = await createOrder({ amount: '10' });
    expect((await api('POST', '/deposits/simulate', { order_id: partly.id, amount: '4' })).status).toBe(200);
    await waitFor('the partial payment completed', async () => (await api('GET', `/orders/${partly.id}`)).body.amount_received === '4.000000', 60_000);
    expect(await (await page(partly.payment_url)).text()).toContain('4.000000 USDT received. Send the remaining 6.000000 USDT');

    // The deadline passed (set in the row: the order's workflow settles on the dev server's clock).
    await stack.database.db
      .updateTable('orders')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', 'in', [expired.id, partly.id])
      .execute();
    const expiredPage = await (await page(expired.payment_url)).text();
    expect(expiredPage).toContain('This payment request has expired');
    expect(expiredPage).toMatch(/data-pay\s+hidden/);
    expect(expiredPage).not.toContain('Simulate payment');
    expect(await (await page(partly.payment_url)).text()).toContain('4.000000 of 10.000000 USDT arrived in time; 6.000000 USDT is missing.');
  });

  it('simulates a payment of what is left from its own page only, once however often it is clicked', async () => {
    const order = await createOrder({ amount: '3' });
    const simulate = (headers: Record<string, string>) => fetch(`${order.payment_url}/simulate`, { method: 'POST', headers, redirect: 'manual' });
    // A form posted from another site: refused, nothing paid.
    expect((await simulate({ Origin: 'https://evil.example' })).status).toBe(403);
    expect((await simulate({})).status).toBe(403);
    expect((await api('GET', `/deposits?order_id=${order.id}`)).body.data).toEqual([]);

    const origin = { Origin: stack.api.baseUrl };
    const answers = await Promise.all([simulate(origin), simulate(origin)]);
    expect(answers.map((answer) => answer.status)).toEqual([303, 303]);
    expect(answers.map((answer) => answer.headers.get('location')!.split('?simulated=')[1]).sort()).toEqual(['0', '1']);
    const deposits = (await api('GET', `/deposits?order_id=${order.id}`)).body.data;
    expect(deposits).toHaveLength(1);
    expect(deposits[0]).toMatchObject({ amount: '3.000000', simulated: true });
    await waitFor('the order completed', async () => (await api('GET', `/orders/${order.id}`)).body.status === 'completed', 60_000);
    expect(await (await page(order.payment_url)).text()).toContain('3.000000 USDT received. Thank you.');
  });

  it('has no simulate form on a live page, and refuses one posted to it', async () => {
    const order = await createOrder({ success_url: 'https://shop.example/thanks' }, stack.acme.live_key);
    const body = await (await page(order.payment_url)).text();
    expect(body).not.toContain('Simulate payment');
    expect(body).not.toContain('Test mode');
    const posted = await fetch(`${order.payment_url}/simulate`, { method: 'POST', headers: { Origin: stack.api.baseUrl }, redirect: 'manual' });
    expect(posted.status).toBe(404);
  });
});
