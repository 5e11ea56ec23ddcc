/**
 * `npm run bench:scanner [-- --temporal dev|server|both] [--rounds N]`:
 *   1. Scanning (no Temporal: the scan activity runs in a mock activity context). BLOCKS blocks of
 *      LOGS_PER_BLOCK transfers on anvil (ERC-20 Transfer logs) and on the Tron devnet stand-in
 *      (half TRC-20 USDT, half TRX), scanned by the watcher's real activity (logs, native
 *      transfers, one recipient-matching query per batch, cursor) beside a bare loop of the same
 *      node calls, with 1e3, 1e5 and 1e6 customer addresses in Postgres. At each size both are
 *      warmed and run in interleaved rounds; each keeps its best. Targets: the watcher ≥ 0.5× the
 *      bare loop, and flat in the number of addresses (≥ 0.9× the smallest size's rate).
 *   2. Detection latency of the whole path (anvil at a 1 s block time → the watcher in a real
 *      worker → the deposit workflow's first activity writing the row), on each Temporal engine.
 *
 * The addresses are seeded in bulk, not through the customer service (1e6 derivations would take
 * minutes), but are what the watcher's matching query (chains.repository ownersByAddress) reads:
 * rows of `customers` and `customer_addresses` with the real indexes, each customer with an EVM
 * address (EIP-55 checksummed, as stored) and a Tron address encoding the same 20-byte account
 * id, as a derived customer has. The account ids are random, as uniformly spread as Keccak output,
 * so the index is filled as a real one is, not in order. After seeding the table is vacuumed and
 * analysed, as autovacuum would have left a table grown over months. Seeding to 1e6 took about
 * 3 minutes on a busy 2-core machine (12 s to 1e5); with it the whole run takes 5 to 10 minutes
 * with both engines (`BENCH_ADDRESSES=1000,100000` leaves the 1e6 row out).
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Wallet, type Contract } from 'ethers';
import { sql } from 'kysely';
import { deployTestUsdt, fundedSigner, minedReceipt, startAnvil, type RunningAnvil } from '../dev/devnet/anvil';
import { startTronDevnet } from '../dev/devnet/tron-devnet';
import { testSecretKeyHex } from '../dev/fixtures';
import { InflowStack } from '../dev/stack';
import { freePort } from '../dev/tools/ports';
import { createChainActivities } from '../src/activities/chain.activities';
import { chainKey, type ChainAdapter } from '../src/chains/chain-adapter';
import { AddressDeriver, generateMnemonic, toChecksumAddress, xpubsFromMnemonic } from '../src/chains/derivation';
import { EvmAdapter, TRANSFER_TOPIC } from '../src/chains/evm/evm.adapter';
import { tronAddressFromAccountId } from '../src/chains/tron/address';
import { TronAdapter } from '../src/chains/tron/tron.adapter';
import { createCustomer } from '../src/customers/customers.service';
import type { Db } from '../src/db/database';
import { findCursor, saveCursor } from '../src/chains/chains.repository';
import type { Network } from '../src/domain/networks';
import { chainWatcherWorkflowId, type ScanResult } from '../src/workflows/definitions';
import { benchTemporal, installBenchRuntime } from './harness';
import { benchLog } from './log';
import {
  bestOfRounds,
  enginesFlag,
  engineLabels,
  formatBest,
  formatPercentiles,
  onEachEngine,
  printHeader,
  ResultTable,
  roundsFlag,
  verdict,
  type Best,
  type Engine,
  type Measured,
} from './measure';

/** The scan activity heartbeats, so it runs in an activity context, as a worker runs it. */
const inActivity = new MockActivityEnvironment();
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 200);
const LOGS_PER_BLOCK = Number(process.env.BENCH_LOGS_PER_BLOCK ?? 100);
const ADDRESS_COUNTS = (process.env.BENCH_ADDRESSES ?? '1000,100000,1000000').split(',').map(Number);
const LATENCY_TRANSFERS = Number(process.env.BENCH_LATENCY_TRANSFERS ?? 20);
const RANGE = 100;
/** How long one block of transfers may take to mine before the run fails rather than hangs. */
const MINING_DEADLINE_MS = 60_000;
/** Customer rows written per statement while seeding: large enough to be quick, small enough for one parameter array. */
const SEED_BATCH = 10_000;
const VS_BARE_TARGET = 0.5;
const FLAT_TARGET = 0.9;

