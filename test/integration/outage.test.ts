import { sql } from 'kysely';
import { Client, Connection } from '@temporalio/client';
import { createDb } from '../../src/db/database';
import { freePort } from '../../dev/tools/ports';
import { startTestApi } from '../helpers/api';
import { createTestDatabase } from '../helpers/database';
import { readTestEnv } from '../helpers/test-env';
import { waitFor } from '../helpers/wait';
import { buildEndpoint, buildMerchant, testHealthToken } from '../../dev/fixtures';

/**
 * Dependencies that are down: nothing listens on a freshly picked free port, which is how an
 * outage looks to the API (connection refused). No mock: the real pool and client fail for real.
 */
describe('when a dependency is down the API answers 503, never hangs', () => {
  it('Postgres down: authenticated requests and /healthz answer 503 with a clear message', async () => {
    const deadDb = createDb(`postgres://nobody:nothing@127.0.0.1:${await freePort()}/inflow`);
    const connection = await Connection.connect({ address: readTestEnv('temporalAddress') });
    const api = await startTestApi({ db: deadDb, temporal: new Client({ connection }) });
    try {
      const response = await api.request('/api/v1/customers', { key: `sk_test_${'A'.repeat(43)}` });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: { type: 'api_error', code: 'service_unavailable', message: 'Postgres is unavailable; nothing was changed. Retry later.' },
      });

      const health = await api.request('/healthz?detail', { key: testHealthToken });
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'unavailable', postgres: { status: 'down' }, temporal: { status: 'up' } });
    } finally {
      await api.close();
      await connection.close();
      await deadDb.destroy();
    }
  });

  it('Temporal down: /healthz answers 200 degraded naming Temporal, and the API keeps serving', async () => {
    const database = await createTestDatabase();
    // No retry interceptor: the SDK's retries would outlive the test and hit a closed channel.
    const connection = await Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 1_000, interceptors: [] });
    const api = await startTestApi({ db: database.db, temporal: new Client({ connection }) });
    try {
      const health = await api.request('/healthz?detail', { key: testHealthToken });
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        status: 'degraded',
        postgres: { status: 'up' },
        temporal: { status: 'down', error: expect.any(String) },
        outbox: { queued: 0, oldest_age_s: null },
      });
      // Every request but an order's cancel needs only Postgres: a write answers, its workflow start queued.
      const { test_key, merchant_id } = await buildMerchant(database.db, 'Still Open');
      // An endpoint (on loopback; nothing can deliver while Temporal is down) gives a new customer's event a delivery to queue.
      await buildEndpoint(database.db, { merchantId: merchant_id, livemode: false }, { url: `http://127.0.0.1:${await freePort()}/hooks` });
      expect((await api.request('/api/v1/anything', { key: test_key })).status).toBe(404);
      expect((await api.request('/api/v1/customers', { key: test_key, method: 'POST', json: { email: 'a@example.com' } })).status).toBe(200);
      expect(await (await api.request('/healthz?detail', { key: testHealthToken })).json()).toMatchObject({
        outbox: { queued: 1, oldest_age_s: expect.any(Number) },
      });
    } finally {
      await api.close();
      await connection.close();
      await database.destroy();
    }
  });
});

describe('a connection Postgres drops mid-transaction', () => {
  it('fails the statement, not the process, and the pool carries on with a new connection', async () => {
    const database = await createTestDatabase();
    const db = createDb(database.url);
    try {
      const outcome = await db
        .transaction()
        .execute(async (transaction) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(transaction);
          // What a restarting or crashing server does to every session: FATAL, then the socket closes.
          await sql`select pg_terminate_backend(${rows[0]!.pid})`.execute(database.db);
          // The client hears it while checked out and between statements: no listener would mean a crash.
          await waitFor('the next statement fails', async () =>
            sql`select 1`.execute(transaction).then(
              () => false,
              () => true,
            ),
          );
          return 'statement failed';
        })
        .catch((error: Error) => `transaction failed: ${error.message}`);
      expect(outcome).toMatch(/failed/);
      expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.destroy();
      await database.destroy();
    }
  });
});
