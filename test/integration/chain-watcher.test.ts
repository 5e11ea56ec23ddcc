import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ContractFactory, keccak256, parseEther, Wallet, type Contract, type NonceManager } from 'ethers';
import nativeForwarder from '../fixtures/contracts/native-forwarder.json';
import { sql } from 'kysely';
import { deployTestUsdt, ensureTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { freePort } from '../../dev/tools/ports';
import { loadConfig } from '../../src/config';
import { findCursor, saveCursor } from '../../src/chains/chains.repository';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { createLogger } from '../../src/logger';
import { chainWatcherWorkflowId, depositWorkflowId, watcherStateQuery } from '../../src/workflows/definitions';
import type { OutboxRelay } from '../../src/outbox/relay';
import { createWorker, startChainWatchers, startWorkerOutboxRelay, type InflowWorker } from '../../src/worker';
import { startTestApi } from '../helpers/api';
import { startReceiver } from '../helpers/receiver';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { connectToDevServer, isolatedNamespaces, uniqueTaskQueue } from '../helpers/temporal';
import { readTestEnv } from '../helpers/test-env';
import { waitFor } from '../helpers/wait';
import { buildCustomer, buildEndpoint, testHealthToken, testSecretKeyHex } from '../../dev/fixtures';

/** Real transfers on a real chain (anvil) become deposits through the real watcher, worker and Temporal dev server. */
describe('chain watcher on anvil (real chain, worker, Temporal dev server, Postgres)', () => {
  let anvil: RunningAnvil;
  let signer: NonceManager;
  let usdt: Contract;
  let database: TestDatabase;
  let dev: Awaited<ReturnType<typeof connectToDevServer>>;
  let worker: InflowWorker;
  let running: Promise<void>;
  /** As `npm run worker` runs one: it makes the deposits' webhook deliveries. */
  let relay: OutboxRelay;
  let addresses: { alice: string; bob: string };
  let config: ReturnType<typeof loadConfig>;
  let anvilPort: number;
  let merchantId: string;
  let stateFile: string;
  const taskQueue = uniqueTaskQueue('watcher');

  beforeAll(async () => {
    anvilPort = await freePort();
    stateFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'inflow-anvil-')), 'state.json');
    anvil = await startAnvil({ port: anvilPort, stateFile });
    signer = fundedSigner(anvil.provider);
    usdt = await deployTestUsdt(signer);
    database = await createTestDatabase();
    dev = await connectToDevServer(isolatedNamespaces.chainWatcher);
    config = loadConfig({
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      TEMPORAL_NAMESPACE: isolatedNamespaces.chainWatcher,
      INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl,
      INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
      INFLOW_TRACE_ETHEREUM_TEST: 'callTracer',
      INFLOW_CHAIN_POLL_MS: '100',
      INFLOW_SECRET_KEY: testSecretKeyHex,
      // The webhook receiver listens on loopback, which a development stack allows.
      INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK: 'true',
      // From the next block: the test USDT's mint at deployment went to the address alice is given.
      INFLOW_CHAIN_START_BLOCK_ETHEREUM_TEST: String(Number(await anvil.provider.send('eth_blockNumber', [])) + 1),
    });
    const alice = await buildCustomer(database.db);
    const bob = await buildCustomer(database.db, { merchant: alice.merchant });
    merchantId = alice.merchant.merchant_id;
    addresses = { alice: alice.customer.addresses[0]!.address, bob: bob.customer.addresses[0]!.address };
    worker = await createWorker({ config, db: database.db, connection: dev.nativeConnection, temporal: dev.client });
    running = worker.run();
    relay = startWorkerOutboxRelay({ config, db: database.db, connection: dev.nativeConnection }, worker, createLogger('silent'));
    await startChainWatchers(dev.client, config, createLogger('silent'));
    // The first round starts at INFLOW_CHAIN_START_BLOCK_ETHEREUM_TEST and reaches the head.
    const watcher = dev.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }));
    await waitFor('watcher at the head', async () => (await watcher.query(watcherStateQuery)).head !== null);
  });

  afterAll(async () => {
    await dev?.client.workflow
      .getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }))
      .terminate('test over')
      .catch(() => undefined);
    await relay?.stop();
    worker?.shutdown();
    await running;
    await dev?.close();
    expect(await ledgerInvariantViolations(database.db)).toEqual([]);
    await database?.destroy();
    await anvil?.stop();
  });

  const deposits = () => database.db.selectFrom('deposits').selectAll().orderBy('id').execute();

  it('turns an ETH transfer and two USDT transfers in one transaction into three completed deposits, once each, announced by webhooks', async () => {
    const receiver = await startReceiver();
    await buildEndpoint(database.db, { merchantId, livemode: false }, { url: receiver.url, events: ['deposit.completed'] });
    const watcher = dev.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }));
    const eth = await (await signer.sendTransaction({ to: addresses.alice, value: parseEther('0.5') })).wait();
    const batch = await (await usdt.getFunction('batchTransfer')([addresses.alice, addresses.bob], [25_000_000n, 1_000_000n])).wait();
    await (await signer.sendTransaction({ to: Wallet.createRandom().address, value: 1n })).wait(); // not a customer: ignored
    await waitFor('three deposits detected', async () => (await deposits()).length === 3);
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('three deposits completed', async () => (await deposits()).every((deposit) => deposit.status === 'completed'), 60_000);

    const rows = await deposits();
    const summary = rows.map((row) => [row.currency, row.address, row.amount, row.fee, row.net_amount, row.transaction_hash]).sort();
    expect(summary).toEqual(
      [
        ['ETH', addresses.alice, parseEther('0.5').toString(), '666666666666666', (parseEther('0.5') - 666666666666666n).toString(), eth!.hash],
        ['USDT', addresses.alice, '25000000', '2000000', '23000000', batch!.hash],
        ['USDT', addresses.bob, '1000000', '1000000', '0', batch!.hash],
      ].sort(),
    );

    // Completed, a deposit's workflow listens for reorgs only: the watcher's later rounds, which
    // still check its block, signal it nothing (each signal would be history and a workflow task).
    const completedRun = dev.client.workflow.getHandle(
      depositWorkflowId({ livemode: false, network: 'ethereum', transactionHash: rows[0]!.transaction_hash, logIndex: rows[0]!.log_index }),
    );
    const signalsTo = async () => (await completedRun.fetchHistory()).events!.filter((event) => event.workflowExecutionSignaledEventAttributes).length;
    const roundsPast = async (blocks: number) => {
      const from = Number((await findCursor(database.db, false, 'ethereum'))!.nextBlock);
      await anvil.provider.send('anvil_mine', [`0x${blocks.toString(16)}`]);
      // A round that scans a block mined now read the deposits after their completion.
      await waitFor(
        `the watcher past ${blocks} more blocks`,
        async () => Number((await findCursor(database.db, false, 'ethereum'))!.nextBlock) >= from + blocks,
      );
    };
    await roundsPast(1);
    const signalsAtCompletion = await signalsTo();
    await roundsPast(5);
    expect(await signalsTo()).toBe(signalsAtCompletion);

    // A watcher restarted from an older cursor sees the same transfers again: no new rows, no new bookings.
    await watcher.terminate('restart from an older cursor');
    await saveCursor(database.db, false, 'ethereum', eth!.blockNumber, eth!.blockNumber);
    await startChainWatchers(dev.client, config, createLogger('silent'));
    await waitFor('rescan done', async () => Number((await findCursor(database.db, false, 'ethereum'))!.nextBlock) > batch!.blockNumber);
    expect(await deposits()).toHaveLength(3);
    const bookings = await database.db.selectFrom('ledger_transactions').select('deposit_id').where('kind', '=', 'deposit').execute();
    expect(bookings).toHaveLength(3);

    // Each completion reached the merchant's endpoint, once.
    await receiver.waitForRequests(3);
    const announced = receiver.requests.map((request) => JSON.parse(request.rawBody) as { event: string; data: { transaction_hash: string } });
    expect(announced.map((event) => event.event)).toEqual(['deposit.completed', 'deposit.completed', 'deposit.completed']);
    expect(announced.map((event) => event.data.transaction_hash).sort()).toEqual([eth!.hash, batch!.hash, batch!.hash].sort());
    await receiver.close();

    // The watcher's position and lag are visible in /healthz.
    const api = await startTestApi({ db: database.db, temporal: dev.client });
    try {
      const health = (await (await api.request('/healthz?detail', { key: testHealthToken })).json()) as { chains: unknown[] };
      expect(health.chains).toEqual([
        {
          network: 'ethereum',
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
  });

  const depositOf = (transactionHash: string) =>
    database.db.selectFrom('deposits').selectAll().where('transaction_hash', '=', transactionHash).executeTakeFirst();
  const head = async () => Number(await anvil.provider.send('eth_blockNumber', []));
  /** Mines `blocks` and waits for a watcher round that scanned them. */
  const roundAfter = async (blocks: number) => {
    await anvil.provider.send('anvil_mine', [`0x${blocks.toString(16)}`]);
    const target = await head();
    await waitFor('a round past the new blocks', async () => Number((await findCursor(database.db, false, 'ethereum'))!.nextBlock) > target, 30_000);
  };
  /** Replaces every block from the transaction's onwards, optionally re-mining given raw transactions in them. */
  const reorgFrom = async (blockNumber: number, include: Array<[string, number]> = []) => {
    await anvil.provider.send('anvil_reorg', [(await head()) - blockNumber + 1, include]);
    // Dropped transactions give their nonces back: the signer must count again from the chain.
    signer.reset();
  };

  it('finds every deposit made while the worker was down, once, when it comes back', async () => {
    worker.shutdown();
    await running;
    const sent = [];
    for (const [to, amount] of [
      [addresses.alice, 11_000_000n],
      [addresses.bob, 12_000_000n],
      [addresses.alice, 13_000_000n],
    ] as const) {
      sent.push(await (await usdt.getFunction('transfer')(to, amount)).wait());
    }
    await anvil.provider.send('anvil_mine', ['0xc']);
    worker = await createWorker({ config, db: database.db, connection: dev.nativeConnection, temporal: dev.client });
    running = worker.run();
    for (const receipt of sent) await waitFor('completed after restart', async () => (await depositOf(receipt!.hash))?.status === 'completed', 30_000);
    const rows = await database.db
      .selectFrom('deposits')
      .select('id')
      .where(
        'transaction_hash',
        'in',
        sent.map((receipt) => receipt!.hash),
      )
      .execute();
    expect(rows).toHaveLength(3);
  });

  it('tells a deposit on a real chain only what its workflow acts on; the row counts every block between, and its history stays short', async () => {
    const sent = await (await usdt.getFunction('transfer')(addresses.bob, 3_000_000n)).wait();
    await waitFor('confirming', async () => (await depositOf(sent!.hash))?.status === 'confirming');
    const run = dev.client.workflow.getHandle(depositWorkflowId({ livemode: false, network: 'ethereum', transactionHash: sent!.hash, logIndex: 0 }));
    const signals = async () => (await run.fetchHistory()).events!.filter((event) => event.workflowExecutionSignaledEventAttributes).length;
    // One block at a time, a watcher round after each: the row counts each block as the chain does.
    const required = (await depositOf(sent!.hash))!.required_confirmations;
    let signalsWhenConfirming: number | undefined;
    for (;;) {
      await roundAfter(1);
      const onChain = (await head()) - sent!.blockNumber + 1;
      if (onChain >= required) break;
      expect([onChain, (await depositOf(sent!.hash))!.confirmations]).toEqual([onChain, onChain]);
      // Counted from the first round after it became confirming (the round that detects a transfer may report it twice).
      signalsWhenConfirming ??= await signals();
    }
    // Its workflow was told nothing between its first confirmations and its depth, then once.
    await waitFor('completed', async () => (await depositOf(sent!.hash))?.status === 'completed', 30_000);
    expect(await signals()).toBe(signalsWhenConfirming! + 1);
    expect(await depositOf(sent!.hash)).toMatchObject({ confirmations: required, amount: '3000000' });
    // Detection (a start), its first confirmations and completion: about 20 events, not 5 per block.
    const { events } = await run.fetchHistory();
    expect(events!.length).toBeLessThanOrEqual(40);
  });

  it('fails a deposit whose transaction a reorg removes only once the chain has grown 12 blocks past it, and books nothing', async () => {
    const sent = await (await usdt.getFunction('transfer')(addresses.bob, 5_000_000n)).wait();
    await waitFor('detected', async () => (await depositOf(sent!.hash)) !== undefined);
    await reorgFrom(sent!.blockNumber);
    // One observation is not a reorg: the same transaction is usually mined again within a block or two.
    await roundAfter(1);
    expect((await depositOf(sent!.hash))!.status).not.toBe('failed');
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('failed', async () => (await depositOf(sent!.hash))?.status === 'failed', 30_000);
    expect(await depositOf(sent!.hash)).toMatchObject({ status: 'failed', failure_reason: 'reorg', fee: null });
  });

  it('reverses a completed deposit that a deeper reorg removes, with the reversing booking', async () => {
    const sent = await (await usdt.getFunction('transfer')(addresses.alice, 7_000_000n)).wait();
    await waitFor('detected', async () => (await depositOf(sent!.hash)) !== undefined);
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('completed', async () => (await depositOf(sent!.hash))?.status === 'completed', 30_000);
    await reorgFrom(sent!.blockNumber);
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('reversed', async () => (await depositOf(sent!.hash))?.reversed_at !== null, 30_000);
    const deposit = (await depositOf(sent!.hash))!;
    const ledger = await database.db.selectFrom('ledger_transactions').select('kind').where('deposit_id', '=', deposit.id).orderBy('kind').execute();
    expect(ledger.map((entry) => entry.kind)).toEqual(['deposit', 'reversal']);
  });

  it('credits once a transfer that a reorg drops and the chain mines again with the same hash', async () => {
    const sent = await (await usdt.getFunction('transfer')(addresses.alice, 4_000_000n)).wait();
    const raw = (await anvil.provider.send('eth_getRawTransactionByHash', [sent!.hash])) as string;
    await anvil.provider.send('anvil_mine', ['0x2']);
    await waitFor('confirming', async () => (await depositOf(sent!.hash))?.status === 'confirming');
    // The orphaned block's transaction goes back to the mempool, and lands two blocks later.
    await reorgFrom(sent!.blockNumber);
    await anvil.provider.send('anvil_mine', ['0x2']);
    await anvil.provider.send('eth_sendRawTransaction', [raw]);
    const again = (await anvil.provider.send('eth_getTransactionReceipt', [sent!.hash])) as { blockNumber: string; blockHash: string };
    expect(again.blockHash).not.toBe(sent!.blockHash);
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('completed', async () => (await depositOf(sent!.hash))?.status === 'completed', 30_000);
    const deposit = (await depositOf(sent!.hash))!;
    expect(deposit).toMatchObject({ failure_reason: null, block_hash: again.blockHash, block_number: String(Number(again.blockNumber)), inclusion: 0 });
    const ledger = await database.db.selectFrom('ledger_transactions').select('kind').where('deposit_id', '=', deposit.id).execute();
    expect(ledger).toEqual([{ kind: 'deposit' }]);
  });

  it('re-opens a reversed deposit when its transaction is mined again, and books it once more', async () => {
    const sent = await (await usdt.getFunction('transfer')(addresses.alice, 6_000_000n)).wait();
    const raw = (await anvil.provider.send('eth_getRawTransactionByHash', [sent!.hash])) as string;
    await waitFor('detected', async () => (await depositOf(sent!.hash)) !== undefined);
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('completed', async () => (await depositOf(sent!.hash))?.status === 'completed', 30_000);
    await reorgFrom(sent!.blockNumber);
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('reversed', async () => (await depositOf(sent!.hash))?.reversed_at !== null, 30_000);

    await anvil.provider.send('eth_sendRawTransaction', [raw]);
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('completed again', async () => (await depositOf(sent!.hash))?.status === 'completed', 30_000);
    const deposit = (await depositOf(sent!.hash))!;
    expect(deposit).toMatchObject({ inclusion: 1, failure_reason: null, net_amount: '4000000' });
    const ledger = await database.db
      .selectFrom('ledger_transactions')
      .select(['kind', 'inclusion'])
      .where('deposit_id', '=', deposit.id)
      .orderBy('inclusion')
      .orderBy('kind')
      .execute();
    expect(ledger).toEqual([
      { kind: 'deposit', inclusion: 0 },
      { kind: 'reversal', inclusion: 0 },
      { kind: 'deposit', inclusion: 1 },
    ]);
    // Its events tell the story: detected, completed, reversed, then detected and completed again
    // (confirming in between when a round saw it before it was final).
    const events = await database.db
      .selectFrom('events')
      .select('type')
      .where(sql<boolean>`data->>'id' = ${deposit.id}`)
      .orderBy('id')
      .execute();
    const types = events.map((event) => event.type).filter((type) => type !== 'deposit.confirming');
    expect(types).toEqual(['deposit.detected', 'deposit.completed', 'deposit.reversed', 'deposit.detected', 'deposit.completed']);
  });

  it('completes once a deposit whose transaction a reorg moves into another block', async () => {
    const sent = await (await usdt.getFunction('transfer')(addresses.bob, 3_000_000n)).wait();
    const raw = (await anvil.provider.send('eth_getRawTransactionByHash', [sent!.hash])) as string;
    await waitFor('detected', async () => (await depositOf(sent!.hash)) !== undefined);
    // Two blocks replaced; the transaction lands in the second of them.
    await anvil.provider.send('anvil_mine', ['0x1']);
    await reorgFrom(sent!.blockNumber, [[raw, 1]]);
    const moved = await anvil.provider.send('eth_getTransactionReceipt', [sent!.hash]);
    expect(moved.blockHash).not.toBe(sent!.blockHash);
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('completed', async () => (await depositOf(sent!.hash))?.status === 'completed', 30_000);
    const deposit = (await depositOf(sent!.hash))!;
    expect(deposit.failure_reason).toBeNull();
    const ledger = await database.db.selectFrom('ledger_transactions').select('kind').where('deposit_id', '=', deposit.id).execute();
    expect(ledger).toEqual([{ kind: 'deposit' }]);
  });

  it('credits ETH a contract sends to a customer (an internal transfer, from the call trace), and records dust without a workflow', async () => {
    const forwarder = (await new ContractFactory(nativeForwarder.abi, nativeForwarder.bytecode, signer).deploy()) as unknown as Contract;
    await forwarder.waitForDeployment();
    const sent = await (await forwarder.getFunction('forward')(addresses.bob, { value: parseEther('0.25') })).wait();
    // One base unit of USDT: dust, below the default 0.01.
    const dust = await (await usdt.getFunction('transfer')(addresses.bob, 1n)).wait();
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('completed', async () => (await depositOf(sent!.hash))?.status === 'completed', 30_000);
    expect(await depositOf(sent!.hash)).toMatchObject({ currency: 'ETH', log_index: -2, amount: parseEther('0.25').toString(), address: addresses.bob });
    await waitFor('dust recorded', async () => (await depositOf(dust!.hash)) !== undefined);
    const recorded = (await depositOf(dust!.hash))!;
    expect(recorded).toMatchObject({ status: 'dust', amount: '1', fee: null });
    const events = await database.db
      .selectFrom('events')
      .select('type')
      .where(sql<boolean>`data->>'id' = ${recorded.id}`)
      .execute();
    expect(events).toEqual([]);
    const workflow = dev.client.workflow.getHandle(
      depositWorkflowId({ livemode: false, network: 'ethereum', transactionHash: dust!.hash, logIndex: recorded.log_index }),
    );
    await expect(workflow.describe()).rejects.toThrow(/not found/i);
  });

  it('finds a transfer that a reorg puts into blocks it had already scanned', async () => {
    // A second funded anvil account signs a transfer that only the replacement chain carries.
    const other = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d', anvil.provider);
    await anvil.provider.send('anvil_mine', ['0x3']);
    const scannedHead = await head();
    await waitFor('blocks scanned', async () => ((await findCursor(database.db, false, 'ethereum'))?.nextBlock ?? 0) > scannedHead, 30_000);
    const fees = await anvil.provider.getFeeData();
    const raw = await other.signTransaction({
      to: addresses.bob,
      value: parseEther('0.25'),
      nonce: await anvil.provider.getTransactionCount(other.address),
      gasLimit: 21_000n,
      maxFeePerGas: fees.maxFeePerGas! * 2n,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 1n,
      chainId: 31337n,
      type: 2,
    });
    await anvil.provider.send('anvil_reorg', [2, [[raw, 0]]]);
    const hash = keccak256(raw);
    await waitFor('found after the reorg', async () => (await depositOf(hash)) !== undefined, 30_000);
    expect(await depositOf(hash)).toMatchObject({ currency: 'ETH', address: addresses.bob, amount: parseEther('0.25').toString() });
  });

  it('retries while the node is down, loses nothing, and catches up when it returns', async () => {
    const watcher = dev.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' }));
    await anvil.stop();
    // The scan activity fails and is retried with backoff (not a fixed wait: we watch its attempts).
    await waitFor(
      'a failed scan being retried',
      async () => {
        const { raw } = await watcher.describe();
        return (raw.pendingActivities ?? []).some((activity) => (activity.attempt ?? 0) >= 2 && activity.lastFailure);
      },
      30_000,
    );

    anvil = await startAnvil({ port: anvilPort, stateFile });
    signer = fundedSigner(anvil.provider);
    usdt = await ensureTestUsdt(signer, await usdt.getAddress());
    const sent = await (await usdt.getFunction('transfer')(addresses.bob, 9_000_000n)).wait();
    await anvil.provider.send('anvil_mine', ['0xc']);
    await waitFor('completed after the outage', async () => (await depositOf(sent!.hash))?.status === 'completed', 90_000);
  }, 150_000);
});
