/**
 * `npm run bench:scanner`: fills anvil with blocks carrying many ERC-20 Transfer logs, then runs
 * the watcher's scan (the real activity: logs, native transfers, one recipient-matching query per
 * batch, cursor) over them, beside a bare `eth_getLogs` loop over the same ranges, with 1e3 and
 * with 1e5 customer addresses in Postgres. Prints blocks/s and logs/s for each, then the detection
 * latency of the whole path (anvil, watcher, worker, Temporal dev server) on a 1 s block time.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { Wallet } from 'ethers';
import { sql } from 'kysely';
import { deployTestUsdt, fundedSigner, startAnvil } from '../dev/devnet/anvil';
import { startEmbeddedPostgres } from '../dev/postgres';
import { freePort } from '../dev/tools/ports';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ChainActivities, ScanResult } from '../src/workflows/definitions';
import type { Network } from '../src/domain/networks';
import { createChainActivities } from '../src/activities/chain.activities';
import { chainKey } from '../src/chains/chain-adapter';
import { EvmAdapter, TRANSFER_TOPIC } from '../src/chains/evm/evm.adapter';
import { createDb } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { findCursor, saveCursor } from '../src/db/repositories/chains.repository';
import { AddressDeriver, generateMnemonic, xpubsFromMnemonic } from '../src/chains/derivation';
import { loadConfig } from '../src/config';
import { createCustomer } from '../src/customers/customers.service';
import { createLogger } from '../src/logger';
import { chainWatcherWorkflowId } from '../src/workflows/definitions';
import { createWorker, startChainWatchers } from '../src/worker';
import { startTemporalDevServer } from '../dev/temporal';
import { randomBytes } from 'node:crypto';
import { startTronDevnet } from '../dev/devnet/tron-devnet';
import { tronAddressFromAccountId } from '../src/chains/tron/address';
import { TronAdapter } from '../src/chains/tron/tron.adapter';
import { benchLog } from './log';
import { buildMerchant, testSecretKeyHex } from '../dev/fixtures';

/** The scan activity heartbeats, so it runs in an activity context, as a worker runs it. */
const inActivity = new MockActivityEnvironment();
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 200);
const LOGS_PER_BLOCK = Number(process.env.BENCH_LOGS_PER_BLOCK ?? 100);
const RANGE = 100;

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const log = benchLog;
  const anvil = await startAnvil({ port: await freePort() });
  const signer = fundedSigner(anvil.provider);
  const usdt = await deployTestUsdt(signer);
  const first = Number(await anvil.provider.send('eth_blockNumber', [])) + 1;
  log(`mining ${BLOCKS} blocks of ${LOGS_PER_BLOCK} transfers each`);
  const batch = usdt.getFunction('batchTransfer');
  for (let block = 0; block < BLOCKS; block++) {
    const recipients = Array.from({ length: LOGS_PER_BLOCK }, () => Wallet.createRandom().address);
    await (
      await batch(
        recipients,
        recipients.map(() => 1_000n),
      )
    ).wait();
  }
  const last = Number(await anvil.provider.send('eth_blockNumber', []));

  const postgres = await startEmbeddedPostgres({
    dataDir: await mkdtemp(path.join(os.tmpdir(), 'inflow-bench-pg-')),
    port: await freePort(),
    persistent: false,
    log,
  });
  const db = createDb(postgres.url('postgres'), { max: 10 });
  await migrateToLatest(db);
  const merchant = await buildMerchant(db, 'Bench');
  const adapter = new EvmAdapter(anvil.provider, {
    nativeCurrency: 'ETH',
    tokens: [{ currency: 'USDT', address: await usdt.getAddress() }],
    maxBlockRange: RANGE,
  });
  // No transfer here is to a customer, so no workflow is started: the client is never called.
  const connection = await Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  const { scanChain } = createChainActivities({
    db,
    temporal: new Client({ connection }),
    taskQueue: 'bench',
    chains: new Map([[chainKey({ network: 'ethereum', livemode: false }), { adapter, requiredConfirmations: 12 }]]),
  });

  const addCustomers = async (total: number) => {
    const { rows } = await sql<{ count: string }>`select count(*) from customer_addresses`.execute(db);
    const have = Number(rows[0]!.count);
    await sql`
      insert into customers (id, merchant_id, livemode, metadata, address_index)
      select 'cus_bench' || i, ${merchant.merchant_id}, false, '{}'::jsonb, 1000000 + i from generate_series(${have}::int, ${total - 1}::int) as i`.execute(db);
    await sql`
      insert into customer_addresses (customer_id, family, address, livemode, merchant_id)
      select 'cus_bench' || i, 'evm', '0x' || lpad(to_hex(i), 40, '0'), false, ${merchant.merchant_id} from generate_series(${have}::int, ${total - 1}::int) as i`.execute(
      db,
    );
  };

  const scanAll = () => timeFullScan(db, scanChain, 'ethereum', first, last);

  const bareLoop = async () => {
    const started = performance.now();
    let logs = 0;
    for (let from = first; from <= last; from += RANGE) {
      logs += (
        await anvil.provider.send('eth_getLogs', [
          { fromBlock: `0x${from.toString(16)}`, toBlock: `0x${Math.min(last, from + RANGE - 1).toString(16)}`, topics: [TRANSFER_TOPIC] },
        ])
      ).length;
    }
    return { seconds: (performance.now() - started) / 1000, logs };
  };

  const blocks = last - first + 1;
  const bare = await bareLoop();
  console.log(`${blocks} blocks, ${bare.logs} Transfer logs, ${RANGE} blocks per call, anvil + embedded Postgres`);
  console.log(
    `bare eth_getLogs loop        ${(blocks / bare.seconds).toFixed(0).padStart(7)} blocks/s ${(bare.logs / bare.seconds).toFixed(0).padStart(9)} logs/s`,
  );
  await compareWithBareLoop({ label: '', blocks, items: bare.logs, unit: 'logs', bareSeconds: bare.seconds, addCustomers, scanAll });

  await connection.close();
  await anvil.stop();

  await measureTron(db, merchant.merchant_id);
  await measureDetectionLatency(db, merchant.merchant_id, log);
  await db.destroy();
  await postgres.stop();
}

