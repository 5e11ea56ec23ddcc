import type { Contract, ContractTransactionReceipt, NonceManager } from 'ethers';
import { sql } from 'kysely';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { freePort } from '../../dev/tools/ports';
import { buildCustomer, buildTransfer, testSecretKeyHex, type BuiltCustomer } from '../../dev/fixtures';
import { loadConfig } from '../../src/config';
import { findCursor, saveCursor } from '../../src/chains/chains.repository';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { failDeposit, recordDetectedDeposit } from '../../src/deposits/transitions';
import { createLogger } from '../../src/logger';
import { chainWatcherWorkflowId } from '../../src/workflows/definitions';
import { createWorker, startChainWatchers, type InflowWorker } from '../../src/worker';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { npmRun } from '../helpers/script-process';
import { connectToDevServer, isolatedNamespaces, uniqueTaskQueue } from '../helpers/temporal';
import { readTestEnv } from '../helpers/test-env';
import { waitFor } from '../helpers/wait';

/**
 * Money that arrives while nothing watches, or later than a deposit waited, is still credited,
 * once: on a real chain (anvil), the real watcher, worker and Temporal dev server, Postgres.
 */
describe('late money on anvil: the first start, a timed-out deposit, a rescan', () => {
  let anvil: RunningAnvil;
  let signer: NonceManager;
  let usdt: Contract;
  let database: TestDatabase;
  let dev: Awaited<ReturnType<typeof connectToDevServer>>;
  let worker: InflowWorker | undefined;
  let running: Promise<void> | undefined;
  let env: Record<string, string>;
  let alice: BuiltCustomer;
  const taskQueue = uniqueTaskQueue('late-money');
  const watcher = () => dev.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }));

  const pay = async (amount: bigint): Promise<ContractTransactionReceipt> =>
    (await (await usdt.getFunction('transfer')(alice.customer.addresses.find((entry) => entry.network === 'ethereum')!.address, amount)).wait())!;
  const depositOf = (hash: string) => database.db.selectFrom('deposits').selectAll().where('transaction_hash', '=', hash).executeTakeFirst();
  const bookingsOf = async (depositId: string) =>
    (await database.db.selectFrom('ledger_transactions').select('kind').where('deposit_id', '=', depositId).execute()).map((row) => row.kind);

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    signer = fundedSigner(anvil.provider);
    usdt = await deployTestUsdt(signer);
    database = await createTestDatabase();
    dev = await connectToDevServer(isolatedNamespaces.lateMoney);
    env = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      TEMPORAL_NAMESPACE: isolatedNamespaces.lateMoney,
      INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl,
      INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
      INFLOW_CONFIRMATIONS_ETHEREUM_TEST: '3',
      INFLOW_CHAIN_POLL_MS: '100',
      INFLOW_SECRET_KEY: testSecretKeyHex,
    };
    alice = await buildCustomer(database.db);
  });

  afterAll(async () => {
    await watcher()
      .terminate('test over')
      .catch(() => undefined);
    worker?.shutdown();
    await running;
    await dev?.close();
    expect(await ledgerInvariantViolations(database.db)).toEqual([]);
    await database?.destroy();
    await anvil?.stop();
  });

  it('a watcher that never ran finds what was paid since the first address was made, and a timed-out deposit completes late, once', async () => {
    // Paid before any watcher ran: a first start at the head would never see it.
    const early = await pay(10_000_000n);
    // Recorded, then failed by its 24 h timeout while the chain stalled (written directly: the dev
    // server cannot skip a day; the timeout itself is tested on the time-skipping server).
    const stalled = await pay(7_000_000n);
    const late = {
      ...buildTransfer(alice, { amount: '7', requiredConfirmations: 3 }),
      transactionHash: stalled.hash,
      logIndex: stalled.logs[0]!.index,
      blockNumber: stalled.blockNumber,
      blockHash: stalled.blockHash,
      fromAddress: await signer.getAddress(),
    };
    await recordDetectedDeposit(database.db, late);
    await failDeposit(database.db, late.depositId, 'timeout');
    await anvil.provider.send('anvil_mine', ['0x5']);

    const config = loadConfig(env);
    worker = await createWorker({ config, db: database.db, connection: dev.nativeConnection, temporal: dev.client });
    running = worker.run();
    await startChainWatchers(dev.client, config, createLogger('silent'));

    await waitFor('the early payment completes', async () => (await depositOf(early.hash))?.status === 'completed', 45_000);
    await waitFor('the late deposit completes', async () => (await depositOf(stalled.hash))?.status === 'completed', 45_000);
    const completedLate = (await depositOf(stalled.hash))!;
    expect(completedLate).toMatchObject({ id: late.depositId, failure_reason: null, net_amount: '5000000' });
    expect(await bookingsOf(late.depositId)).toEqual(['deposit']);
    const events = await database.db
      .selectFrom('events')
      .select('type')
      .where(sql<string>`data->>'id'`, '=', late.depositId)
      .orderBy('id')
      .execute();
    expect(events.map((event) => event.type)).toEqual(['deposit.detected', 'deposit.failed', 'deposit.completed']);
  });

  it('chain rescan finds a transfer the watcher skipped, and a second rescan books nothing twice', async () => {
    // The watcher is told to skip past a payment (a node that skipped blocks, say): stopped with its
    // worker (so no scan is in flight), then restarted with its cursor past the payment.
    await watcher().terminate('skip a range');
    worker!.shutdown();
    await running;
    const missed = await pay(3_000_000n);
    await anvil.provider.send('anvil_mine', ['0x5']);
    // Straight from the node: ethers' getBlockNumber() may answer from its cache.
    const head = Number(await anvil.provider.send('eth_blockNumber', []));
    await saveCursor(database.db, false, 'ethereum', head + 1, head);
    const config = loadConfig(env);
    worker = await createWorker({ config, db: database.db, connection: dev.nativeConnection, temporal: dev.client });
    running = worker.run();
    await startChainWatchers(dev.client, config, createLogger('silent'));
    await anvil.provider.send('anvil_mine', ['0x2']);
    await waitFor('the watcher is past the payment', async () => Number((await findCursor(database.db, false, 'ethereum'))!.nextBlock) > head + 2);
    expect(await depositOf(missed.hash)).toBeUndefined();

    const range = ['--network', 'ethereum', '--from', String(missed.blockNumber - 1), '--to', String(missed.blockNumber + 1)];
    const first = await npmRun('cli', ['chain', 'rescan', ...range], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/done: 1 reported, 0 already recorded/);
    await waitFor('the missed payment completes', async () => (await depositOf(missed.hash))?.status === 'completed', 45_000);

    const second = await npmRun('cli', ['chain', 'rescan', ...range], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/done: 0 reported, 1 already recorded/);
    const deposit = (await depositOf(missed.hash))!;
    expect(await bookingsOf(deposit.id)).toEqual(['deposit']);
    expect(await database.db.selectFrom('deposits').select('id').where('transaction_hash', '=', missed.hash).execute()).toHaveLength(1);
  });

  it('chain rescan refuses a range past the head, and an unknown network, in one clear line', async () => {
    const pastHead = await npmRun('cli', ['chain', 'rescan', '--network', 'ethereum', '--from', '1', '--to', '999999999'], env);
    expect(pastHead.code).toBe(1);
    expect(pastHead.stderr.trim()).toMatch(/^block 999999999 is past the node's head \(\d+\)$/);
    const unknown = await npmRun('cli', ['chain', 'rescan', '--network', 'dogecoin', '--from', '1', '--to', '2'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^chain rescan needs --network, one of ethereum/);
  });
});
