import { freePort } from '../../dev/tools/ports';
import { buildEndpoint, buildMerchant, testSecretKeyHex, testXpubEnv } from '../../dev/fixtures';
import type { CreatedMerchant } from '../../src/merchants/merchants.service';
import { startTestStack } from '../helpers/api-stack';
import { emit } from '../../src/events/emitter';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startReceiver } from '../helpers/receiver';
import { ScriptProcess } from '../helpers/script-process';
import { uniqueTaskQueue } from '../helpers/temporal';
import { readTestEnv } from '../helpers/test-env';
import { waitFor } from '../helpers/wait';

/**
 * The transactional outbox, on real processes: `npm run api` (node itself, so SIGKILL reaches it)
 * with nothing listening at its TEMPORAL_ADDRESS, a real receiver, and later inflow's own worker
 * and relay on the run's Temporal dev server. The API must answer every write without Temporal,
 * and what it committed must be delivered even though the API was killed -9 right after.
 */
describe('the outbox: no committed workflow start is lost, and the API never waits on Temporal', () => {
  let database: TestDatabase;
  let merchant: CreatedMerchant;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    merchant = await buildMerchant(database.db, 'Outbox');
    receiver = await startReceiver();
    await buildEndpoint(database.db, { merchantId: merchant.merchant_id, livemode: false }, { url: receiver.url });
  });

  afterAll(async () => {
    await receiver?.close();
    await database?.destroy();
  });

  async function startApi(env: Record<string, string>): Promise<{ process: ScriptProcess; request(path: string, init?: RequestInit): Promise<Response> }> {
    const port = await freePort();
    const api = new ScriptProcess(['node', '--import', 'tsx', 'src/api/server.ts'], { ...env, PORT: String(port) });
    await api.waitForOutput(/API listening/);
    return {
      process: api,
      // The deadline turns a hung request into a failure instead of a test timeout.
      request: (path, init = {}) =>
        fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
          ...init,
          headers: { Authorization: `Bearer ${merchant.test_key}`, 'Content-Type': 'application/json', ...init.headers },
          signal: AbortSignal.timeout(10_000),
        }),
    };
  }

  it('Temporal down: writes answer at once; killed -9 right after, the API has lost nothing once a worker relays', async () => {
    const env = {
      DATABASE_URL: database.url,
      // Nothing listens here: every call to Temporal would be refused.
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      INFLOW_SECRET_KEY: testSecretKeyHex,
      INFLOW_SIMULATED_BLOCK_TIME_MS: '10',
      ...testXpubEnv(),
    };
    let api = await startApi(env);
    const create = await api.request('/customers', {
      method: 'POST',
      body: JSON.stringify({ email: 'kept@example.com' }),
      headers: { 'Idempotency-Key': 'outbox-1' },
    });
    expect(create.status).toBe(200);
    const customer = (await create.json()) as { id: string };
    const simulate = await api.request('/deposits/simulate', {
      method: 'POST',
      body: JSON.stringify({ customer_id: customer.id, network: 'ethereum', currency: 'USDT', amount: '25' }),
    });
    expect(simulate.status).toBe(200);
    const deposit = (await simulate.json()) as { id: string };
    const created = await database.db.selectFrom('events').select('id').where('type', '=', 'customer.created').executeTakeFirstOrThrow();
    expect((await api.request(`/events/${created.id}/resend`, { method: 'POST' })).status).toBe(200);
    api.process.signal('SIGKILL');
    await api.process.exited;

    // Committed and queued, nothing started: the deposit (with its simulator), and the deliveries of
    // customer.created, of deposit.detected (recorded with the simulated transfer) and of the resend.
    const queued = await database.db.selectFrom('workflow_outbox').select('workflow_type').orderBy('workflow_type').execute();
    expect(queued.map((row) => row.workflow_type)).toEqual(['depositWorkflow', ...Array(3).fill('webhookDeliveryWorkflow')]);

    // The client retries after the crash: the same answer, replayed, and still only one customer.
    api = await startApi(env);
    const replay = await api.request('/customers', {
      method: 'POST',
      body: JSON.stringify({ email: 'kept@example.com' }),
      headers: { 'Idempotency-Key': 'outbox-1' },
    });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replay.json()) as { id: string }).id).toBe(customer.id);
    api.process.signal('SIGKILL');
    await api.process.exited;

    // Temporal is back (a worker on the dev server): its relay hands every queued start over.
    const worker = await startTestStack('outbox', { database, api: false });
    try {
      const status = async () => (await database.db.selectFrom('deposits').select('status').where('id', '=', deposit.id).executeTakeFirstOrThrow()).status;
      await waitFor('the simulated deposit completes', async () => (await status()) === 'completed', 45_000);
      await waitFor('every event delivered, every delivery succeeded', async () => {
        const events = await database.db.selectFrom('events').select('id').execute();
        const deliveries = await database.db.selectFrom('webhook_deliveries').select(['event_id', 'status']).execute();
        const delivered = new Set(deliveries.filter((delivery) => delivery.status === 'succeeded').map((delivery) => delivery.event_id));
        return events.every((event) => delivered.has(event.id)) && deliveries.every((delivery) => delivery.status === 'succeeded');
      });
      expect(await database.db.selectFrom('workflow_outbox').selectAll().execute()).toEqual([]);

      const received = receiver.requests.map((request) => JSON.parse(request.rawBody) as { id: string; event: string });
      // customer.created twice (its delivery and the resend, one event id), and the deposit's events once each.
      expect(received.filter((event) => event.event === 'customer.created').map((event) => event.id)).toEqual([created.id, created.id]);
      expect(received.filter((event) => event.event === 'deposit.completed')).toHaveLength(1);
      const webhookIds = receiver.requests.filter((request) => request.rawBody.includes('customer.created')).map((request) => request.headers['webhook-id']);
      expect(new Set(webhookIds).size).toBe(1);
    } finally {
      await worker.stop();
    }
  });

  it("a worker killed -9 in the middle of a delivery's first attempt: another worker's relay makes it again, same webhook-id, once the lease expires", async () => {
    const owner = await buildMerchant(database.db, 'Outbox Kill');
    // The first POST is held (no answer, as if the worker died waiting); every later one is answered 200.
    const receiver = await startReceiver((_request, index) => (index === 0 ? 'handled' : 200));
    await buildEndpoint(database.db, { merchantId: owner.merchant_id, livemode: false }, { url: receiver.url });
    const worker = new ScriptProcess(['node', '--import', 'tsx', 'src/worker.ts'], {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('outbox-kill'),
      INFLOW_SECRET_KEY: testSecretKeyHex,
      INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK: 'true',
    });
    let stack: Awaited<ReturnType<typeof startTestStack>> | undefined;
    try {
      await worker.waitForOutput(/worker started/);
      const { eventId, queued } = await emit(
        database.db,
        'customer.created',
        { merchant_id: owner.merchant_id, livemode: false },
        { id: 'cus_killed', object: 'customer' },
      );
      const workflowId = `webhook:${eventId}:${queued[0]!.destinationId}`;
      await receiver.waitForRequests(1);
      worker.signal('SIGKILL');
      await worker.exited;

      // The POST was made and nothing recorded it; the row is still leased to the dead relay.
      const leased = await database.db.selectFrom('workflow_outbox').selectAll().where('workflow_id', '=', workflowId).executeTakeFirstOrThrow();
      expect(leased.available_at.getTime()).toBeGreaterThan(Date.now());
      expect(await database.db.selectFrom('webhook_attempts').select('id').where('delivery_id', '=', queued[0]!.deliveryId).execute()).toEqual([]);
      // The lease runs out (the test moves its clock rather than wait for it), and a live worker's relay takes the row.
      await database.db.updateTable('workflow_outbox').set({ available_at: new Date() }).where('workflow_id', '=', workflowId).execute();
      stack = await startTestStack('outbox-kill', { database, api: false });
      await waitFor('the delivery succeeded', async () => {
        const delivery = await database.db.selectFrom('webhook_deliveries').select('status').where('id', '=', queued[0]!.deliveryId).executeTakeFirstOrThrow();
        return delivery.status === 'succeeded';
      });
      await waitFor(
        'the row handed over',
        async () => (await database.db.selectFrom('workflow_outbox').select('workflow_id').where('workflow_id', '=', workflowId).execute()).length === 0,
      );

      // Attempt 1 was made twice (at least once), under one webhook-id, recorded once, and needed no workflow.
      expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([eventId, eventId]);
      const attempts = await database.db
        .selectFrom('webhook_attempts')
        .select(['attempt_number', 'status_code'])
        .where('delivery_id', '=', queued[0]!.deliveryId)
        .execute();
      expect(attempts).toEqual([{ attempt_number: 1, status_code: 200 }]);
      expect(
        await stack.dev.client.workflow
          .getHandle(workflowId)
          .describe()
          .then(
            () => 'started',
            () => 'none',
          ),
      ).toBe('none');
    } finally {
      try {
        worker.signal('SIGKILL');
      } catch {
        // Killed by the test already: its process group is gone.
      }
      await stack?.stop();
      await receiver.close();
    }
  });
});
