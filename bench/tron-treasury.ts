/**
 * `npm run bench:treasury:tron`: Tron USDT sweeps, end to end on the Tron stand-in, what they burn
 * beside a bare script. (EVM sweeps: `npm run bench:treasury`.)
 *
 * The stack: the Tron stand-in (java-tron's energy and bandwidth rules at mainnet-like prices, a
 * block every BENCH_BLOCK_MS), the real signer process with the test mnemonic, inflow's worker in
 * this process watching the stand-in and running the sweep workflows on a Temporal dev server, an
 * embedded Postgres. N customers (BENCH_SWEEP_ADDRESSES, default 10) are paid USDT twice over, in
 * two rounds; their deposits complete first. Each address holds only USDT, so it has no account
 * yet (as on Tron): every sweeper must create it with TRX first.
 *
 *   1. inflow, energy burned: the gas wallet has no stake, so each sweep tops up the TRX the
 *      transfer's energy burns (creating the account) and then transfers.
 *   2. inflow, energy lent: the gas wallet stakes TRX for energy, and each sweep creates the account
 *      with a 1-sun top-up, borrows the energy, transfers and gives the energy back.
 *   3. The baseline, in the same run: a bare script doing what a hand-written Tron sweeper does, on
 *      N fresh addresses paid the same way: per address, concurrently, send TRX for the energy and
 *      bandwidth from a funded wallet of its own, wait for it, send the USDT to the treasury with a
 *      fee_limit, wait for it, at the same 19 blocks inflow waits.
 *
 * Cost is what the chain burned, read from every transaction's info (`fee`: bandwidth, energy and
 * account creation): TRX per swept address. The TRX a top-up leaves unburned at the address stays
 * the operator's (booked, swept later), so it is shown but not counted. Target: inflow's burned
 * TRX per address ≤ 1.1× the script's. The treasury holds USDT before any run, so no transfer
 * pays for a first-time holder (130 k energy, not 64 k).
 */
import { HDNodeWallet, Wallet } from 'ethers';
import { startTronDevnet, type RunningTronDevnet } from '../dev/devnet/tron-devnet';
import { signTransaction, signTransactionId } from '../dev/devnet/tron-signing';
import { buildCustomer, testMnemonics, testSecretKeyHex, testXpubEnv } from '../dev/fixtures';
import { InflowStack } from '../dev/stack';
import { freePort } from '../dev/tools/ports';
import { tronAddressOfKey, type TronContract } from '../src/chains/tron/transaction';
import type { Db } from '../src/db/database';
import type { CreatedMerchant } from '../src/merchants/merchants.service';
import { SignerClient } from '../src/treasury/signer-client';
import { buildTronTransaction, hex41, TronTreasuryChain, tronTokenTransfer } from '../src/treasury/tron-chain';
import { runSweepsNow } from '../src/workflows/client';
import { chainWatcherWorkflowId, watcherStateQuery } from '../src/workflows/definitions';
import { installBenchRuntime, startBenchSigner } from './harness';
import { benchLog } from './log';
import { printHeader, ResultTable, verdict } from './measure';

const N = Number(process.env.BENCH_SWEEP_ADDRESSES ?? 10);
const BLOCK_MS = Number(process.env.BENCH_BLOCK_MS ?? 250);
/** Tron's 19 blocks: what inflow books at, and what the script waits for too. */
const FINAL = 19;
const COST_TARGET = 1.1;
const TRX = 1_000_000n;
const USDT = 1_000_000n;
const paidAmount = (i: number) => 10n * USDT + BigInt(i);
/** The bare script's addresses and gas wallet: accounts of the test mnemonic nothing in inflow derives. */
const BARE_FIRST_INDEX = 1_000_000;
const BARE_GAS_WALLET_PATH = "m/44'/195'/3'/0/0";
const SIGNER_SECRET = 'a-bench-signer-secret-of-at-least-32-chars';
const DEADLINE_MS = 300_000;

