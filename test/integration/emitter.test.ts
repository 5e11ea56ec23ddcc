/**
 * The one emitter (src/events/emitter.ts) on a real database: an event's deliveries are queued
 * with it for the relay, and a step retried after its commit queues them again, once.
 */
import { buildEndpoint, buildMerchant } from '../../dev/fixtures';
import { deliveriesOf, emit, emittedBefore } from '../../src/events/emitter';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

describe('events/emitter.ts', () => {
  let database: TestDatabase;
  let tenant: { merchantId: string; livemode: boolean };
  const owner = () => ({ merchant_id: tenant.merchantId, livemode: tenant.livemode });

  beforeAll(async () => {
    database = await createTestDatabase();
    const merchant = await buildMerchant(database.db, 'Emitter');
    tenant = { merchantId: merchant.merchant_id, livemode: false };
  });
  afterAll(() => database.destroy());

  /** The queued deliveries of an event: their workflow ids and the delivery each one attempts. */
  const outboxRows = async (eventId: string) =>
    (await database.db.selectFrom('workflow_outbox').select(['workflow_id', 'args']).execute())
      .filter((row) => row.workflow_id.startsWith(`webhook:${eventId}:`))
      .map((row) => ({ workflow_id: row.workflow_id, deliveryId: (row.args[0] as { deliveryId: string }).deliveryId }))
      .sort((a, b) => a.workflow_id.localeCompare(b.workflow_id));

  it('records the event and its deliveries and queues each for the relay in the same transaction, handing none back to a workflow', async () => {
    const endpoint = await buildEndpoint(database.db, tenant, { url: 'https://emitter.example/hook', events: ['*'] });

    const emitted = await emit(database.db, 'customer.created', owner(), { id: 'cus_queued', object: 'customer' });
    expect(emitted.deliveries).toEqual([]);
    expect(emitted.queued).toEqual([expect.objectContaining({ eventId: emitted.eventId, destinationId: endpoint.id, destinationType: 'endpoint' })]);
    expect(await outboxRows(emitted.eventId)).toEqual([
      { workflow_id: `webhook:${emitted.eventId}:${endpoint.id}`, deliveryId: emitted.queued[0]!.deliveryId },
    ]);

    // A transaction that rolls back leaves neither the event nor its queued delivery.
    let rolledBack: string | undefined;
    await expect(
      database.db.transaction().execute(async (transaction) => {
        rolledBack = (await emit(transaction, 'customer.created', owner(), { id: 'cus_rolled_back', object: 'customer' })).eventId;
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await database.db.selectFrom('events').select('id').where('id', '=', rolledBack!).execute()).toEqual([]);
    expect(await outboxRows(rolledBack!)).toEqual([]);

    await database.db.updateTable('webhook_endpoints').set({ disabled: true }).where('id', '=', endpoint.id).execute();
  });

  it('an endpoint subscribed to a family (deposit.*) gets every type of it and nothing else', async () => {
    const family = await buildEndpoint(database.db, tenant, { url: 'https://emitter.example/family', events: ['deposit.*'] });
    const deposit = await emit(database.db, 'deposit.completed', owner(), { id: 'dep_family', object: 'deposit' });
    const customer = await emit(database.db, 'customer.updated', owner(), { id: 'cus_family', object: 'customer' });
    expect(deposit.queued.map((delivery) => delivery.destinationId)).toEqual([family.id]);
    expect(customer.queued.map((delivery) => delivery.destinationId)).not.toContain(family.id);
    await database.db.updateTable('webhook_endpoints').set({ disabled: true }).where('id', '=', family.id).execute();
  });

  it('a step retried after its commit queues the deliveries recorded then again, even to an endpoint disabled since, and any subscribed since', async () => {
    const first = await buildEndpoint(database.db, tenant, { url: 'https://emitter.example/first', events: ['customer.created'] });
    const emitted = await emit(database.db, 'customer.created', owner(), { id: 'cus_retried', object: 'customer' });
    // Between the commit and the retry: the relay handed the delivery over (its row is gone), the
    // first endpoint is disabled, a second one subscribes.
    await database.db.deleteFrom('workflow_outbox').where('workflow_id', 'like', `webhook:${emitted.eventId}:%`).execute();
    await database.db.updateTable('webhook_endpoints').set({ disabled: true }).where('id', '=', first.id).execute();
    const second = await buildEndpoint(database.db, tenant, { url: 'https://emitter.example/second', events: ['customer.created'] });

    const again = await emittedBefore(database.db, emitted.eventId);
    expect(again).toEqual({ eventId: emitted.eventId, deliveries: [] });
    // The recorded delivery is queued with its own id (the relay finds it made, or ends it as
    // stopped), not left pending with nothing to attempt it; the new endpoint gets one of its own.
    const queued = await outboxRows(emitted.eventId);
    expect(queued.map((row) => row.workflow_id).sort()).toEqual([`webhook:${emitted.eventId}:${first.id}`, `webhook:${emitted.eventId}:${second.id}`].sort());
    expect(queued.map((row) => row.deliveryId)).toContain(emitted.queued[0]!.deliveryId);
    // Made once, however often it runs.
    await emittedBefore(database.db, emitted.eventId);
    expect(await outboxRows(emitted.eventId)).toEqual(queued);
    expect((await deliveriesOf(database.db, emitted.eventId)).map((delivery) => delivery.deliveryId).sort()).toEqual(
      queued.map((row) => row.deliveryId).sort(),
    );
    expect(await emittedBefore(database.db, null)).toEqual({ eventId: null, deliveries: [] });
  });
});
