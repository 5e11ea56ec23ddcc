import { insertEvent } from '../../src/events/events.repository';
import { newId } from '../../src/domain/ids';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { buildEvent, buildMerchant } from '../../dev/fixtures';
import { startTestApi } from '../helpers/api';
import { useApiStack } from '../helpers/api-stack';
import { openEventStream, type OpenStream } from '../helpers/event-stream';
import { waitFor } from '../helpers/wait';

/** `GET /events/stream` on the real API, with events made through the API and the real worker. */
describe('event stream (GET /api/v1/events/stream)', () => {
  const stack = useApiStack('event-stream');
  let other: CreatedMerchant;
  const streams: OpenStream[] = [];
  const open = async (...args: Parameters<typeof openEventStream> extends [string, ...infer Rest] ? Rest : never) => {
    const stream = await openEventStream(stack.api.baseUrl, ...args);
    streams.push(stream);
    return stream;
  };
  const acmeTest = () => ({ merchantId: stack.acme.merchant_id, livemode: false });
  const createCustomer = async (key = stack.acme.test_key) => {
    const response = await stack.api.request('/api/v1/customers', { method: 'POST', key, json: {} });
    expect(response.status).toBe(200);
    return ((await response.json()) as { id: string }).id;
  };

  beforeAll(async () => {
    other = await buildMerchant(stack.database.db, 'Other');
  });

  afterEach(() => {
    streams.splice(0).forEach((stream) => stream.close());
  });

  it('sends each new event within a poll of its commit, exactly as GET /events/:id shows it', async () => {
    const stream = await open(stack.acme.test_key);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.response.headers.get('request-id')).toMatch(/^req_/);

    const latencies: number[] = [];
    for (let round = 0; round < 5; round++) {
      const customerId = await createCustomer();
      const committed = performance.now();
      const sent = await stream.waitForEvent('customer.created', (event) => JSON.parse(event.data).data.id === customerId);
      latencies.push(sent.at - committed);
      const shown = await (await stack.api.request(`/api/v1/events/${sent.id}`, { key: stack.acme.test_key })).json();
      expect(sent).toMatchObject({ id: expect.stringMatching(/^evt_/), event: 'customer.created' });
      expect(JSON.parse(sent.data)).toEqual(shown);
    }
    // Polled every 200 ms: about 100 ms on average, a poll and a query at worst (generous for a loaded machine).
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    expect([...latencies].sort((a, b) => a - b)[2]).toBeLessThan(400);
  });

  it('sends an event that commits after a newer one was sent (ids sort by creation, not by commit)', async () => {
    const stream = await open(stack.acme.test_key);
    const newer = await buildEvent(stack.database.db, acmeTest());
    await stream.waitForEvent('the newer event', (event) => event.id === newer.id);
    // Made 5 s ago in a transaction that commits only now.
    const older = await insertEvent(stack.database.db, {
      id: newId('event', Date.now() - 5_000),
      merchant_id: stack.acme.merchant_id,
      livemode: false,
      type: 'customer.created',
      data: { id: newId('customer'), object: 'customer' },
    });
    expect(older.id < newer.id).toBe(true);
    await stream.waitForEvent('the older event, committed later', (event) => event.id === older.id);
    expect(stream.received.filter((event) => event.id === newer.id)).toHaveLength(1);
  });

  it('sends only the types asked for', async () => {
    const stream = await open(stack.acme.test_key, { query: '?types=deposit.*,order.canceled' });
    const customerId = await createCustomer();
    const simulated = await stack.api.request('/api/v1/deposits/simulate', {
      method: 'POST',
      key: stack.acme.test_key,
      json: { customer_id: customerId, network: 'ethereum', currency: 'USDT', amount: '25' },
    });
    const deposit = (await simulated.json()) as { id: string };
    await stream.waitForEvent('deposit.completed', (event) => event.event === 'deposit.completed' && JSON.parse(event.data).data.id === deposit.id);
    expect(stream.received.map((event) => event.event)).toEqual(['deposit.detected', 'deposit.confirming', 'deposit.completed']);
  });

  it('answers 400 in the error shape for types it does not know, and for unknown parameters', async () => {
    for (const [query, param, message] of [
      ['?types=deposit.*,order.paid', 'types', "Invalid types: 'order.paid' matches no event type (e.g. deposit.*, customer.created, or *)"],
      ['?types=', 'types', "Invalid types: '' matches no event type (e.g. deposit.*, customer.created, or *)"],
      ['?types=invoice.*', 'types', "Invalid types: 'invoice.*' matches no event type (e.g. deposit.*, customer.created, or *)"],
    ] as const) {
      const response = await stack.api.request(`/api/v1/events/stream${query}`, { key: stack.acme.test_key });
      expect([query, response.status]).toEqual([query, 400]);
      expect(await response.json()).toEqual({ error: { type: 'invalid_request_error', code: 'parameter_invalid', param, message } });
    }
    const unknown = await stack.api.request('/api/v1/events/stream?type=deposit.completed', { key: stack.acme.test_key });
    expect(await unknown.json()).toEqual({
      error: { type: 'invalid_request_error', code: 'parameter_unknown', param: 'type', message: 'Received unknown parameter: type' },
    });
    const badResume = await stack.api.request('/api/v1/events/stream', { key: stack.acme.test_key, headers: { 'Last-Event-ID': 'cus_123' } });
    expect([badResume.status, await badResume.json()]).toEqual([
      400,
      {
        error: {
          type: 'invalid_request_error',
          code: 'parameter_invalid',
          param: 'Last-Event-ID',
          message: 'Invalid Last-Event-ID: must be an event id (evt_…)',
        },
      },
    ]);
    const anonymous = await stack.api.request('/api/v1/events/stream');
    expect(anonymous.status).toBe(401);
  });

  it('resumes after Last-Event-ID, and only after one of the caller’s own events', async () => {
    const first = await buildEvent(stack.database.db, acmeTest());
    const second = await buildEvent(stack.database.db, acmeTest());
    const third = await buildEvent(stack.database.db, acmeTest());
    const stream = await open(stack.acme.test_key, { lastEventId: second.id });
    await stream.waitForEvent('the event after Last-Event-ID', (event) => event.id === third.id);
    const later = await buildEvent(stack.database.db, acmeTest());
    await stream.waitForEvent('a new event after the replay', (event) => event.id === later.id);
    const ids = stream.received.map((event) => event.id);
    expect(ids).not.toContain(second.id);
    // At least once: an event made in the 30 s before Last-Event-ID may have committed after it, so it is sent again.
    expect(ids).toContain(first.id);
    expect(ids.indexOf(later.id)).toBe(ids.length - 1);

    const othersEvent = await buildEvent(stack.database.db, { merchantId: other.merchant_id, livemode: false });
    const foreign = await stack.api.request('/api/v1/events/stream', { key: stack.acme.test_key, headers: { 'Last-Event-ID': othersEvent.id } });
    expect([foreign.status, await foreign.json()]).toEqual([
      404,
      { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'Last-Event-ID', message: `No such event: '${othersEvent.id}'` } },
    ]);
  });

  it('resumes over a backlog longer than one read, in order, each event once', async () => {
    const backlogged = await buildMerchant(stack.database.db, 'Backlogged');
    const started = Date.now() - 2 * 60 * 60 * 1000;
    const ids = Array.from({ length: 4_500 }, (_, index) => newId('event', started + index));
    await stack.database.db
      .insertInto('events')
      .values(
        ids.map((id) => ({
          id,
          merchant_id: backlogged.merchant_id,
          livemode: false,
          type: 'customer.created',
          data: JSON.stringify({ id: newId('customer'), object: 'customer' }),
        })),
      )
      .execute();
    const stream = await open(backlogged.test_key, { lastEventId: ids[0] });
    await stream.waitForEvent('the last of the backlog', (event) => event.id === ids.at(-1), 30_000);
    expect(stream.received.map((event) => event.id)).toEqual(ids.slice(1));
  });

  it("never sends another merchant's events, nor the other mode's", async () => {
    const stream = await open(stack.acme.test_key);
    const othersTest = await createCustomer(other.test_key);
    const acmeLive = await buildEvent(stack.database.db, { merchantId: stack.acme.merchant_id, livemode: true });
    const othersLive = await buildEvent(stack.database.db, { merchantId: other.merchant_id, livemode: true });
    const marker = await buildEvent(stack.database.db, acmeTest());
    // Committed after the others, and streams poll everything made in the last 30 s: had the others matched, they would be here by now.
    await stream.waitForEvent('the marker', (event) => event.id === marker.id);
    const othersStream = await open(other.test_key);
    const othersMarker = await buildEvent(stack.database.db, { merchantId: other.merchant_id, livemode: false });
    await othersStream.waitForEvent("the other merchant's marker", (event) => event.id === othersMarker.id);

    expect(stream.received.map((event) => event.id)).toEqual([marker.id]);
    expect(stream.received.map((event) => event.data).join()).not.toContain(othersTest);
    expect(othersStream.received.map((event) => event.id)).toEqual([othersMarker.id]);
    expect([acmeLive.id, othersLive.id].some((id) => streams.some((open) => open.received.some((event) => event.id === id)))).toBe(false);
  });

  it("holds none of the key's request slots; the merchant's open streams have a cap of their own", async () => {
    const api = await startTestApi({
      db: stack.database.db,
      temporal: stack.dev.client,
      rateLimits: { concurrentRequestsPerKey: 1, eventStreamsPerMerchant: 2 },
    });
    try {
      const streams = [await openEventStream(api.baseUrl, stack.acme.test_key), await openEventStream(api.baseUrl, stack.acme.live_key)];
      expect(streams.map((stream) => stream.response.status)).toEqual([200, 200]);
      // The key's one slot is free for its ordinary requests (a dashboard tab must not take them).
      const served = await api.request('/api/v1/balance', { key: stack.acme.test_key });
      expect(served.status).toBe(200);
      // A third stream of the merchant, in either mode, is one too many.
      const refused = await api.request('/api/v1/events/stream', { key: stack.acme.test_key });
      expect([refused.status, ((await refused.json()) as any).error.code]).toEqual([429, 'concurrency_limit_exceeded']);
      streams[0]!.close();
      await waitFor('a stream place is free again', async () => {
        const again = await openEventStream(api.baseUrl, stack.acme.test_key);
        again.close();
        return again.response.status === 200;
      });
      streams[1]!.close();
    } finally {
      await api.close();
    }
  });

  it('ends an open stream once its key is deleted', async () => {
    const created = await stack.api.request('/api/v1/api-keys', {
      method: 'POST',
      key: stack.acme.test_key,
      json: { name: 'Streamer', permissions: 'read_only' },
    });
    const { id, secret } = (await created.json()) as { id: string; secret: string };
    const stream = await open(secret);
    expect(stream.response.status).toBe(200);
    const deleted = await stack.api.request(`/api/v1/api-keys/${id}`, { method: 'DELETE', key: stack.acme.test_key });
    expect(deleted.status).toBe(200);
    // Ends by itself (the key check runs every second); the test's own timeout would catch a stream that keeps going.
    await stream.ended;
    await createCustomer();
    expect(stream.received).toEqual([]);
  });

  it('does not hold up the server when it stops: open streams end', async () => {
    const api = await startTestApi({ db: stack.database.db, temporal: stack.dev.client });
    const stream = await openEventStream(api.baseUrl, stack.acme.test_key);
    const started = performance.now();
    await api.close();
    expect(performance.now() - started).toBeLessThan(2_000);
    await stream.ended;
  });
});