/**
 * The Tron row: BLOCKS blocks of LOGS_PER_BLOCK transfers (half TRC-20 USDT, half TRX) on the Tron
 * devnet stand-in, scanned by the watcher's activity through the Tron adapter, beside a bare loop
 * of the same node calls made with the same parallelism (blocks 100 a call, then the transaction
 * infos of every block with a contract call), with 1e3 and 1e5 customer addresses.
 */
async function measureTron(db: ReturnType<typeof createDb>, merchantId: string): Promise<void> {
  const tron = await startTronDevnet({ port: await freePort() });
  benchLog(`Tron devnet stand-in: making ${BLOCKS} blocks of ${LOGS_PER_BLOCK} transfers each`);
  tron.mine();
  const first = tron.head() + 1;
  for (let block = 0; block < BLOCKS; block++) {
    for (let i = 0; i < LOGS_PER_BLOCK; i++) tron.transfer(tronAddressFromAccountId(randomBytes(20)), 1_000n, i % 2 === 0 ? 'USDT' : 'TRX');
    tron.mine();
  }
  const last = tron.head();
  const adapter = new TronAdapter({
    rpcUrl: tron.rpcUrl,
    nativeCurrency: 'TRX',
    tokens: [{ currency: 'USDT', address: tron.usdtAddress }],
    maxBlockRange: RANGE,
  });
  const connection = await Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  const { scanChain } = createChainActivities({
    db,
    temporal: new Client({ connection }),
    taskQueue: 'bench',
    chains: new Map([[chainKey({ network: 'tron', livemode: false }), { adapter, requiredConfirmations: 19 }]]),
  });
  const call = async (endpoint: string, body: unknown) =>
    (await fetch(`${tron.rpcUrl}${endpoint}`, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<any>;

  const bareLoop = async () => {
    const started = performance.now();
    let transfers = 0;
    for (let from = first; from <= last; from += RANGE) {
      const { block } = await call('/wallet/getblockbylimitnext', { startNum: from, endNum: Math.min(last, from + RANGE - 1) + 1 });
      const infos = await Promise.all(
        (block as any[])
          .filter((each) => (each.transactions ?? []).some((transaction: any) => transaction.raw_data.contract[0].type === 'TriggerSmartContract'))
          .map((each) => call('/wallet/gettransactioninfobyblocknum', { num: each.block_header.raw_data.number })),
      );
      const payments = (block as any[])
        .flatMap((each) => each.transactions ?? [])
        .filter((transaction: any) => transaction.raw_data.contract[0].type === 'TransferContract');
      transfers += payments.length + infos.flat().reduce((sum, info) => sum + (info.log ?? []).length, 0);
    }
    return { seconds: (performance.now() - started) / 1000, transfers };
  };
  const addTronCustomers = async (total: number) => {
    const { rows } = await sql<{ count: string }>`select count(*) from customer_addresses where family = 'tron'`.execute(db);
    const have = Number(rows[0]!.count);
    await sql`
      insert into customer_addresses (customer_id, family, address, livemode, merchant_id)
      select 'cus_bench' || i, 'tron', 'T' || lpad(i::text, 33, '0'), false, ${merchantId} from generate_series(${have}::int, ${total - 1}::int) as i`.execute(
      db,
    );
  };
  const scanAll = () => timeFullScan(db, scanChain, 'tron', first, last);

  const blocks = last - first + 1;
  const bare = await bareLoop();
  console.log(
    `Tron: ${blocks} blocks, ${bare.transfers} transfers (half USDT, half TRX), ${RANGE} blocks per call, the Tron devnet stand-in + embedded Postgres`,
  );
  console.log(
    `bare loop of the node calls  ${(blocks / bare.seconds).toFixed(0).padStart(7)} blocks/s ${(bare.transfers / bare.seconds).toFixed(0).padStart(9)} transfers/s`,
  );
  await compareWithBareLoop({
    label: 'Tron: ',
    blocks,
    items: bare.transfers,
    unit: 'transfers',
    bareSeconds: bare.seconds,
    addCustomers: addTronCustomers,
    scanAll,
  });
  await connection.close();
  await tron.stop();
}

/**
 * The watcher's rows beside the bare loop's, with 1e3 and then 1e5 customer addresses, and the two
 * ratios with their targets: flat in the number of addresses, at least half the bare loop.
 */
/** Seconds the watcher's scan activity takes over blocks first..last, round after round from a reset cursor. */
async function timeFullScan(
  db: ReturnType<typeof createDb>,
  scanChain: ChainActivities['scanChain'],
  network: Network,
  first: number,
  last: number,
): Promise<number> {
  await saveCursor(db, false, network, first, last);
  const started = performance.now();
  let result: ScanResult;
  do result = await inActivity.run(scanChain, { network, livemode: false });
  while (result.nextBlock <= last);
  return (performance.now() - started) / 1000;
}

async function compareWithBareLoop(run: {
  label: string;
  blocks: number;
  items: number;
  unit: string;
  bareSeconds: number;
  addCustomers(total: number): Promise<void>;
  scanAll(): Promise<number>;
}): Promise<void> {
  const bareRate = run.blocks / run.bareSeconds;
  const rates: number[] = [];
  for (const customers of [1_000, 100_000]) {
    await run.addCustomers(customers);
    await run.scanAll(); // warm-up
    const seconds = await run.scanAll();
    rates.push(run.blocks / seconds);
    console.log(
      `watcher, ${String(customers).padStart(6)} addresses  ${(run.blocks / seconds).toFixed(0).padStart(7)} blocks/s ${(run.items / seconds).toFixed(0).padStart(9)} ${run.unit}/s   ${(run.blocks / seconds / bareRate).toFixed(2)}× the bare loop`,
    );
  }
  console.log(
    `${run.label}1e5 addresses vs 1e3: ${(rates[1]! / rates[0]!).toFixed(2)}× (target ≥ 0.90×); watcher vs bare loop: ${(rates[0]! / bareRate).toFixed(2)}× (target ≥ 0.50×)`,
  );
}

/**
 * The whole path on a 1 s block time: anvil → the watcher (real worker, Temporal dev server) →
 * the deposit workflow's first activity writing the row. Block timestamps have 1 s resolution.
 */
async function measureDetectionLatency(db: ReturnType<typeof createDb>, merchantId: string, log: (line: string) => void): Promise<void> {
  const TRANSFERS = Number(process.env.BENCH_LATENCY_TRANSFERS ?? 20);
  const anvil = await startAnvil({ port: await freePort(), blockTimeSeconds: 1 });
  const signer = fundedSigner(anvil.provider);
  const usdt = await deployTestUsdt(signer);
  const temporal = await startTemporalDevServer({ log });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const config = loadConfig({
    DATABASE_URL: 'postgres://unused@localhost/unused',
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'bench-latency',
    INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl,
    INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
    INFLOW_CHAIN_POLL_MS: '100',
    INFLOW_SECRET_KEY: testSecretKeyHex,
  });
  await sql`delete from chain_cursors`.execute(db);
  const worker = await createWorker({ config, db, connection: nativeConnection, temporal: client });
  const running = worker.run();
  await startChainWatchers(client, config, createLogger('silent'));
  const deriver = new AddressDeriver(xpubsFromMnemonic(generateMnemonic()));
  const customer = await db.transaction().execute((trx) => createCustomer(trx, { merchantId, livemode: false }, {}, deriver));
  const address = customer.customer.addresses[0]!.address;
  while (!(await findCursor(db, false, 'ethereum'))) await new Promise((resolve) => setTimeout(resolve, 50));

  const sent: Array<{ hash: string; blockNumber: number }> = [];
  for (let i = 0; i < TRANSFERS; i++) {
    const receipt = await (await usdt.getFunction('transfer')(address, BigInt(1_000_000 + i))).wait();
    sent.push({ hash: receipt!.hash, blockNumber: receipt!.blockNumber });
  }
  const latencies: number[] = [];
  for (const { hash, blockNumber } of sent) {
    let row;
    while (!(row = await db.selectFrom('deposits').select('created_at').where('transaction_hash', '=', hash).executeTakeFirst())) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const block = await anvil.provider.getBlock(blockNumber);
    latencies.push(row.created_at.getTime() - block!.timestamp * 1000);
  }
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  console.log(`detection latency, block timestamp → deposit row, 1 s blocks, ${TRANSFERS} transfers: p50 ${p(0.5)} ms  p95 ${p(0.95)} ms`);

  await client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' })).terminate('bench over');
  worker.shutdown();
  await running;
  await nativeConnection.close();
  await connection.close();
  await temporal.stop();
  await anvil.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
