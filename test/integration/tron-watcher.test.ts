import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTronDevnet, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import { buildCustomer, buildEndpoint, testHealthToken } from '../../dev/fixtures';
import { freePort } from '../../dev/tools/ports';
import { findCursor, saveCursor } from '../../src/chains/chains.repository';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { createLogger } from '../../src/logger';
import { startChainWatchers } from '../../src/worker';
import { chainWatcherWorkflowId, watcherStateQuery } from '../../src/workflows/definitions';
import { startTestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import type { TestDatabase } from '../helpers/database';
import { startReceiver } from '../helpers/receiver';
import { isolatedNamespaces } from '../helpers/temporal';
import { waitFor } from '../helpers/wait';

/**
 * The chain watcher on Tron: inflow's worker on the Temporal dev server reading the Tron devnet
 * stand-in (dev/devnet/tron-devnet.ts: no java-tron can run here; it serves java-tron's HTTP API
 * shapes, checked against recorded responses in tron-devnet.test.ts) through the same Tron adapter
 * a real node gets.
 */
describe('chain watcher on the Tron devnet (worker, Temporal dev server, Postgres)', () => {
  let tron: RunningTronDevnet;
  let port: number;
  let stateFile: string;
  let stack: TestStack;
  let database: TestDatabase;
  let dev: TestStack['dev'];
  let worker: TestStack['worker'];
  let addresses: { alice: string; bob: string };
  let merchantId: string;
  const watcherId = chainWatcherWorkflowId({ livemode: false, network: 'tron' });

  beforeAll(async () => {
    port = await freePort();
    stateFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'inflow-tron-')), 'tron-devnet.json');
    tron = await startTronDevnet({ port, stateFile });
    tron.mine(3);
    stack = await startTestStack('tron-watcher', {
      namespace: isolatedNamespaces.tronWatcher,
      env: { INFLOW_RPC_URL_TRON_TEST: tron.rpcUrl, INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress, INFLOW_CHAIN_POLL_MS: '100' },
      chainWatchers: true,
      api: false,
    });
    ({ database, dev, worker } = stack);
    const alice = await buildCustomer(database.db);
    const bob = await buildCustomer(database.db, { merchant: alice.merchant });
    merchantId = alice.merchant.merchant_id;
    const tronAddress = (customer: typeof alice.customer) => customer.addresses.find((entry) => entry.network === 'tron')!.address;
    addresses = { alice: tronAddress(alice.customer), bob: tronAddress(bob.customer) };
    const watcher = dev.client.workflow.getHandle(watcherId);
    await waitFor('watcher at the head', async () => (await watcher.query(watcherStateQuery)).head !== null);
  });

  afterAll(async () => {
    await dev?.client.workflow
      .getHandle(watcherId)
      .terminate('test over')
      .catch(() => undefined);
    await stack?.stop();
    if (database) expect(await ledgerInvariantViolations(database.db)).toEqual([]);
    await database?.destroy();
    await tron?.stop();
  });

  /** A transfer from the devnet's funded account, mined into the next block; resolves to its txID. */
  const send = async (to: string, amount: bigint, currency: 'TRX' | 'USDT', options: { fail?: boolean } = {}) => {
    const response = await fetch(`${tron.rpcUrl}/devnet/transfer`, {
      method: 'POST',
      body: JSON.stringify({ to, amount: amount.toString(), currency, ...options }),
    });
    const { txid } = (await response.json()) as { txid: string };
    tron.mine();
    return txid;
  };
  const depositOf = (transactionHash: string) =>
    database.db.selectFrom('deposits').selectAll().where('transaction_hash', '=', transactionHash).executeTakeFirst();
  const reorg = (depth: number, drop: string[] = [], requeue = false) =>
    fetch(`${tron.rpcUrl}/devnet/reorg`, { method: 'POST', body: JSON.stringify({ depth, drop, requeue }) });
  /** Mines `blocks` and waits for a watcher round that scanned them. */
  const roundAfter = async (blocks: number) => {
    tron.mine(blocks);
    const target = tron.head();
    await waitFor('a round past the new blocks', async () => Number((await findCursor(database.db, false, 'tron'))?.nextBlock ?? 0) > target, 30_000);
  };

  it('turns a TRX payment and a USDT payment into completed deposits with the flat fee, booked once, announced by webhooks', async () => {
    const receiver = await startReceiver();
    try {
      await buildEndpoint(database.db, { merchantId, livemode: false }, { url: receiver.url, events: ['deposit.completed'] });
      const trx = await send(addresses.alice, 100_000_000n, 'TRX'); // 100 TRX
      const usdt = await send(addresses.bob, 25_000_000n, 'USDT'); // 25 USDT
      await send('TJ4eV1hnVAiFmeArBsuL6GkgTGVnWBe7eV', 5n, 'USDT'); // not a customer: ignored
      const failed = await send(addresses.alice, 9_000_000n, 'USDT', { fail: true }); // reverted: moved nothing
      await waitFor('two deposits detected', async () => (await depositOf(trx)) !== undefined && (await depositOf(usdt)) !== undefined);
      tron.mine(19);
      await waitFor('both completed', async () => (await depositOf(trx))?.status === 'completed' && (await depositOf(usdt))?.status === 'completed', 60_000);

      // $2 at the static prices: 8 TRX at 0.25, 2 USDT at 1.00.
      expect(await depositOf(trx)).toMatchObject({
        currency: 'TRX',
        address: addresses.alice,
        amount: '100000000',
        fee: '8000000',
        net_amount: '92000000',
        log_index: -1,
        confirmations: expect.any(Number),
      });
      expect(await depositOf(usdt)).toMatchObject({
        currency: 'USDT',
        address: addresses.bob,
        amount: '25000000',
        fee: '2000000',
        net_amount: '23000000',
        log_index: 0,
      });
      // Final at Tron's 19 confirmations (solidification), the default.
      expect((await depositOf(trx))!.required_confirmations).toBe(19);
      expect((await depositOf(trx))!.confirmations).toBeGreaterThanOrEqual(19);
      expect(await depositOf(failed)).toBeUndefined();
      expect(await database.db.selectFrom('deposits').select('id').execute()).toHaveLength(2);
      const bookings = await database.db.selectFrom('ledger_transactions').select('deposit_id').where('kind', '=', 'deposit').execute();
      expect(bookings).toHaveLength(2);

      await receiver.waitForRequests(2);
      const announced = receiver.requests.map(
        (request) => JSON.parse(request.rawBody) as { event: string; data: { transaction_hash: string; network: string } },
      );
      expect(announced.map((event) => [event.event, event.data.network])).toEqual([
        ['deposit.completed', 'tron'],
        ['deposit.completed', 'tron'],
      ]);
      expect(announced.map((event) => event.data.transaction_hash).sort()).toEqual([trx, usdt].sort());

      // Restarted from an older cursor, the watcher sees both again: no new rows, no new bookings.
      const start = Number((await depositOf(trx))!.block_number);
      await dev.client.workflow.getHandle(watcherId).terminate('restart from an older cursor');
      await saveCursor(database.db, false, 'tron', start, start);
      await startChainWatchers(dev.client, worker.config, createLogger('silent'));
      await waitFor('rescan done', async () => Number((await findCursor(database.db, false, 'tron'))!.nextBlock) > tron.head());
      expect(await database.db.selectFrom('deposits').select('id').execute()).toHaveLength(2);
      expect(await database.db.selectFrom('ledger_transactions').select('id').where('kind', '=', 'deposit').execute()).toHaveLength(2);

      // The Tron watcher's position and lag are in /healthz, as an EVM watcher's are.
      const api = await startTestApi({ db: database.db, temporal: dev.client });
      try {
        const health = (await (await api.request('/healthz?detail', { key: testHealthToken })).json()) as { chains: unknown[] };
        expect(health.chains).toEqual([
          {
            network: 'tron',
            livemode: false,
            head: expect.any(Number),
            next_block: expect.any(Number),
            lag: expect.any(Number),
            scanned_at: expect.any(String),
          },
        ]);
      } finally {
        await api.close();
      }
    } finally {
      await receiver.close();
    }
  });

  it('fails a deposit whose transaction a reorg removes only once the chain has grown 19 blocks past it, and books nothing', async () => {
    const txid = await send(addresses.bob, 5_000_000n, 'USDT');
    await waitFor('detected', async () => (await depositOf(txid)) !== undefined);
    await reorg(1, [txid]);
    await roundAfter(1);
    expect((await depositOf(txid))!.status).not.toBe('failed');
    tron.mine(19);
    await waitFor('failed', async () => (await depositOf(txid))?.status === 'failed', 30_000);
    expect(await depositOf(txid)).toMatchObject({ status: 'failed', failure_reason: 'reorg', fee: null });
  });

  it('credits once a payment that a reorg drops and the chain mines again with the same id', async () => {
    const txid = await send(addresses.alice, 3_000_000n, 'TRX');
    await waitFor('detected', async () => (await depositOf(txid)) !== undefined);
    await reorg(1, [txid], true);
    tron.mine(20);
    await waitFor('completed', async () => (await depositOf(txid))?.status === 'completed', 30_000);
    const deposit = (await depositOf(txid))!;
    expect(deposit).toMatchObject({ failure_reason: null, inclusion: 0, amount: '3000000' });
    const ledger = await database.db.selectFrom('ledger_transactions').select('kind').where('deposit_id', '=', deposit.id).execute();
    expect(ledger).toEqual([{ kind: 'deposit' }]);
  });

  it('reverses a completed deposit that a deeper reorg removes, with the reversing booking', async () => {
    const txid = await send(addresses.alice, 7_000_000n, 'USDT');
    await waitFor('detected', async () => (await depositOf(txid)) !== undefined);
    tron.mine(19);
    await waitFor('completed', async () => (await depositOf(txid))?.status === 'completed', 30_000);
    await reorg(20, [txid]);
    tron.mine(19);
    await waitFor('reversed', async () => (await depositOf(txid))?.reversed_at !== null, 30_000);
    const deposit = (await depositOf(txid))!;
    const ledger = await database.db.selectFrom('ledger_transactions').select('kind').where('deposit_id', '=', deposit.id).orderBy('kind').execute();
    expect(ledger.map((entry) => entry.kind)).toEqual(['deposit', 'reversal']);
  });

  it('retries while the node is down, loses nothing, and catches up when it returns', async () => {
    const watcher = dev.client.workflow.getHandle(watcherId);
    await tron.stop();
    // The scan activity fails and is retried with backoff: we watch its attempts, not a clock.
    await waitFor(
      'a failed scan being retried',
      async () => {
        const { pendingActivities } = await watcher.describe().then((description) => description.raw);
        return (pendingActivities ?? []).some((activity) => (activity.attempt ?? 0) > 1);
      },
      30_000,
    );
    // The stand-in comes back with its chain (saved on stop), and a payment made meanwhile.
    tron = await startTronDevnet({ port, stateFile });
    const txid = await send(addresses.alice, 50_000_000n, 'TRX');
    tron.mine(19);
    await waitFor('caught up and completed', async () => (await depositOf(txid))?.status === 'completed', 60_000);
  });
});
