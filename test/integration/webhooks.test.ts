import { verifyWebhook } from '../../src/domain/signatures';
import { startReceiver } from '../helpers/receiver';
import { waitFor } from '../helpers/wait';
import { useApiStack } from '../helpers/api-stack';
import { buildMerchant, testSecretKey } from '../../dev/fixtures';
import { openWebhookSecret } from '../../src/webhooks/sealed-secrets';

/** Webhook endpoints, events and deliveries through the API, with the real worker on the dev server. */
describe('webhooks through the API (real worker, Temporal dev server, Postgres, HTTP receiver)', () => {
  const stack = useApiStack('webhooks-api');

  const call = async (method: string, path: string, json?: unknown, key = stack.acme.test_key) => {
    const response = await stack.api.request(`/api/v1${path}`, { method, key, ...(json !== undefined ? { json } : {}) });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('delivers customer.created and every deposit event to a test endpoint, verifiable, with attempts shown under the event', async () => {
    const receiver = await startReceiver();
    try {
      const created = await call('POST', '/webhook-endpoints', { url: receiver.url, events: ['*'], description: 'local' });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({
        id: expect.stringMatching(/^we_/),
        object: 'webhook_endpoint',
        livemode: false,
        url: receiver.url,
        events: ['*'],
        disabled: false,
        secret: expect.stringMatching(/^whsec_/),
      });
      const secret: string = created.body.secret;

      const customer = (await call('POST', '/customers', { email: 'ada@example.com' })).body;
      const deposit = (await call('POST', '/deposits/simulate', { customer_id: customer.id, network: 'ethereum', currency: 'USDC', amount: '25' })).body;
      await waitFor('deposit completed', async () => (await call('GET', `/deposits/${deposit.id}`)).body.status === 'completed', 90_000);
      await waitFor('four webhooks', async () => receiver.requests.length >= 4, 30_000);

      // Each delivery verifies with the README's receiver code, on the raw body.
      const events = receiver.requests.map((request) => verifyWebhook(request.rawBody, request.headers, secret) as any);
      expect(events.map((event) => event.event).sort()).toEqual(['customer.created', 'deposit.completed', 'deposit.confirming', 'deposit.detected']);
      const completed = events.find((event) => event.event === 'deposit.completed');
      expect(completed.data).toMatchObject({ id: deposit.id, status: 'completed', amount: '25.000000', fee: '2.000000', net_amount: '23.000000' });

      const shown = await call('GET', `/events/${completed.id}`);
      expect(shown.body).toMatchObject({
        id: completed.id,
        object: 'event',
        event: 'deposit.completed',
        deliveries: [
          {
            endpoint_id: created.body.id,
            status: 'succeeded',
            redelivery: false,
            // The receiver is on loopback: its answer is never stored or shown.
            attempts: [{ attempt: 1, status_code: 200, succeeded: true, error: null, response_body: null }],
          },
        ],
      });
      const listed = await call('GET', '/events?type=deposit.completed');
      expect(listed.body.data.map((event: any) => event.id)).toEqual([completed.id]);

      // Resend: the same event again, as a recorded redelivery.
      const before = receiver.requests.length;
      const resent = await call('POST', `/events/${completed.id}/resend`);
      expect(resent.status).toBe(200);
      await receiver.waitForRequests(before + 1);
      expect(receiver.requests.at(-1)!.headers['webhook-id']).toBe(completed.id);
      await waitFor('redelivery recorded', async () =>
        (await call('GET', `/events/${completed.id}`)).body.deliveries.some((delivery: any) => delivery.redelivery && delivery.status === 'succeeded'),
      );
    } finally {
      await receiver.close();
    }
  });

  it('manages endpoints: fetch without the secret, update, disable, rotate, delete', async () => {
    const created = (await call('POST', '/webhook-endpoints', { url: 'http://localhost:4242/hook', events: ['deposit.completed'] })).body;
    const fetched = await call('GET', `/webhook-endpoints/${created.id}`);
    expect(fetched.body).not.toHaveProperty('secret');
    expect(fetched.body).toMatchObject({ id: created.id, events: ['deposit.completed'] });

    const patched = await call('PATCH', `/webhook-endpoints/${created.id}`, {
      url: 'http://localhost:4343/other',
      events: ['deposit.failed', 'deposit.reversed'],
      disabled: true,
    });
    expect(patched.body).toMatchObject({
      url: 'http://localhost:4343/other',
      events: ['deposit.failed', 'deposit.reversed'],
      disabled: true,
      disabled_reason: expect.any(String),
    });
    const enabled = await call('PATCH', `/webhook-endpoints/${created.id}`, { disabled: false });
    expect(enabled.body).toMatchObject({ disabled: false, disabled_reason: null });

    const rotated = await call('POST', `/webhook-endpoints/${created.id}/rotate-secret`);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    const row = await stack.database.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    // Stored sealed (docs/security.md): it opens, under the server key, to the secret created above.
    expect(row.previous_secret).not.toContain('whsec_');
    expect(openWebhookSecret(row.previous_secret!, testSecretKey, row.id)).toBe(created.secret);
    expect(row.previous_secret_expires_at!.getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);

    const listed = await call('GET', '/webhook-endpoints?limit=100');
    expect(listed.body.data.map((endpoint: any) => endpoint.id)).toContain(created.id);
    expect((await call('DELETE', `/webhook-endpoints/${created.id}`)).body).toEqual({ id: created.id, object: 'webhook_endpoint', deleted: true });
    expect((await call('GET', `/webhook-endpoints/${created.id}`)).status).toBe(404);
  });

  it('keeps endpoints and events per merchant and mode', async () => {
    const other = await buildMerchant(stack.database.db, 'Other');
    const created = (await call('POST', '/webhook-endpoints', { url: 'http://localhost:4242/hook', events: ['*'] })).body;
    expect((await call('GET', `/webhook-endpoints/${created.id}`, undefined, other.test_key)).status).toBe(404);
    expect((await call('GET', `/webhook-endpoints/${created.id}`, undefined, stack.acme.live_key)).status).toBe(404);
    const event = (await call('GET', '/events?limit=1')).body.data[0];
    expect((await call('GET', `/events/${event.id}`, undefined, other.test_key)).status).toBe(404);
    expect((await call('POST', `/events/${event.id}/resend`, undefined, other.test_key)).status).toBe(404);
  });

  describe('bad endpoint input is a 400 naming the field', () => {
    it.each([
      [{ url: 'not a url', events: ['*'] }, 'url'],
      [{ url: '/relative/hook', events: ['*'] }, 'url'],
      [{ url: 'ftp://example.com/hook', events: ['*'] }, 'url'],
      [{ url: `https://example.com/${'a'.repeat(2048)}`.slice(0, 2049), events: ['*'] }, 'url'],
      [{ url: 'https://user:pass@example.com/hook', events: ['*'] }, 'url'],
      [{ url: 'https://example.com/hook', events: ['deposit.lost'] }, 'events[0]'],
      [{ url: 'https://example.com/hook', events: [] }, 'events'],
      [{ url: 'https://example.com/hook', events: ['*', 'deposit.completed'] }, 'events'],
      [{ url: 'https://example.com/hook' }, 'events'],
      [{ url: 'https://example.com/hook', events: ['*'], secret: 'mine' }, 'secret'],
    ])('%s', async (body, param) => {
      const response = await call('POST', '/webhook-endpoints', body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { type: 'invalid_request_error', param } });
    });

    it.each(['http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/hook', 'http://[fd00::1]/hook'])(
      'test mode refuses %s (only public or loopback)',
      async (url) => {
        const response = await call('POST', '/webhook-endpoints', { url, events: ['*'] });
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ error: { param: 'url' } });
      },
    );

    it.each([
      'http://example.com/hook',
      'https://127.0.0.1/hook',
      'https://[::1]/hook',
      'https://10.0.0.1/hook',
      'https://169.254.169.254/latest',
      'https://localhost/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://[::127.0.0.1]/hook',
      'https://[::ffff:0:7f00:1]/hook',
    ])('live mode refuses %s', async (url) => {
      const response = await call('POST', '/webhook-endpoints', { url, events: ['*'] }, stack.acme.live_key);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { param: 'url' } });
    });
  });
});