interface Side {
  seconds: number;
  addresses: number;
  /** TRX burned per swept address, sun (every transaction of its sweep, the gas wallet's included). */
  burned: bigint;
  /** TRX a top-up left unburned at the address, per address, sun (still the operator's). */
  leftOver: bigint;
  transactions: number;
}

async function main(): Promise<void> {
  installBenchRuntime();
  printHeader(
    `Tron sweeps: ${N} USDT addresses swept by inflow with energy burned, ${N} with energy lent, ${N} by a bare script; ` +
      `the Tron stand-in with a block every ${BLOCK_MS} ms, ${FINAL} blocks to final; inflow on an embedded Postgres and the Temporal dev server, the signer a process of its own`,
  );
  let signer!: { INFLOW_SIGNER_SOCKET: string; INFLOW_SIGNER_SECRET: string };
  const treasury = tronAddressOfKey(Wallet.createRandom().privateKey);
  let tron!: RunningTronDevnet;
  const stack = await InflowStack.create({
    log: benchLog,
    label: 'bench-tron-treasury',
    temporal: { devServer: {} },
    merchant: 'Bench',
    chain: async (stack) => {
      tron = await startTronDevnet({ port: await freePort(), blockTimeSeconds: BLOCK_MS / 1000 });
      stack.onClose('tron', () => tron.stop());
      signer = await startBenchSigner(stack, SIGNER_SECRET, { INFLOW_TREASURY_TRON_TEST: treasury, INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress });
      return {
        INFLOW_RPC_URL_TRON_TEST: tron.rpcUrl,
        INFLOW_TOKEN_TRON_USDT_TEST: tron.usdtAddress,
        ...signer,
      };
    },
    env: {
      ...testXpubEnv(),
      INFLOW_SECRET_KEY: testSecretKeyHex,
      TEMPORAL_TASK_QUEUE: 'bench-tron-treasury',
      INFLOW_CHAIN_POLL_MS: '100',
      INFLOW_CONFIRMATIONS_TRON_TEST: '2',
      // What a top-up leaves at an address is not swept in between.
      INFLOW_SWEEP_MIN_TRON_TRX_TEST: '1000',
    },
    workers: { chainWatchers: true },
  });
  const watcher = stack.client.workflow.getHandle(chainWatcherWorkflowId({ livemode: false, network: 'tron' }));
  const chain = new TronTreasuryChain(tron.rpcUrl);
  try {
    const { db } = stack;
    const merchant = stack.merchant!;
    await until('the watcher at the head', async () => (await watcher.query(watcherStateQuery)).head !== null);
    const health = await new SignerClient({ socketPath: signer.INFLOW_SIGNER_SOCKET, secret: SIGNER_SECRET }).health();
    const gasWallet = health.tron_gas_wallets.test!;
    const root = HDNodeWallet.fromPhrase(testMnemonics.test, undefined, 'm');
    const bareGasKey = root.derivePath(BARE_GAS_WALLET_PATH.slice(2)).privateKey;
    tron.transfer(gasWallet, 500_000n * TRX, 'TRX');
    tron.transfer(tronAddressOfKey(bareGasKey), 500_000n * TRX, 'TRX');
    // The treasury already holds USDT: no transfer pays for a first-time holder.
    tron.transfer(treasury, USDT, 'USDT');

    const customers = async () => {
      const addresses: string[] = [];
      for (let i = 0; i < N; i++) addresses.push(await customerAddress(db, merchant));
      for (let i = 0; i < N; i++) tron.transfer(addresses[i]!, paidAmount(i), 'USDT');
      await until(`${N} deposits completed`, async () => {
        const row = await db
          .selectFrom('deposits')
          .select((eb) => eb.fn.countAll<string>().as('count'))
          .where('address', 'in', addresses)
          .where('status', '=', 'completed')
          .executeTakeFirstOrThrow();
        return Number(row.count) === N;
      });
      return addresses;
    };

    benchLog(`inflow, energy burned: paying ${N} customers, then a sweep run`);
    const burned = await inflowSide(db, stack, chain, await customers());

    benchLog(`inflow, energy lent: the gas wallet stakes 200,000 TRX for energy; paying ${N} customers, then a sweep run`);
    const freeze = await post(tron.rpcUrl, '/wallet/freezebalancev2', {
      owner_address: gasWallet,
      frozen_balance: Number(200_000n * TRX),
      resource: 'ENERGY',
      visible: true,
    });
    const gasWalletKey = root.derivePath("44'/195'/1'/0/0").privateKey;
    await post(tron.rpcUrl, '/wallet/broadcasttransaction', { ...freeze, signature: [signTransactionId(freeze.txID as string, gasWalletKey)] });
    await until('the stake mined', async () => (await chain.delegatableEnergyStake(gasWallet)) > 0n);
    const lent = await inflowSide(db, stack, chain, await customers());

    benchLog(`the bare script: ${N} addresses`);
    const bareKeys = Array.from({ length: N }, (_, i) => root.derivePath(`44'/195'/0'/0/${BARE_FIRST_INDEX + i}`).privateKey);
    for (let i = 0; i < N; i++) tron.transfer(tronAddressOfKey(bareKeys[i]!), paidAmount(i), 'USDT');
    await until('the bare addresses paid', async () => (await chain.tokenBalance(tron.usdtAddress, tronAddressOfKey(bareKeys[N - 1]!))) > 0n);
    const bare = await bareSweeper(chain, tron.usdtAddress, bareGasKey, treasury, bareKeys);

    const expected = USDT + 3n * Array.from({ length: N }, (_, i) => paidAmount(i)).reduce((a, b) => a + b, 0n);
    const holds = await chain.tokenBalance(tron.usdtAddress, treasury);
    if (holds !== expected) benchLog(`the treasury holds ${holds} USDT base units, not the ${expected} paid in: a sweep went missing`);
    report(burned, lent, bare);
  } finally {
    await watcher.terminate('bench over').catch(() => undefined);
    await stack.close();
  }
}

