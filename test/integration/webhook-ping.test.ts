import { Webhook } from 'standardwebhooks';
import { startReceiver } from '../helpers/receiver';
import { waitFor } from '../helpers/wait';
import { useApiStack } from '../helpers/api-stack';
import { buildMerchant } from '../../dev/fixtures';

/** POST /webhook-endpoints/:id/test: a ping through the real delivery workflow (real worker, Temporal dev server, HTTP receiver). */
describe('webhook endpoint test ping (real worker, Temporal dev server, Postgres, HTTP receiver)', () => {
  const stack = useApiStack('webhook-ping');

  const call = async (method: string, path: string, json?: unknown, options: { key?: string; headers?: Record<string, string> } = {}) => {
    const response = await stack.api.request(`/api/v1${path}`, {
      method,
      key: options.key ?? stack.acme.test_key,
      ...(json !== undefined ? { json } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const pingCount = async () =>
    Number(
      (
        await stack.database.db
          .selectFrom('events')
          .select((eb) => eb.fn.countAll<string>().as('count'))
          .where('type', '=', 'ping')
          .executeTakeFirstOrThrow()
      ).count,
    );

  it('sends a signed ping to that endpoint only, even one not subscribed to it, and records the attempt under the event', async () => {
    const receiver = await startReceiver();
    const bystander = await startReceiver();
    try {
      const endpoint = (await call('POST', '/webhook-endpoints', { url: receiver.url, events: ['deposit.completed'] })).body;
      // Subscribed to everything, and still not a destination: a ping goes to the endpoint it is sent for.
      await call('POST', '/webhook-endpoints', { url: bystander.url, events: ['*'] });

      const sent = await call('POST', `/webhook-endpoints/${endpoint.id}/test`);
      expect(sent.status).toBe(200);
      expect(sent.body).toEqual({
        id: expect.stringMatching(/^evt_/),
        object: 'event',
        event: 'ping',
        created_at: expect.any(String),
        livemode: false,
        data: {
          id: endpoint.id,
          object: 'webhook_endpoint',
          livemode: false,
          url: receiver.url,
          events: ['deposit.completed'],
          description: null,
          disabled: false,
          disabled_reason: null,
          x_webhook_signature_format: 'compact',
          created_at: endpoint.created_at,
          updated_at: endpoint.updated_at,
        },
        deliveries: [
          {
            id: expect.any(String),
            endpoint_id: endpoint.id,
            order_id: null,
            status: 'pending',
            redelivery: false,
            created_at: expect.any(String),
            attempts: [],
          },
        ],
      });

      await receiver.waitForRequests(1);
      const [request] = receiver.requests;
      // A Standard Webhooks receiver verifies it with the endpoint's secret, on the raw body.
      const verified = new Webhook(endpoint.secret).verify(request!.rawBody, request!.headers as Record<string, string>);
      const { deliveries: _deliveries, ...eventObject } = sent.body;
      expect(verified).toEqual(eventObject);
      expect(request!.rawBody).toBe(JSON.stringify(eventObject));
      expect(request!.headers['webhook-id']).toBe(sent.body.id);

      await waitFor('attempt recorded', async () => (await call('GET', `/events/${sent.body.id}`)).body.deliveries[0].status === 'succeeded');
      expect((await call('GET', `/events/${sent.body.id}`)).body.deliveries).toEqual([
        {
          id: sent.body.deliveries[0].id,
          endpoint_id: endpoint.id,
          order_id: null,
          status: 'succeeded',
          redelivery: false,
          created_at: expect.any(String),
          attempts: [
            {
              attempt: 1,
              attempted_at: expect.any(String),
              status_code: 200,
              latency_ms: expect.any(Number),
              succeeded: true,
              error: null,
              // The receiver is on loopback: its answer is never stored or shown.
              response_body: null,
            },
          ],
        },
      ]);
      expect((await call('GET', '/events?type=ping')).body.data.map((event: any) => event.id)).toEqual([sent.body.id]);

      // A resend of the ping goes to the same endpoint again, never to the `*` subscriber.
      const resent = await call('POST', `/events/${sent.body.id}/resend`);
      expect(resent.status).toBe(200);
      await receiver.waitForRequests(2);
      expect(receiver.requests[1]!.headers['webhook-id']).toBe(sent.body.id);
      await waitFor('redelivery recorded', async () =>
        (await call('GET', `/events/${sent.body.id}`)).body.deliveries.some((delivery: any) => delivery.redelivery && delivery.status === 'succeeded'),
      );
      expect((await call('GET', `/events/${sent.body.id}`)).body.deliveries.map((delivery: any) => delivery.endpoint_id)).toEqual([endpoint.id, endpoint.id]);
      expect(bystander.requests).toEqual([]);
    } finally {
      await receiver.close();
      await bystander.close();
    }
  });

  it('retries a failed ping on the delivery schedule, recording every attempt', async () => {
    const receiver = await startReceiver((_request, index) => (index === 0 ? 503 : 200));
    try {
      const endpoint = (await call('POST', '/webhook-endpoints', { url: receiver.url, events: ['customer.created'] })).body;
      const sent = (await call('POST', `/webhook-endpoints/${endpoint.id}/test`)).body;
      // The schedule's second attempt comes 5 s after the first.
      await waitFor('retried and succeeded', async () => (await call('GET', `/events/${sent.id}`)).body.deliveries[0].status === 'succeeded', 30_000);
      const attempts = (await call('GET', `/events/${sent.id}`)).body.deliveries[0].attempts;
      expect(attempts).toMatchObject([
        { attempt: 1, status_code: 503, succeeded: false, error: 'HTTP 503' },
        { attempt: 2, status_code: 200, succeeded: true, error: null },
      ]);
      expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([sent.id, sent.id]);
    } finally {
      await receiver.close();
    }
  });

  it('replays a ping sent with the same Idempotency-Key instead of sending another', async () => {
    const endpoint = (await call('POST', '/webhook-endpoints', { url: 'http://127.0.0.1:9/nothing-listens', events: ['*'] })).body;
    const before = await pingCount();
    const first = await call('POST', `/webhook-endpoints/${endpoint.id}/test`, undefined, { headers: { 'Idempotency-Key': 'ping-once' } });
    const again = await call('POST', `/webhook-endpoints/${endpoint.id}/test`, undefined, { headers: { 'Idempotency-Key': 'ping-once' } });
    expect(again.body.id).toBe(first.body.id);
    expect(await pingCount()).toBe(before + 1);
    await call('PATCH', `/webhook-endpoints/${endpoint.id}`, { disabled: true });
  });

  it('refuses a disabled endpoint with a 400 and sends nothing', async () => {
    const receiver = await startReceiver();
    try {
      const endpoint = (await call('POST', '/webhook-endpoints', { url: receiver.url, events: ['*'] })).body;
      await call('PATCH', `/webhook-endpoints/${endpoint.id}`, { disabled: true });
      const before = await pingCount();
      const refused = await call('POST', `/webhook-endpoints/${endpoint.id}/test`);
      expect(refused).toEqual({
        status: 400,
        body: { error: { type: 'invalid_request_error', code: 'webhook_endpoint_disabled', message: expect.stringContaining('disabled') } },
      });
      expect(await pingCount()).toBe(before);

      // Enabled again, it can be pinged.
      await call('PATCH', `/webhook-endpoints/${endpoint.id}`, { disabled: false });
      expect((await call('POST', `/webhook-endpoints/${endpoint.id}/test`)).status).toBe(200);
      await receiver.waitForRequests(1);
    } finally {
      await receiver.close();
    }
  });

  it('is a 404 for a deleted, unknown or foreign endpoint, and a 400 for a parameter it does not take', async () => {
    const endpoint = (await call('POST', '/webhook-endpoints', { url: 'http://127.0.0.1:9/nothing-listens', events: ['*'] })).body;
    const other = await buildMerchant(stack.database.db, 'Other');
    const before = await pingCount();
    expect((await call('POST', `/webhook-endpoints/${endpoint.id}/test`, undefined, { key: other.test_key })).status).toBe(404);
    expect((await call('POST', `/webhook-endpoints/${endpoint.id}/test`, undefined, { key: stack.acme.live_key })).status).toBe(404);
    expect((await call('POST', '/webhook-endpoints/we_00000000000000000000000000/test')).status).toBe(404);
    expect(await call('POST', `/webhook-endpoints/${endpoint.id}/test`, { event: 'deposit.completed' })).toEqual({
      status: 400,
      body: { error: expect.objectContaining({ code: 'parameter_unknown', param: 'event' }) },
    });
    await call('DELETE', `/webhook-endpoints/${endpoint.id}`);
    expect((await call('POST', `/webhook-endpoints/${endpoint.id}/test`)).body.error).toMatchObject({ code: 'resource_missing', param: 'id' });
    expect(await pingCount()).toBe(before);
  });

  it('needs write permission on webhook_endpoints', async () => {
    const endpoint = (await call('POST', '/webhook-endpoints', { url: 'http://127.0.0.1:9/nothing-listens', events: ['*'] })).body;
    const keyWith = async (permissions: unknown) => (await call('POST', '/api-keys', { name: 'restricted', permissions })).body.secret as string;
    const readOnly = await keyWith({ webhook_endpoints: 'read' });
    expect(await call('POST', `/webhook-endpoints/${endpoint.id}/test`, undefined, { key: readOnly })).toMatchObject({
      status: 403,
      body: { error: { type: 'permission_error', code: 'api_key_permission_denied' } },
    });
    const writer = await keyWith({ webhook_endpoints: 'write' });
    expect((await call('POST', `/webhook-endpoints/${endpoint.id}/test`, undefined, { key: writer })).status).toBe(200);
    await call('PATCH', `/webhook-endpoints/${endpoint.id}`, { disabled: true });
  });

  it('is no event type an endpoint can subscribe to', async () => {
    for (const events of [['ping'], ['deposit.completed', 'ping']]) {
      const refused = await call('POST', '/webhook-endpoints', { url: 'http://127.0.0.1:9/hook', events });
      expect(refused.status).toBe(400);
      expect(refused.body.error.param).toMatch(/^events/);
    }
  });
});
