import { buildMerchant } from '../../dev/fixtures';
import { newId } from '../../src/domain/ids';
import { PRUNE_REQUEST_LOG_SCHEDULE_ID, PURGE_IDEMPOTENCY_KEYS_SCHEDULE_ID } from '../../src/workflows/definitions';
import { ensureMaintenanceSchedules } from '../../src/workflows/client';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import type { TestDatabase } from '../helpers/database';
import { isolatedNamespaces } from '../helpers/temporal';
import { waitFor } from '../helpers/wait';

/** The hourly purge of expired Idempotency-Keys and prune of the request log: real Temporal Schedules on the dev server, run by inflow's worker. */
describe('maintenance schedules (Temporal dev server, worker, Postgres)', () => {
  let stack: TestStack;
  let database: TestDatabase;
  let dev: TestStack['dev'];
  let taskQueue: string;

  beforeAll(async () => {
    stack = await startTestStack('maintenance', { namespace: isolatedNamespaces.maintenance, api: false, env: { INFLOW_REQUEST_LOG_RETENTION_DAYS: '7' } });
    ({ database, dev, taskQueue } = stack);
  });

  afterAll(async () => {
    for (const scheduleId of [PURGE_IDEMPOTENCY_KEYS_SCHEDULE_ID, PRUNE_REQUEST_LOG_SCHEDULE_ID]) {
      await dev?.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    }
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

  it("prunes the request log hourly past the worker's INFLOW_REQUEST_LOG_RETENTION_DAYS, and only past it", async () => {
    const merchant = await buildMerchant(database.db, 'Requests');
    const request = (daysAgo: number) => {
      const at = new Date(Date.now() - daysAgo * 86_400_000);
      return {
        id: newId('request', at.getTime()),
        merchant_id: merchant.merchant_id,
        livemode: false,
        api_key_id: newId('apiKey'),
        method: 'GET',
        path: '/api/v1/balance',
        operation_id: 'retrieveBalance',
        status: 200,
        duration_ms: 3,
        created_at: at,
      };
    };
    const [old, recent] = [request(8), request(6)];
    await database.db.insertInto('api_requests').values([old, recent]).execute();

    // The first test made both Schedules (a deployment that had only the purge gets the prune at its next worker start).
    expect(await ensureMaintenanceSchedules({ temporal: dev.client, taskQueue })).toBe(false);
    const schedule = dev.client.schedule.getHandle(PRUNE_REQUEST_LOG_SCHEDULE_ID);
    const described = await schedule.describe();
    expect(described.spec.intervals).toMatchObject([{ every: 3_600_000 }]);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'pruneRequestLogWorkflow', args: [{}] });

    await schedule.trigger();
    const ids = async () => (await database.db.selectFrom('api_requests').select('id').execute()).map((row) => row.id);
    await waitFor('the old request is pruned', async () => !(await ids()).includes(old.id));
    expect(await ids()).toEqual([recent.id]);
  });
});