/** One chain to scan: its blocks, the watcher's scan over them, and the bare loop of the same node calls. */
interface ScannedChain {
  column: string;
  unit: string;
  blocks: number;
  /** Transfers in the blocks, as the bare loop counted them. */
  items: number;
  scan(): Promise<number>;
  bareLoop(): Promise<number>;
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  const engines = enginesFlag();
  const rounds = roundsFlag();
  installBenchRuntime();
  printHeader(
    `scanning: ${BLOCKS} blocks of ${LOGS_PER_BLOCK} transfers, ${RANGE} blocks per call, best of ${rounds} rounds after a warm-up, ` +
      `${ADDRESS_COUNTS.map(label).join(', ')} customer addresses; detection latency: ${LATENCY_TRANSFERS} transfers, 1 s blocks; inflow on an embedded Postgres`,
  );
  // inflow's Postgres alone (each engine's detection run below adds a Temporal and a worker).
  const stack = await InflowStack.create({ log: benchLog, label: 'bench', temporal: 'none', env: { INFLOW_SECRET_KEY: testSecretKeyHex }, merchant: 'Bench' });
  const { db } = stack;
  const merchant = stack.merchant!;
  // No transfer scanned is to a customer, so no workflow is started: the stack's client (to no Temporal) is never called.
  const chains = [await evmChain(db, stack.client), await tronChain(db, stack.client)];

  const scanning = new ResultTable(chains.map((chain) => chain.column));
  const bare = new Map<ScannedChain, Best[]>(chains.map((chain) => [chain, []]));
  const watcher = new Map<ScannedChain, Best[]>(chains.map((chain) => [chain, []]));
  for (const count of ADDRESS_COUNTS) {
    const seconds = await seedCustomerAddresses(db, merchant.merchant_id, count);
    console.log(`seeding to ${label(count)} customers (an EVM and a Tron address each): ${seconds.toFixed(1)} s`);
    for (const chain of chains) {
      benchLog(`${chain.column}, ${label(count)} addresses`);
      const asRound = async (run: () => Promise<number>): Promise<Measured> => ({ rate: chain.blocks / (await run()), latencies: [] });
      const results = await bestOfRounds(rounds, {
        bare: { warmUp: chain.bareLoop, round: () => asRound(chain.bareLoop) },
        watcher: { warmUp: chain.scan, round: () => asRound(chain.scan) },
      });
      bare.get(chain)!.push(results.bare);
      watcher.get(chain)!.push(results.watcher);
    }
  }
  for (const chain of chains) {
    // The bare loop reads no Postgres: its rounds at every size are rounds of one measurement.
    const bareBest = bare.get(chain)!.reduce((a, b) => (b.rate > a.rate ? b : a));
    const perItem = chain.items / chain.blocks;
    scanning.set(`transfers in the blocks`, chain.column, `${chain.items} (${chain.unit})`);
    scanning.set(`bare loop: blocks/s, best (other rounds)`, chain.column, `${formatBest(bareBest)}; ${(bareBest.rate * perItem).toFixed(0)} transfers/s`);
    const watched = watcher.get(chain)!;
    for (const [index, count] of ADDRESS_COUNTS.entries()) {
      const best = watched[index]!;
      scanning.set(
        `watcher, ${label(count)} addresses: blocks/s, best (other rounds)`,
        chain.column,
        `${formatBest(best)}; ${(best.rate * perItem).toFixed(0)} transfers/s`,
      );
    }
    for (const [index, count] of ADDRESS_COUNTS.entries()) {
      const ratio = watched[index]!.rate / bareBest.rate;
      scanning.set(
        `watcher, ${label(count)} addresses ÷ bare loop (target ≥ ${VS_BARE_TARGET.toFixed(2)}×)`,
        chain.column,
        `${ratio.toFixed(2)}× ${verdict(ratio >= VS_BARE_TARGET)}`,
      );
    }
    for (const [index, count] of ADDRESS_COUNTS.entries()) {
      if (index === 0) continue;
      const ratio = watched[index]!.rate / watched[0]!.rate;
      scanning.set(
        `watcher, ${label(count)} ÷ ${label(ADDRESS_COUNTS[0]!)} addresses (target ≥ ${FLAT_TARGET.toFixed(2)}×)`,
        chain.column,
        `${ratio.toFixed(2)}× ${verdict(ratio >= FLAT_TARGET)}`,
      );
    }
  }
  for (const chain of chains) await chain.stop();
  console.log('');
  console.log('scanning (no Temporal involved):');
  scanning.print();

