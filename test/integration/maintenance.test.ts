import { buildMerchant } from '../../dev/fixtures';
import { PURGE_IDEMPOTENCY_KEYS_SCHEDULE_ID } from '../../src/workflows/definitions';
import { ensureMaintenanceSchedules } from '../../src/workflows/client';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import type { TestDatabase } from '../helpers/database';
import { isolatedNamespaces } from '../helpers/temporal';
import { waitFor } from '../helpers/wait';

/** The hourly purge of expired Idempotency-Keys: a real Temporal Schedule on the dev server, run by inflow's worker. */
describe('maintenance schedules (Temporal dev server, worker, Postgres)', () => {
  let stack: TestStack;
  let database: TestDatabase;
  let dev: TestStack['dev'];
  let taskQueue: string;

  beforeAll(async () => {
    stack = await startTestStack('maintenance', { namespace: isolatedNamespaces.maintenance, api: false });
    ({ database, dev, taskQueue } = stack);
  });

  afterAll(async () => {
    await dev?.client.schedule
      .getHandle(PURGE_IDEMPOTENCY_KEYS_SCHEDULE_ID)
      .delete()
      .catch(() => undefined);
    await stack?.close();
  });

  it('is created once however many workers start, runs hourly, and purges only keys older than 24 hours', async () => {
    const merchant = await buildMerchant(database.db, 'Keys');
    const key = (name: string, hoursAgo: number) => ({
      merchant_id: merchant.merchant_id,
      livemode: false,
      key: name,
      request_fingerprint: 'f',
      response_status: 200,
      response_body: '{}',
      created_at: new Date(Date.now() - hoursAgo * 3_600_000),
    });
    await database.db
      .insertInto('idempotency_keys')
      .values([key('expired', 25), key('fresh', 23)])
      .execute();

    expect(await ensureMaintenanceSchedules({ temporal: dev.client, taskQueue })).toBe(true);
    expect(await ensureMaintenanceSchedules({ temporal: dev.client, taskQueue })).toBe(false);
    const schedule = dev.client.schedule.getHandle(PURGE_IDEMPOTENCY_KEYS_SCHEDULE_ID);
    const described = await schedule.describe();
    expect(described.spec.intervals).toMatchObject([{ every: 3_600_000 }]);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'purgeIdempotencyKeysWorkflow', args: [{ olderThanHours: 24 }] });

    // What an operator's "Trigger" button in the Web UI does: one run now.
    await schedule.trigger();
    const keys = async () => (await database.db.selectFrom('idempotency_keys').select('key').execute()).map((row) => row.key);
    await waitFor('the expired key is purged', async () => !(await keys()).includes('expired'));
    expect(await keys()).toEqual(['fresh']);
    await waitFor('the run is recorded on the schedule', async () => (await schedule.describe()).info.recentActions.length === 1);
  });
});
