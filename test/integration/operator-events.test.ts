/**
 * Operator events (docs/operations.md#operator-events) against Postgres and a real HTTP receiver on
 * loopback: emitted with what they are about, delivered once signed as Standard Webhooks, a failing
 * receiver recorded and retried by the caller, and listed by `npm run cli -- operator-events`.
 * (sweeps.test.ts has reconciliation emit one on anvil and the reconcile workflow deliver it.)
 */
import { randomBytes } from 'node:crypto';
import { verifyWebhook } from '../../src/domain/signatures';
import { emitOperatorEvent } from '../../src/events/emitter';
import { deliverOperatorEvent } from '../../src/events/operator-events';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startReceiver } from '../helpers/receiver';
import { npmRun } from '../helpers/script-process';

jest.setTimeout(60_000);

describe('operator events', () => {
  let database: TestDatabase;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const differences = [{ account: 'deposit_addresses', address: '0xabc', currency: 'USDT', expected: '4000000', actual: '0' }];
  const emit = () =>
    emitOperatorEvent(database.db, 'reconciliation.mismatch', false, { run_id: 'run-1', network: 'ethereum', checked: 8, in_flight: 0, differences });
  const rowOf = (id: string) => database.db.selectFrom('operator_events').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.destroy();
  });

  it('delivers an event once, signed as Standard Webhooks with the operator secret, and records it delivered', async () => {
    const receiver = await startReceiver();
    try {
      const event = await emit();
      expect(event.id).toMatch(/^oev_/);
      expect(await deliverOperatorEvent(database.db, { url: receiver.url, secret }, event.id)).toEqual({ delivered: true, status: 200 });
      expect(receiver.requests).toHaveLength(1);
      const [request] = receiver.requests;
      expect(request!.headers['webhook-id']).toBe(event.id);
      // The receiver verifies it as any Standard Webhooks receiver would; a wrong secret does not.
      expect(verifyWebhook(request!.rawBody, request!.headers, secret)).toEqual({
        id: event.id,
        object: 'operator_event',
        type: 'reconciliation.mismatch',
        livemode: false,
        created_at: event.created_at.toISOString(),
        data: { run_id: 'run-1', network: 'ethereum', checked: 8, in_flight: 0, differences },
      });
      expect(() => verifyWebhook(request!.rawBody, request!.headers, `whsec_${randomBytes(32).toString('base64')}`)).toThrow('no webhook-signature matches');
      expect(await rowOf(event.id)).toMatchObject({ delivered_at: expect.any(Date), attempts: 1, last_error: null });
      // Asked again (a retried activity, a second reconcile run's CLI): nothing is sent twice.
      expect(await deliverOperatorEvent(database.db, { url: receiver.url, secret }, event.id)).toEqual({ delivered: true, status: 200 });
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('records a receiver that fails and throws for the retry; the next attempt that gets 2xx delivers it', async () => {
    const receiver = await startReceiver((_, index) => (index === 0 ? 503 : 204));
    try {
      const event = await emit();
      await expect(deliverOperatorEvent(database.db, { url: receiver.url, secret }, event.id)).rejects.toThrow("the operator's webhook answered HTTP 503");
      expect(await rowOf(event.id)).toMatchObject({ delivered_at: null, attempts: 1, last_error: "the operator's webhook answered HTTP 503" });
      expect(await deliverOperatorEvent(database.db, { url: receiver.url, secret }, event.id)).toEqual({ delivered: true, status: 204 });
      expect(await rowOf(event.id)).toMatchObject({ delivered_at: expect.any(Date), attempts: 2, last_error: null });
      // Both attempts carry the same webhook-id: a receiver that saw the first drops the second.
      expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([event.id, event.id]);
    } finally {
      await receiver.close();
    }
  });

  it('leaves an event undelivered, to be listed, when no operator webhook is configured; the CLI lists every event newest first', async () => {
    const event = await emit();
    expect(await deliverOperatorEvent(database.db, undefined, event.id)).toEqual({
      delivered: false,
      reason: expect.stringMatching(/no INFLOW_OPERATOR_WEBHOOK_URL/),
    });
    expect(await rowOf(event.id)).toMatchObject({ delivered_at: null, attempts: 0 });

    const listed = await npmRun('cli', ['operator-events'], { DATABASE_URL: database.url });
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(
      `${event.id} ${event.created_at.toISOString()} reconciliation.mismatch (test): ethereum: 1 difference (run run-1); not delivered (no INFLOW_OPERATOR_WEBHOOK_URL)`,
    );
    expect(lines[1]).toMatch(/ reconciliation\.mismatch \(test\): ethereum: 1 difference \(run run-1\); delivered 20/);
    const json = await npmRun('cli', ['operator-events', '--limit', '1', '--json'], { DATABASE_URL: database.url });
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ id: event.id, type: 'reconciliation.mismatch', data: expect.objectContaining({ differences }) }),
    ]);
    const wrong = await npmRun('cli', ['operator-events', '--limit', 'many'], { DATABASE_URL: database.url });
    expect([wrong.code, wrong.stderr]).toEqual([1, expect.stringContaining('--limit is a whole number from 1 to 1000')]);
  });
});
