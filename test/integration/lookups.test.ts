/**
 * The everyday lookups (docs/api.md, "Finding things"): a customer by deposit address or by the
 * start of its email or name, deposits by transaction hash or order, an object's events, event
 * families, and creation-time windows on every list. Real app and Postgres, no worker: each
 * object is made through the API and found through it.
 */
import { buildMerchant } from '../../dev/fixtures';
import type { TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';

describe('lookups (real app and Postgres)', () => {
  let stack: TestStack;
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    stack = await startTestStack('lookups', { worker: false });
    api = stack.api;
    key = (await buildMerchant(stack.database.db, 'Lookups')).test_key;
  });
  afterAll(async () => {
    await stack?.stop();
    await stack?.database.destroy();
  });

  const get = async (path: string) => {
    const response = await api.request(`/api/v1${path}`, { key });
    return { status: response.status, body: (await response.json()) as any };
  };
  const post = async (path: string, json: unknown) => {
    const response = await api.request(`/api/v1${path}`, { method: 'POST', key, json });
    expect(response.status).toBe(200);
    return (await response.json()) as any;
  };
  const ids = (list: { data: Array<{ id: string }> }) => list.data.map((item) => item.id);

  it('finds a customer by its deposit address, in any letter case, archived or not', async () => {
    const ada = await post('/customers', { email: 'ada@example.com', name: 'Ada Lovelace' });
    await post('/customers', { email: 'grace@example.com' });
    const addressOn = (network: string): string => ada.addresses.find((address: { network: string }) => address.network === network).address;
    expect(ids((await get(`/customers?address=${addressOn('ethereum').toLowerCase()}`)).body)).toEqual([ada.id]);
    expect(ids((await get(`/customers?address=${addressOn('tron')}`)).body)).toEqual([ada.id]);
    await api.request(`/api/v1/customers/${ada.id}`, { method: 'DELETE', key });
    expect(ids((await get(`/customers?address=${addressOn('ethereum')}`)).body)).toEqual([ada.id]);
    // Nobody's address: an empty list. Not an address at all: a 400 naming the field.
    expect((await get(`/customers?address=0x${'ab'.repeat(20)}`)).body.data).toEqual([]);
    expect(await get('/customers?address=ada')).toMatchObject({ status: 400, body: { error: { param: 'address' } } });
  });

  it('searches customers by the start of their email or name, ignoring case, with LIKE characters taken literally', async () => {
    const alan = await post('/customers', { email: 'alan@example.com', name: 'Alan Turing' });
    const turing = await post('/customers', { email: 'x_y@example.com', name: 'turing fan' });
    expect(ids((await get('/customers?search=ALAN')).body)).toEqual([alan.id]);
    expect(ids((await get('/customers?search=Turing')).body)).toEqual([turing.id]);
    expect(ids((await get('/customers?search=x_')).body)).toEqual([turing.id]);
    expect((await get('/customers?search=x%25')).body.data).toEqual([]);
    expect((await get('/customers?search=%25')).body.data).toEqual([]);
  });

  it("finds deposits by transaction hash and by order, and an object's events", async () => {
    const customer = await post('/customers', { email: 'payer@example.com' });
    const paid = await post('/deposits/simulate', { customer_id: customer.id, network: 'ethereum', currency: 'USDT', amount: '10', outcome: 'completed' });
    await post('/deposits/simulate', { customer_id: customer.id, network: 'ethereum', currency: 'USDT', amount: '11', outcome: 'completed' });
    expect(ids((await get(`/deposits?transaction_hash=${paid.transaction_hash.toUpperCase().replace('0X', '0x')}`)).body)).toEqual([paid.id]);

    const order = await post('/orders', { external_id: 'lookup-order-1', network: 'ethereum', currency: 'USDT', amount: '5', expires_in: 900 });
    // Paying an order, the amount defaults to the order's in full; paying a customer, it is required.
    const payment = await post('/deposits/simulate', { order_id: order.id });
    expect(payment.amount).toBe(order.amount);
    expect(ids((await get(`/deposits?order_id=${order.id}`)).body)).toEqual([payment.id]);
    const missing = await api.request('/api/v1/deposits/simulate', {
      method: 'POST',
      key,
      json: { customer_id: customer.id, network: 'ethereum', currency: 'USDT' },
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: 'parameter_missing', param: 'amount' } });

    const history = (await get(`/events?object_id=${customer.id}`)).body;
    expect(history.data.map((event: { event: string; data: { id: string } }) => [event.event, event.data.id])).toEqual([['customer.created', customer.id]]);
    expect((await get(`/events?object_id=${paid.id}`)).body.data.map((event: { event: string }) => event.event)).toEqual(['deposit.detected']);
  });

  it('exports deposits as CSV with the list filters: every one, exact amounts, fields quoted where they must be', async () => {
    const customer = await post('/customers', { email: 'csv@example.com' });
    const made = [];
    for (const amount of ['1.5', '2', '1000000.123456']) {
      made.push(await post('/deposits/simulate', { customer_id: customer.id, network: 'ethereum', currency: 'USDT', amount, outcome: 'completed' }));
    }
    const response = await api.request(`/api/v1/deposits/export?customer_id=${customer.id}`, { key });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="deposits-test.csv"');
    const [header, ...rows] = (await response.text()).split('\r\n').filter((line) => line !== '');
    const columns = header!.split(',');
    expect(columns.slice(0, 7)).toEqual(['id', 'created_at', 'status', 'failure_reason', 'network', 'currency', 'amount']);
    const field = (row: string, name: string) => row.split(',')[columns.indexOf(name)];
    // Newest first, as the list; every deposit of the customer, and only those.
    expect(rows.map((row) => field(row, 'id'))).toEqual(made.map((deposit) => deposit.id).reverse());
    expect(rows.map((row) => field(row, 'amount'))).toEqual(made.map((deposit) => deposit.amount).reverse());
    expect(rows.map((row) => field(row, 'customer_id'))).toEqual([customer.id, customer.id, customer.id]);

    // A filter matching nothing is a header alone; a bad filter is refused before anything is sent.
    const none = await api.request(`/api/v1/deposits/export?customer_id=${customer.id}&created[lt]=2000-01-01T00:00:00Z`, { key });
    expect((await none.text()).split('\r\n').filter((line) => line !== '')).toEqual([header]);
    expect(await get('/deposits/export?status=lost')).toMatchObject({ status: 400, body: { error: { param: 'status' } } });
    expect(await get('/deposits/export?limit=10')).toMatchObject({ status: 400, body: { error: { code: 'parameter_unknown', param: 'limit' } } });
  });

  it('takes an event family wherever an event type is taken', async () => {
    const families = (await get('/events?type=deposit.*')).body.data.map((event: { event: string }) => event.event);
    expect(families.length).toBeGreaterThan(0);
    expect(families.every((type: string) => type.startsWith('deposit.'))).toBe(true);
    // On loopback, which test stacks allow, with no worker to deliver anything.
    const endpoint = await post('/webhook-endpoints', { url: 'http://127.0.0.1:1/hook', events: ['deposit.*', 'order.completed'] });
    expect(endpoint.events).toEqual(['deposit.*', 'order.completed']);
    expect(await get('/events?type=refund.*')).toMatchObject({ status: 400, body: { error: { param: 'type' } } });
  });

  it('windows every list by creation time, created[gte] inclusive and created[lt] exclusive', async () => {
    const first = await post('/customers', { email: 'w1@example.com' });
    const second = await post('/customers', { email: 'w2@example.com' });
    const third = await post('/customers', { email: 'w3@example.com' });
    const at = encodeURIComponent(second.created_at);
    const windowed = (query: string) =>
      get(`/customers?limit=100&${query}`).then(({ body }) => ids(body).filter((id: string) => [first.id, second.id, third.id].includes(id)));
    expect(await windowed(`created[gte]=${at}`)).toEqual(expect.arrayContaining([second.id, third.id]));
    expect(await windowed(`created[gte]=${at}`)).not.toContain(first.id);
    expect(await windowed(`created[lt]=${at}`)).toEqual([first.id]);
    expect(await windowed(`created[gte]=${at}&created[lt]=${encodeURIComponent(third.created_at)}`)).toEqual([second.id]);
    // An offset is a time like any other; a date without one is refused, naming the parameter.
    expect((await get(`/events?created[gte]=2000-01-01T00:00:00%2B02:00`)).status).toBe(200);
    expect(await get('/deposits?created[lt]=yesterday')).toMatchObject({ status: 400, body: { error: { param: 'created[lt]' } } });
  });
});