/** A sweep run over the addresses just paid, and what each sweep's transactions burned, from their infos. */
async function inflowSide(db: Db, stack: InflowStack, chain: TronTreasuryChain, addresses: string[]): Promise<Side> {
  const started = Date.now();
  const result = await runSweepsNow({ temporal: stack.client, taskQueue: stack.config.temporal.taskQueue }, { livemode: false, network: 'tron' });
  const seconds = (Date.now() - started) / 1000;
  if (result.completed !== addresses.length) benchLog(`the sweep run: ${JSON.stringify(result)}, not ${addresses.length} completed`);
  const sent = await db
    .selectFrom('treasury_transactions_sent')
    .innerJoin('sweeps', 'sweeps.id', 'treasury_transactions_sent.sweep_id')
    .select(['treasury_transactions_sent.hash', 'treasury_transactions_sent.fee'])
    .where('sweeps.address', 'in', addresses)
    .execute();
  const burned = sent.reduce((total, row) => total + BigInt(row.fee ?? 0), 0n);
  let leftOver = 0n;
  for (const address of addresses) leftOver += await chain.nativeBalance(address);
  return {
    seconds,
    addresses: result.completed,
    burned: burned / BigInt(addresses.length),
    leftOver: leftOver / BigInt(addresses.length),
    transactions: sent.length,
  };
}

/**
 * What a hand-written sweeper does: per address, concurrently, TRX from its gas wallet for the
 * energy (the node's estimate plus 10 %, at getEnergyFee) and the bandwidth, which also creates the
 * account; once final, the USDT to the treasury; once final, done.
 */
