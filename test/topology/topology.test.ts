/**
 * The production topology, as `npm run prod:local` runs it: the real Temporal server (built from
 * source, persisting history and visibility to Postgres, set up by compose's own scripts), two API
 * processes and two worker processes, anvil as test-mode ethereum. Deposits (on-chain and
 * simulated), webhooks and the chain watchers work across them; a worker killed -9 mid-run loses
 * nothing and doubles nothing, and the other finishes its work.
 *
 * It runs on the test run's Postgres cluster in databases of its own, and on free ports, so other
 * test files are undisturbed.
 * On a machine without the server in .tools, beforeAll builds it with Go first (minutes, with progress).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import type { Contract } from 'ethers';
import { sql } from 'kysely';
import { deployTestUsdt, fundedSigner, startAnvil } from '../../dev/devnet/anvil';
import type { ManagedProcess } from '../../dev/managed-process';
import { InflowStack } from '../../dev/stack';
import { freePort } from '../../dev/tools/ports';
import { stderrLog } from '../../dev/tools/progress';
import type { Db } from '../../src/db/database';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { verifyWebhook } from '../../src/domain/signatures';
import { createEmptyDatabase, testPostgresCluster } from '../helpers/database';
import { ethereumTestEnv, testStackEnv } from '../helpers/inflow-env';
import { startReceiver, type ReceivedRequest } from '../helpers/receiver';
import { waitFor } from '../helpers/wait';

const WORKERS = ['worker-1', 'worker-2'] as const;
const identityOf = (worker: string) => `${worker}@topology`;
/** Watched chains: ethereum in both modes, on the one devnet (the live one watches a token the devnet lacks: it only has to run). */
const WATCHED = [
  { network: 'ethereum', livemode: false },
  { network: 'ethereum', livemode: true },
] as const;
const REQUIRED_CONFIRMATIONS = 3;
/** Long enough that deposits are mid-flight when a worker dies: 12 simulated confirmations at 400 ms. */
const SIMULATED_BLOCK_TIME_MS = 400;
/** A worker killed -9 holds its tasks until their timeouts (activities up to 45 s), then they move. */
const SETTLE_TIMEOUT_MS = 4 * 60_000;

