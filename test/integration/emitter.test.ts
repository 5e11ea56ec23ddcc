/**
 * The one emitter (src/events/emitter.ts) on a real database: who starts an event's deliveries,
 * and what a step retried after its commit is handed back.
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

  const outboxRows = async (eventId: string) =>
    (await database.db.selectFrom('workflow_outbox').select('workflow_id').execute()).filter((row) => row.workflow_id.startsWith(`webhook:${eventId}:`));

  it('by-workflow records the event and its deliveries and hands them back, queuing nothing; at-commit queues each one', async () => {
    const endpoint = await buildEndpoint(database.db, tenant, { url: 'https://emitter.example/hook', events: ['*'] });

    const handedBack = await emit(database.db, 'by-workflow', 'customer.created', owner(), { id: 'cus_handed', object: 'customer' });
    expect(handedBack.deliveries).toEqual([expect.objectContaining({ eventId: handedBack.eventId, destinationId: endpoint.id, destinationType: 'endpoint' })]);
    expect(await outboxRows(handedBack.eventId)).toEqual([]);

    const queued = await emit(database.db, 'at-commit', 'customer.created', owner(), { id: 'cus_queued', object: 'customer' });
    expect(await outboxRows(queued.eventId)).toEqual([{ workflow_id: `webhook:${queued.eventId}:${endpoint.id}` }]);

    await database.db.updateTable('webhook_endpoints').set({ disabled: true }).where('id', '=', endpoint.id).execute();
  });

  it('an endpoint subscribed to a family (deposit.*) gets every type of it and nothing else', async () => {
    const family = await buildEndpoint(database.db, tenant, { url: 'https://emitter.example/family', events: ['deposit.*'] });
    const deposit = await emit(database.db, 'by-workflow', 'deposit.completed', owner(), { id: 'dep_family', object: 'deposit' });
    const customer = await emit(database.db, 'by-workflow', 'customer.updated', owner(), { id: 'cus_family', object: 'customer' });
    expect(deposit.deliveries.map((delivery) => delivery.destinationId)).toEqual([family.id]);
    expect(customer.deliveries.map((delivery) => delivery.destinationId)).not.toContain(family.id);
    await database.db.updateTable('webhook_endpoints').set({ disabled: true }).where('id', '=', family.id).execute();
  });

  it('a step retried after its commit is handed the deliveries recorded then, even to an endpoint disabled since, and any subscribed since', async () => {
    const first = await buildEndpoint(database.db, tenant, { url: 'https://emitter.example/first', events: ['customer.created'] });
    const emitted = await emit(database.db, 'by-workflow', 'customer.created', owner(), { id: 'cus_retried', object: 'customer' });
    // Between the commit and the retry: the first endpoint is disabled, a second one subscribes.
    await database.db.updateTable('webhook_endpoints').set({ disabled: true }).where('id', '=', first.id).execute();
    const second = await buildEndpoint(database.db, tenant, { url: 'https://emitter.example/second', events: ['customer.created'] });

    const again = await emittedBefore(database.db, emitted.eventId);
    expect(again.eventId).toBe(emitted.eventId);
    // The recorded delivery comes back with its own id (its workflow ends it as stopped), not left pending with nothing to start it.
    expect(again.deliveries.map((delivery) => delivery.deliveryId)).toContain(emitted.deliveries[0]!.deliveryId);
    expect(again.deliveries.map((delivery) => delivery.destinationId).sort()).toEqual([first.id, second.id].sort());
    // Made once, however often it runs.
    expect(await deliveriesOf(database.db, emitted.eventId)).toEqual(again.deliveries);
    expect(await emittedBefore(database.db, null)).toEqual({ eventId: null, deliveries: [] });
  });
});