async function bareSweeper(chain: TronTreasuryChain, token: string, gasKey: string, treasury: string, keys: string[]): Promise<Side> {
  const gasWallet = tronAddressOfKey(gasKey);
  const started = Date.now();
  const hashes: string[] = [];
  const prices = await chain.prices();
  await Promise.all(
    keys.map(async (key, i) => {
      const address = tronAddressOfKey(key);
      const amount = paidAmount(i);
      const energy = ((await chain.transferEnergy(token, address, treasury, amount)) * 110n) / 100n;
      const trx = energy * prices.energy + 400n * prices.bandwidth;
      hashes.push(await sendFinal(chain, { type: 'TransferContract', owner_address: hex41(gasWallet), to_address: hex41(address), amount: trx }, gasKey));
      hashes.push(await sendFinal(chain, tronTokenTransfer(token, address, treasury, amount), key, energy * prices.energy));
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  let burned = 0n;
  for (const hash of hashes) burned += (await chain.receipt(hash))!.fee;
  let leftOver = 0n;
  for (const key of keys) leftOver += await chain.nativeBalance(tronAddressOfKey(key));
  return { seconds, addresses: keys.length, burned: burned / BigInt(keys.length), leftOver: leftOver / BigInt(keys.length), transactions: hashes.length };
}

async function sendFinal(chain: TronTreasuryChain, contract: TronContract, key: string, feeLimit?: bigint): Promise<string> {
  const signed = signTransaction(buildTronTransaction(contract, await chain.referenceBlock(), { feeLimit, now: Date.now() }), key);
  await chain.send(signed);
  await until(`${signed.txID} final`, async () => {
    const receipt = await chain.receipt(signed.txID);
    return receipt !== undefined && (await chain.headNumber()) - receipt.blockNumber + 1n >= BigInt(FINAL);
  });
  return signed.txID;
}

function report(burned: Side, lent: Side, bare: Side): void {
  const trx = (sun: bigint) => `${(Number(sun) / 1e6).toFixed(3)} TRX`;
  const perMinute = (side: Side) => ((side.addresses / side.seconds) * 60).toFixed(1);
  const table = new ResultTable(['inflow, energy burned', 'inflow, energy lent', 'bare script']);
  const row = (label: string, value: (side: Side) => string) => {
    table.set(label, 'inflow, energy burned', value(burned));
    table.set(label, 'inflow, energy lent', value(lent));
    table.set(label, 'bare script', value(bare));
  };
  row('addresses swept', (side) => String(side.addresses));
  row('wall time', (side) => `${side.seconds.toFixed(1)} s`);
  row('addresses per minute', perMinute);
  row('transactions', (side) => String(side.transactions));
  row('TRX burned per address', (side) => trx(side.burned));
  row('TRX left unburned at the address', (side) => trx(side.leftOver));
  table.print();
  const ratio = (side: Side) => Number(side.burned) / Number(bare.burned);
  console.log('');
  console.log(
    `burned TRX per address ÷ the bare script's: energy burned ${ratio(burned).toFixed(3)}×, energy lent ${ratio(lent).toFixed(3)}× (target ≤ ${COST_TARGET}×): ${verdict(ratio(burned) <= COST_TARGET && ratio(lent) <= COST_TARGET)}`,
  );
  console.log(
    `where the TRX goes: a burned sweep pays its energy (about 64 k at 210 sun) and creating the address's account (1.1 TRX, paid by the top-up's sender); ` +
      `a lent one pays only the account creation and bandwidth beyond the free allowance; the time is ${FINAL} blocks per transaction, ` +
      `two transactions in sequence for a burn and the script, four for a loan (top-up, delegation, transfer, reclaim).`,
  );
}

async function customerAddress(db: Db, merchant: CreatedMerchant): Promise<string> {
  const { customer } = await buildCustomer(db, { merchant });
  return customer.addresses.find((entry) => entry.network === 'tron')!.address;
}

async function post(rpcUrl: string, endpoint: string, body: object): Promise<Record<string, unknown>> {
  return (await (await fetch(`${rpcUrl}${endpoint}`, { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, unknown>;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${DEADLINE_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