  const detection = new ResultTable(engines.map((engine) => engineLabels[engine]));
  await onEachEngine(engines, async (engine) => {
    const latency = await measureDetectionLatency(stack, merchant.merchant_id, engine);
    detection.set(
      `detection latency p50 / p95 ms: block timestamp → deposit row, 1 s blocks, ${LATENCY_TRANSFERS} transfers`,
      engineLabels[engine],
      formatPercentiles(latency, [50, 95]),
    );
  });
  console.log('');
  console.log(`detection, with ${label(ADDRESS_COUNTS.at(-1)!)} customer addresses in Postgres:`);
  detection.print();
  await stack.close();
}

/** 1000 → "1e3": the sizes as the targets name them. */
function label(count: number): string {
  return count.toExponential().replace('e+', 'e');
}

/**
 * Brings the customers to `total`, each with an EVM and a Tron address of one random account id
 * (see the header), in batches through unnest; then vacuums and analyses. Returns the seconds taken.
 * The next batch's addresses are computed here while Postgres writes the last one: the two use
 * different cores.
 */
async function seedCustomerAddresses(db: Db, merchantId: string, total: number): Promise<number> {
  const started = performance.now();
  const { rows } = await sql<{ count: string }>`select count(*) from customers`.execute(db);
  const have = Number(rows[0]!.count);
  let writing: Promise<unknown> = Promise.resolve();
  for (let from = have; from < total; from += SEED_BATCH) {
    const indexes = Array.from({ length: Math.min(SEED_BATCH, total - from) }, (_, i) => from + i);
    const ids = indexes.map((i) => `cus_bench${i}`);
    const accountIds = indexes.map(() => randomBytes(20));
    const evm = accountIds.map((accountId) => toChecksumAddress(accountId));
    const tron = accountIds.map((accountId) => tronAddressFromAccountId(accountId));
    await writing;
    if ((from - have) % 100_000 === 0 && from > have) benchLog(`seeding: ${from} of ${total} customers`);
    writing = (async () => {
      // address_index above the service's sequence, so customers made later through it never collide.
      await sql`
        insert into customers (id, merchant_id, livemode, metadata, address_index)
        select id, ${merchantId}, false, '{}'::jsonb, 1000000000 + i from unnest(${ids}::text[], ${indexes}::int[]) as t(id, i)`.execute(db);
      const insertAddresses = (family: 'evm' | 'tron', addresses: string[]) =>
        sql`
        insert into customer_addresses (customer_id, family, address, livemode, merchant_id)
        select id, ${family}, address, false, ${merchantId} from unnest(${ids}::text[], ${addresses}::text[]) as t(id, address)`.execute(db);
      await Promise.all([insertAddresses('evm', evm), insertAddresses('tron', tron)]);
    })();
  }
  await writing;
  await sql`vacuum analyze customers`.execute(db);
  await sql`vacuum analyze customer_addresses`.execute(db);
  return (performance.now() - started) / 1000;
}

/** The watcher's scan activity on `network`, from a reset cursor to the end of the blocks: seconds taken. */
function scanner(db: Db, temporal: Client, network: Network, adapter: ChainAdapter, first: number, last: number): () => Promise<number> {
  const { scanChain } = createChainActivities({
    db,
    temporal,
    taskQueue: 'bench',
    chains: new Map([[chainKey({ network, livemode: false }), { adapter, requiredConfirmations: 12, dustThresholds: {} }]]),
  });
  return async () => {
    await saveCursor(db, false, network, first, last);
    const started = performance.now();
    let result: ScanResult;
    do result = await inActivity.run(scanChain, { network, livemode: false });
    while (result.nextBlock <= last);
    return (performance.now() - started) / 1000;
  };
}