const log = (line: string) => stderrLog(`[topology +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);
const started = Date.now();

describe('the production topology: Temporal server on Postgres, two APIs, two workers', () => {
  let stack: InflowStack | undefined;
  let db: Db;
  let client: Client;
  let usdt: Contract;
  const workers: Record<string, ManagedProcess> = {};
  const apiUrls: string[] = [];
  let testKey: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let endpoint: { id: string; secret: string };
  let customer: { id: string; ethereumAddress: string };
  const transfers: string[] = [];
  /** Tests declared, and tests whose body ran to the end. */
  let declared = 0;
  let finished = 0;

  beforeAll(async () => {
    // On the run's cluster, in databases of its own (other files may run a server on it too).
    const suffix = randomBytes(4).toString('hex');
    stack = new InflowStack({
      log,
      label: 'topology',
      keepDir: true,
      postgres: { url: await createEmptyDatabase() },
      pool: 4,
      temporal: { server: { postgres: testPostgresCluster(), databases: { history: `temporal_${suffix}`, visibility: `temporal_visibility_${suffix}` } } },
      chain: async (stack) => {
        const anvil = await startAnvil({ port: await freePort(), blockTimeSeconds: 0.5 });
        stack.onClose('anvil', () => anvil.stop());
        usdt = await deployTestUsdt(fundedSigner(anvil.provider));
        const startBlock = (await anvil.provider.getBlockNumber()) + 1;
        return {
          ...ethereumTestEnv({ rpcUrl: anvil.rpcUrl, usdtAddress: await usdt.getAddress(), startBlock }),
          // A second watched chain: ethereum in live mode, on the same devnet.
          INFLOW_RPC_URL_ETHEREUM_LIVE: anvil.rpcUrl,
          INFLOW_CHAIN_START_BLOCK_ETHEREUM_LIVE: String(startBlock),
        };
      },
      env: testStackEnv({ requiredConfirmations: REQUIRED_CONFIRMATIONS, chainPollMs: 250, simulatedBlockTimeMs: SIMULATED_BLOCK_TIME_MS }),
      merchant: 'Topology merchant',
      workers: { count: WORKERS.length, processes: true, identity: identityOf, restart: false },
      api: { processes: true, ports: [await freePort(), await freePort()] },
    });
    await stack.start();
    ({ db, client } = stack);
    testKey = stack.testKey!;
    for (const worker of stack.workers) workers[worker.name] = worker.process!;
    apiUrls.push(...stack.apis.map((api) => api.url));

    receiver = await startReceiver();
    endpoint = await post(0, '/webhook-endpoints', { url: receiver.url, events: ['*'], description: 'topology receiver' });
    const created = await post(1, '/customers', { email: 'topology@example.com' });
    customer = {
      id: created.id,
      ethereumAddress: (created.addresses as Array<{ network: string; address: string }>).find((a) => a.network === 'ethereum')!.address,
    };
  }, 15 * 60_000); // a fresh machine builds the Temporal server with Go first (about 6 min on two cores)

  afterAll(async () => {
    await receiver?.close();
    await stack?.close();
    // The process logs say what went wrong: kept when a test failed.
    if (stack?.dir && finished === declared) await rm(stack.dir, { recursive: true, force: true }).catch(() => undefined);
    else if (stack?.dir) log(`kept ${stack.dir} (process logs in its logs/)`);
  });

  /** Counts a test as finished only when its body got to the end, every expectation met. */
  function passing(body: () => Promise<void>): () => Promise<void> {
    declared++;
    return async () => {
      await body();
      finished++;
    };
  }

  /** A POST to one of the two APIs (by index), as a client would make it: with an Idempotency-Key, 2xx expected. */
  async function post(api: number, route: string, json: unknown): Promise<any> {
    const response = await fetch(`${apiUrls[api]}/api/v1${route}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${testKey}`, 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID() },
      body: JSON.stringify(json),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(`POST ${route} on api-${api + 1}: ${response.status} ${JSON.stringify(body)}`);
    return body;
  }

  /** Simulated deposits through both APIs in turn, and real USDT transfers to the customer's address on the devnet. */
  async function makeDeposits(count: { simulated: number; onChain: number }): Promise<void> {
    const writes = Array.from({ length: count.simulated }, (_, index) =>
      post(index % 2, '/deposits/simulate', { customer_id: customer.id, network: 'ethereum', currency: 'USDT', amount: `${10 + index}.5` }),
    );
    for (let index = 0; index < count.onChain; index++) {
      const sent = (await usdt.getFunction('transfer')(customer.ethereumAddress, BigInt(20 + index) * 1_000_000n)) as { hash: string };
      transfers.push(sent.hash.toLowerCase());
    }
    await Promise.all(writes);
  }

  async function deposits(): Promise<Array<{ id: string; status: string; simulated: boolean; transaction_hash: string; booked: number }>> {
    const { rows } = await sql<{ id: string; status: string; simulated: boolean; transaction_hash: string; booked: number }>`
      select d.id, d.status, d.simulated, d.transaction_hash,
             (select count(*) from ledger_transactions t where t.deposit_id = d.id and t.kind = 'deposit')::int as booked
      from deposits d`.execute(db);
    return rows;
  }

  /**
   * Every transfer sent is a deposit, every deposit completed, every event received by the endpoint
   * (distinct webhook-ids) and every delivery recorded as succeeded. A first attempt the killed
   * worker's relay posted without recording stays pending until its lease (40 s) lets the other
   * worker's relay make it again.
   */
  async function settled(): Promise<boolean> {
    const rows = await deposits();
    const onChain = new Set(rows.filter((row) => !row.simulated).map((row) => row.transaction_hash.toLowerCase()));
    if (!transfers.every((hash) => onChain.has(hash))) return false;
    if (rows.some((row) => row.status !== 'completed')) return false;
    const events = await db.selectFrom('events').select('id').execute();
    const received = new Set(receiver.requests.map((request) => String(request.headers['webhook-id'])));
    if (!events.every((event) => received.has(event.id))) return false;
    return (await db.selectFrom('webhook_deliveries').select('id').where('status', '!=', 'succeeded').execute()).length === 0;
  }

  /** The identities on deposit workflows' tasks: who completed workflow tasks and who started activities. */
  async function identitiesOf(workflowIds: string[]): Promise<Map<string, Set<string>>> {
    const byWorkflow = new Map<string, Set<string>>();
    for (const workflowId of workflowIds) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const identities = new Set<string>();
      for (const event of history.events ?? []) {
        const identity = event.workflowTaskCompletedEventAttributes?.identity ?? event.activityTaskStartedEventAttributes?.identity;
        if (identity) identities.add(identity);
      }
      byWorkflow.set(workflowId, identities);
    }
    return byWorkflow;
  }

  async function depositWorkflowIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const execution of client.workflow.list({ query: 'WorkflowType = "depositWorkflow"' })) ids.push(execution.workflowId);
    return ids;
  }

  function checkWebhooks(requests: ReceivedRequest[]): void {
    for (const request of requests) {
      const body = verifyWebhook(request.rawBody, request.headers, endpoint.secret, { toleranceSeconds: 600 }) as { id: string };
      expect(body.id).toBe(request.headers['webhook-id']);
    }
  }

  it(
    'runs the chain watcher once per network and mode, with two workers each starting the configured ones',
    passing(async () => {
      for (const { network, livemode } of WATCHED) {
        const query = `WorkflowType = "chainWatcherWorkflow" AND ExecutionStatus = "Running" AND Network = "${network}" AND Livemode = ${livemode}`;
        await waitFor(`a running ${network} ${livemode ? 'live' : 'test'} watcher`, async () => (await client.workflow.count(query)).count > 0, 60_000);
        expect([network, livemode, (await client.workflow.count(query)).count]).toEqual([network, livemode, 1]);
      }
      expect((await client.workflow.count('WorkflowType = "chainWatcherWorkflow" AND ExecutionStatus = "Running"')).count).toBe(WATCHED.length);
    }),
    120_000,
  );

  it(
    'completes deposits (on-chain and simulated) and delivers their webhooks, with both workers doing the work',
    passing(async () => {
      // Sticky workflow tasks keep a workflow on the worker that began it; enough deposits land on both.
      for (let round = 0; ; round++) {
        await makeDeposits({ simulated: 4, onChain: 2 });
        await waitFor('every deposit completed and every event delivered', settled, SETTLE_TIMEOUT_MS);
        const identities = new Set([...(await identitiesOf(await depositWorkflowIds())).values()].flatMap((set) => [...set]));
        if (WORKERS.every((name) => identities.has(identityOf(name))) || round === 3) {
          expect([...identities].filter((identity) => identity.endsWith('@topology')).sort()).toEqual(WORKERS.map(identityOf));
          break;
        }
      }
      const rows = await deposits();
      expect(rows.filter((row) => !row.simulated).length).toBe(transfers.length);
      expect(rows.every((row) => row.status === 'completed' && row.booked === 1)).toBe(true);
      // No kill yet: every event reached the endpoint exactly once.
      const ids = receiver.requests.map((request) => String(request.headers['webhook-id']));
      expect(new Set(ids).size).toBe(ids.length);
      checkWebhooks(receiver.requests);
    }),
    10 * 60_000,
  );

  it(
    'moves a worker killed -9 mid-run to the other: nothing lost, nothing doubled',
    passing(async () => {
      const before = new Set((await deposits()).map((row) => row.id));
      await makeDeposits({ simulated: 8, onChain: 4 });
      // Mid-run: deposits exist that have not completed yet.
      await waitFor('deposits in flight', async () => (await deposits()).some((row) => !before.has(row.id) && row.status !== 'completed'), 60_000);
      const killedAt = Date.now();
      log(`kill -9 worker-1 (pid ${workers['worker-1']!.pid}) with deposits in flight`);
      await workers['worker-1']!.kill9();

      await waitFor('every deposit completed and every event delivered on worker-2 alone', settled, SETTLE_TIMEOUT_MS);
      log(`settled ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);

      // Nothing lost: every transfer and every simulated deposit completed and booked once.
      const rows = await deposits();
      expect(
        rows
          .filter((row) => !row.simulated)
          .map((row) => row.transaction_hash.toLowerCase())
          .sort(),
      ).toEqual([...transfers].sort());
      expect(rows.filter((row) => row.status !== 'completed' || row.booked !== 1)).toEqual([]);
      expect(await ledgerInvariantViolations(db)).toEqual([]);
      // Nothing doubled: one event per change, one first delivery per event and endpoint (a unique index
      // guarantees it), one success each. The receiver may see a copy again under the same webhook-id
      // when the killed worker had posted it without recording the answer: at-least-once, deduplicated by id.
      const { rows: doubledEvents } = await sql<{ n: number }>`
      select count(*)::int as n from (select data->>'id', type from events group by 1, 2 having count(*) > 1) doubled`.execute(db);
      expect(doubledEvents[0]!.n).toBe(0);
      const { rows: deliveries } = await sql<{ event_id: string; endpoint_id: string; status: string }>`
      select event_id, endpoint_id, status from webhook_deliveries where not redelivery`.execute(db);
      const events = await db.selectFrom('events').select('id').execute();
      expect(deliveries.length).toBe(events.length);
      expect(deliveries.filter((delivery) => delivery.status !== 'succeeded' || delivery.endpoint_id !== endpoint.id)).toEqual([]);
      expect(new Set(receiver.requests.map((request) => String(request.headers['webhook-id'])))).toEqual(new Set(events.map((event) => event.id)));
      checkWebhooks(receiver.requests);

      // The survivor finished the work, and still runs one watcher per chain.
      const newIds = (await depositWorkflowIds()).filter((id) => rows.some((row) => !before.has(row.id) && id.includes(row.transaction_hash)));
      expect(newIds.length).toBeGreaterThan(0);
      for (const [workflowId, identities] of await identitiesOf(newIds))
        expect([workflowId, identities.has(identityOf('worker-2'))]).toEqual([workflowId, true]);
      expect((await client.workflow.count('WorkflowType = "chainWatcherWorkflow" AND ExecutionStatus = "Running"')).count).toBe(WATCHED.length);
    }),
    10 * 60_000,
  );
});
