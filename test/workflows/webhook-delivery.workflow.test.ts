import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret } from '../../src/domain/signatures';
import { retryDelaysMs } from '../../src/domain/webhook-schedule';
import { describeWorkflow } from '../../src/workflows/client';
import { webhookDeliveryWorkflowId } from '../../src/workflows/definitions';
import { startMetadata } from '../../src/workflows/metadata';
import { webhookDeliveryWorkflow } from '../../src/workflows/webhook-delivery.workflow';
import { deliveriesOf } from '../../src/events/emitter';
import { buildEndpoint, buildEvent } from '../../dev/fixtures';
import { startReceiver } from '../helpers/receiver';
import { waitFor } from '../helpers/wait';
import { useTimeSkippingStack } from '../helpers/time-skipping';

const HOUR = 3_600_000;

/**
 * The real delivery workflow and activities, a real Postgres and a real HTTP receiver, on the
 * time-skipping server: three days of retries pass in seconds.
 */
describe('webhookDeliveryWorkflow (time-skipping, real activities, Postgres and receiver)', () => {
  const stack = useTimeSkippingStack('webhooks');
  const { taskQueue } = stack;

  /**
   * An endpoint for `url` and a fresh event, delivered by the real workflow. (The dispatcher that
   * starts it as an abandoned child is exercised on the dev server, in the integration tests: on
   * the Java time-skipping server a workflow that starts an abandoned child stops time skipping
   * for the rest of the run.)
   */
  async function deliverNewEvent(url: string) {
    const secret = generateWebhookSecret();
    const endpoint = await buildEndpoint(stack.database.db, stack.seeded.tenant, { url, events: ['customer.created'], secret });
    // Only this endpoint: earlier tests' endpoints are disabled so they take no part.
    await stack.database.db.updateTable('webhook_endpoints').set({ disabled: true }).where('id', '!=', endpoint.id).execute();
    const event = await buildEvent(stack.database.db, stack.seeded.tenant, { data: { id: stack.seeded.customer.id } });
    const [prepared] = await deliveriesOf(stack.database.db, event.id);
    const handle = await stack.env.client.workflow.start(webhookDeliveryWorkflow, {
      taskQueue,
      workflowId: webhookDeliveryWorkflowId(prepared!, false),
      args: [prepared!],
      ...startMetadata('webhookDeliveryWorkflow', [prepared!]),
    });
    const delivery = { id: prepared!.deliveryId };
    const attempts = async () =>
      stack.database.db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', delivery.id).orderBy('attempt_number').execute();
    const status = async () =>
      (await stack.database.db.selectFrom('webhook_deliveries').select('status').where('id', '=', delivery.id).executeTakeFirstOrThrow()).status;
    /** The Web UI's line for this delivery, after "customer.created evt_… → we_… — ". */
    const details = async () => {
      const overview = await describeWorkflow(stack.env.client, handle.workflowId);
      expect(overview.staticSummary).toBe(`customer.created ${event.id} → ${endpoint.id}`);
      expect(overview.currentDetails?.startsWith(`${overview.staticSummary} — `)).toBe(true);
      return overview.currentDetails!.slice(overview.staticSummary!.length + ' — '.length);
    };
    return { secret, endpoint, event, handle, attempts, status, details };
  }

  it('retries an endpoint that fails for 30 hours on the schedule, then delivers the same event, signed two ways', async () => {
    // Attempts at 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h later fall within 30 hours; the ninth does not.
    const receiver = await startReceiver((_request, index) => (index < 8 ? 503 : 200));
    try {
      const { secret, event, handle, attempts, status, details } = await deliverNewEvent(receiver.url);
      expect(await handle.result()).toBe('succeeded');
      expect(await status()).toBe('succeeded');
      expect(await details()).toBe('delivered 200 on attempt 9');

      const recorded = await attempts();
      expect(recorded.map((attempt) => [attempt.status_code, attempt.succeeded])).toEqual([...Array(8).fill([503, false]), [200, true]]);
      const gaps = recorded.slice(1).map((attempt, i) => attempt.attempted_at.getTime() - recorded[i]!.attempted_at.getTime());
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(retryDelaysMs[i + 1]! * 0.9);
        expect(gap).toBeLessThanOrEqual(retryDelaysMs[i + 1]! * 1.1 + 1_000);
      });
      expect(recorded.at(-1)!.attempted_at.getTime() - recorded[0]!.attempted_at.getTime()).toBeGreaterThan(30 * HOUR);

      // Every attempt carried the same event id and body; the last one verifies both ways.
      expect(new Set(receiver.requests.map((request) => request.headers['webhook-id']))).toEqual(new Set([event.id]));
      expect(new Set(receiver.requests.map((request) => request.rawBody)).size).toBe(1);
      const last = receiver.requests.at(-1)!;
      expect(last.headers['user-agent']).toMatch(/^inflow-webhooks\//);
      const body = JSON.parse(last.rawBody);
      expect(body).toMatchObject({ id: event.id, object: 'event', event: 'customer.created', livemode: false, data: { id: stack.seeded.customer.id } });
      const seedExpected = createHmac('sha256', secret).update(JSON.stringify(body)).digest('hex');
      expect(timingSafeEqual(Buffer.from(String(last.headers['x-webhook-signature'])), Buffer.from(seedExpected))).toBe(true);
      // The Standard Webhooks timestamp is real time at sending; check it as of then.
      const standard = new Webhook(secret);
      expect(
        standard.verify(last.rawBody, {
          'webhook-id': String(last.headers['webhook-id']),
          'webhook-timestamp': String(last.headers['webhook-timestamp']),
          'webhook-signature': String(last.headers['webhook-signature']),
        }),
      ).toEqual(body);
    } finally {
      await receiver.close();
    }
  });

  it('gives up after about three days of failures, with every attempt recorded', async () => {
    const receiver = await startReceiver(() => 500);
    try {
      const { handle, attempts, status, details } = await deliverNewEvent(receiver.url);
      // Time passes only while a result is awaited: the five seconds before the second attempt are real.
      await waitFor('the first attempt has failed', async () => (await details()).startsWith('attempt 1 failed'));
      expect(await details()).toMatch(/^attempt 1 failed \(HTTP 500\), next in 5s \(at \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
      expect(await handle.result()).toBe('failed');
      expect(await status()).toBe('failed');
      expect(await details()).toBe('failed: 11 attempts in about three days (last: HTTP 500)');
      const recorded = await attempts();
      expect(recorded).toHaveLength(retryDelaysMs.length);
      expect(receiver.requests).toHaveLength(retryDelaysMs.length);
      const span = recorded.at(-1)!.attempted_at.getTime() - recorded[0]!.attempted_at.getTime();
      expect(span).toBeGreaterThan(72 * HOUR);
      expect(span).toBeLessThan(96 * HOUR);
    } finally {
      await receiver.close();
    }
  });

  it('disables the endpoint and stops at a 410 Gone', async () => {
    const receiver = await startReceiver(() => 410);
    try {
      const { handle, attempts, status, endpoint, details } = await deliverNewEvent(receiver.url);
      expect(await handle.result()).toBe('gone');
      expect(await details()).toBe('410 Gone on attempt 1: endpoint disabled');
      expect(await status()).toBe('failed');
      expect(await attempts()).toHaveLength(1);
      const after = await stack.database.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', endpoint.id).executeTakeFirstOrThrow();
      expect(after).toMatchObject({ disabled: true, disabled_reason: expect.stringContaining('410') });
    } finally {
      await receiver.close();
    }
  });
});