/** Anvil with the blocks mined, the watcher's scan, and a bare eth_getLogs loop over the same ranges. */
async function evmChain(db: Db, temporal: Client): Promise<ScannedChain> {
  const anvil = await startAnvil({ port: await freePort() });
  const usdt = await deployTestUsdt(fundedSigner(anvil.provider));
  const first = Number(await anvil.provider.send('eth_blockNumber', [])) + 1;
  benchLog(`anvil: mining ${BLOCKS} blocks of ${LOGS_PER_BLOCK} transfers each`);
  const batch = usdt.getFunction('batchTransfer');
  for (let block = 0; block < BLOCKS; block++) {
    const recipients = Array.from({ length: LOGS_PER_BLOCK }, () => Wallet.createRandom().address);
    const sent = await batch(
      recipients,
      recipients.map(() => 1_000n),
    );
    // Not sent.wait() nor the provider's waitForTransaction: both ride ethers' block polling, which
    // stopped answering after 133 blocks once (ethers 6.17) though anvil had mined every transaction.
    await minedReceipt(anvil.provider, sent.hash, MINING_DEADLINE_MS);
  }
  const last = Number(await anvil.provider.send('eth_blockNumber', []));
  const adapter = new EvmAdapter(anvil.provider, {
    nativeCurrency: 'ETH',
    tokens: [{ currency: 'USDT', address: await usdt.getAddress() }],
    maxBlockRange: RANGE,
  });
  const countLogs = async () => {
    let logs = 0;
    for (let from = first; from <= last; from += RANGE) {
      logs += (
        await anvil.provider.send('eth_getLogs', [
          { fromBlock: `0x${from.toString(16)}`, toBlock: `0x${Math.min(last, from + RANGE - 1).toString(16)}`, topics: [TRANSFER_TOPIC] },
        ])
      ).length;
    }
    return logs;
  };
  return {
    column: 'Ethereum (anvil)',
    unit: 'ERC-20 Transfer logs',
    blocks: last - first + 1,
    items: await countLogs(),
    scan: scanner(db, temporal, 'ethereum', adapter, first, last),
    bareLoop: () => timed(countLogs),
    stop: () => anvil.stop(),
  };
}

/**
 * The Tron devnet stand-in with the blocks made, the watcher's scan through the Tron adapter, and a
 * bare loop of the same node calls with the same parallelism (blocks 100 a call, then the
 * transaction infos of every block with a contract call).
 */
async function tronChain(db: Db, temporal: Client): Promise<ScannedChain> {
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
  const call = async (endpoint: string, body: unknown) =>
    (await fetch(`${tron.rpcUrl}${endpoint}`, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<any>;
  const countTransfers = async () => {
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
    return transfers;
  };
  return {
    column: 'Tron (devnet stand-in)',
    unit: 'half USDT, half TRX',
    blocks: last - first + 1,
    items: await countTransfers(),
    scan: scanner(db, temporal, 'tron', adapter, first, last),
    bareLoop: () => timed(countTransfers),
    stop: () => tron.stop(),
  };
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

/**
 * The whole path on a 1 s block time: anvil → the watcher (the real worker, on `engine`) → the
 * deposit workflow's first activity writing the row. Block timestamps have 1 s resolution.
 */
async function measureDetectionLatency(postgres: InflowStack, merchantId: string, engine: Engine): Promise<Measured> {
  const { db } = postgres;
  await sql`delete from chain_cursors`.execute(db);
  let anvil: RunningAnvil;
  let usdt: Contract;
  const stack = await InflowStack.create({
    log: benchLog,
    label: 'bench',
    postgres: { url: postgres.databaseUrl, db },
    migrate: false,
    temporal: benchTemporal(engine),
    chain: async (stack) => {
      anvil = await startAnvil({ port: await freePort(), blockTimeSeconds: 1 });
      stack.onClose('anvil', () => anvil.stop());
      usdt = await deployTestUsdt(fundedSigner(anvil.provider));
      return { INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl, INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress() };
    },
    env: { TEMPORAL_TASK_QUEUE: 'bench-latency', INFLOW_CHAIN_POLL_MS: '100', INFLOW_SECRET_KEY: testSecretKeyHex },
    workers: { relay: false, chainWatchers: true },
  });
  try {
    const deriver = new AddressDeriver(xpubsFromMnemonic(generateMnemonic()));
    const customer = await db.transaction().execute((trx) => createCustomer(trx, { merchantId, livemode: false }, {}, deriver));
    const address = customer.customer.addresses[0]!.address;
    while (!(await findCursor(db, false, 'ethereum'))) await new Promise((resolve) => setTimeout(resolve, 50));

    benchLog(`detection: ${LATENCY_TRANSFERS} transfers, one a block`);
    const sent: Array<{ hash: string; blockNumber: number }> = [];
    for (let i = 0; i < LATENCY_TRANSFERS; i++) {
      const receipt = await (await usdt!.getFunction('transfer')(address, BigInt(1_000_000 + i))).wait();
      sent.push({ hash: receipt!.hash, blockNumber: receipt!.blockNumber });
    }
    const latencies: number[] = [];
    for (const { hash, blockNumber } of sent) {
      let row;
      while (!(row = await db.selectFrom('deposits').select('created_at').where('transaction_hash', '=', hash).executeTakeFirst())) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const block = await anvil!.provider.getBlock(blockNumber);
      latencies.push(row.created_at.getTime() - block!.timestamp * 1000);
    }
    await stack.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'ethereum' })).terminate('bench over');
    return { rate: Number.NaN, latencies: latencies.sort((a, b) => a - b) };
  } finally {
    await stack.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
