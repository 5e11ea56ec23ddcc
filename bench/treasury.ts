/**
 * `npm run bench:treasury`: sweeps on EVM (Tron sweeps come later), end to end on a real chain.
 *
 * The stack: anvil mining every transaction as it arrives and an empty block every BENCH_BLOCK_MS
 * (so confirmations come), the test USDT, the real signer process (`npm run signer`'s entry, the
 * test mnemonic, a Unix socket), inflow's worker in this process watching anvil (INFLOW_CHAIN_POLL_MS
 * 100) and running the sweep workflows on a Temporal dev server, an embedded Postgres. N customers
 * (BENCH_SWEEP_ADDRESSES, default 30) are paid USDT and their deposits complete first.
 *
 *   1. A sweep run (`runSweepsNow`, as `npm run cli -- sweep --now`): its wall time → addresses
 *      swept per minute; the gas per swept address (the gas top-up plus the token transfer, from
 *      the receipts booked in `treasury_transactions_sent`), the fee, and the ETH a top-up leaves
 *      behind at the address.
 *   2. The baseline, in the same run: a bare script of what a hand-written sweeper does with ethers
 *      directly, on N fresh addresses funded the same way (keys derived from the same test
 *      mnemonic, far above any customer's index): per address, concurrently, send the transfer's
 *      estimated gas × maxFeePerGas from a funded gas wallet, wait for it to be final, send the
 *      token to the treasury, wait for that to be final, at the same confirmations as inflow,
 *      polling the node every 100 ms. Target: inflow's gas per swept address ≤ 1.1× the script's.
 *      The treasury holds some USDT before either runs, so neither pays for its first write.
 *   3. Detection latency: new customers paid (below the sweep minimum, so never swept) one every
 *      PROBE_INTERVAL_MS while the sweep run goes, from the moment anvil returned the payment's hash
 *      (automining: it is mined in that call) to the deposit row's created_at; beside the same
 *      number paid the same way with no sweep running, before it. Target: the mean during ≤ 1.1× the
 *      mean without (the mean: a run has few payments, and the watcher's poll timer, on the dev
 *      server's ~1 s grain, spreads them evenly over a second).
 *
 * Each phase of a sweep is timed (inflow's from the rows it records: a transaction's row is made
 * when its nonce is allocated, just before it is signed and sent, and last updated when it is
 * booked final; the script's as it goes), so a missed target says where the time went; so is each
 * step of a detection (from the watcher's history: its poll timers, and the scan round that found
 * the payment, when it was scheduled and started), and the CPU of each part of the stack over the
 * sweep run, the script and the payments with no sweep running. anvil mines
 * a block per transaction, so a run's own transactions bring each other's confirmations sooner
 * than the interval alone would. One run, no rounds: a sweep moves the money, so it
 * cannot be repeated on the same addresses. The defaults take about a minute on 2 cores.
 */
import os from 'node:os';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { HDNodeWallet, Interface, NonceManager, Wallet, type Contract, type JsonRpcProvider } from 'ethers';
import { sql } from 'kysely';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../dev/devnet/anvil';
import { buildCustomer, testMnemonics, testSecretKeyHex, testXpubEnv } from '../dev/fixtures';
import { InflowStack } from '../dev/stack';
import { freePort } from '../dev/tools/ports';
import type { Db } from '../src/db/database';
import type { CreatedMerchant } from '../src/merchants/merchants.service';
import { SignerClient } from '../src/treasury/signer-client';
import { runSweepsNow } from '../src/workflows/client';
import { chainWatcherWorkflowId, watcherStateQuery, type ScanResult, type SweepRunResult } from '../src/workflows/definitions';
import { cpuShares, cpuSnapshot, describeLimit, formatShares, type CpuUse, type Part } from './cpu';
import { benchParts, installBenchRuntime, startBenchSigner } from './harness';
import { benchLog } from './log';
import { formatPercentiles, printHeader, ResultTable, verdict, type Measured } from './measure';

const N = Number(process.env.BENCH_SWEEP_ADDRESSES ?? 30);
const PROBES = Number(process.env.BENCH_SWEEP_PROBES ?? 12);
const BLOCK_MS = Number(process.env.BENCH_BLOCK_MS ?? 1000);
const CONFIRMATIONS = Number(process.env.BENCH_SWEEP_CONFIRMATIONS ?? 2);
const PROBE_INTERVAL_MS = 250;
/** How often the chain watcher polls anvil at the head (INFLOW_CHAIN_POLL_MS). */
const WATCHER_POLL_MS = 100;
const GAS_TARGET = 1.1;
const DETECTION_TARGET = 1.1;
const USDT = 10n ** 6n;
/** What each swept address is paid: 10 USDT and a little, each amount its own. */
const paidAmount = (i: number) => 10n * USDT + BigInt(i);
/** Probes are paid less than the sweep minimum (INFLOW_SWEEP_MIN_ETHEREUM_USDT_TEST below): never swept. */
const PROBE_AMOUNT = USDT / 2n;
const SWEEP_MINIMUM = '1';
/** Where the bare script's addresses are derived (customers' branch of the test mnemonic), far above any customer's index. */
const BARE_FIRST_INDEX = 1_000_000;
/** The bare script's own gas wallet: an account of the test mnemonic nothing in inflow derives. */
const BARE_GAS_WALLET_PATH = "m/44'/60'/2'/0/0";
const SIGNER_SECRET = 'a-bench-signer-secret-of-at-least-32-chars';
const DEADLINE_MS = 120_000;
const erc20 = new Interface(['function transfer(address to, uint256 amount) returns (bool)']);

/** One address's sweep, as either side ran it: gas and fee per transaction, ETH left behind, and when each phase ended (ms since the run began). */
interface SweptAddress {
  topUpGas: bigint;
  transferGas: bigint;
  fee: bigint;
  topUpValue: bigint;
  leftOver: bigint;
  /** Top-up sent, top-up final, transfer sent, transfer final. */
  phases: [number, number, number, number];
}

interface SweepSide {
  seconds: number;
  addresses: SweptAddress[];
  /** Where the CPU went while it ran. */
  cpu: CpuUse;
}

/** A payment to a new customer: when anvil returned its hash (ms since the epoch), its block, when its deposit row was made. */
interface Probe {
  at: number;
  block: number;
  created: number;
}

type Detection = Measured & { probes: Probe[]; cpu: CpuUse };

/** One scan round of the chain watcher (its scanChain activity), from the watcher's history: when it was scheduled, started, completed, and where it left the cursor. */
interface ScanRound {
  scheduled: number;
  started: number;
  completed: number;
  nextBlock: number;
}

/** One of the watcher's poll-interval sleeps: when its timer was started and when it fired. */
interface PollTimer {
  started: number;
  fired: number;
}

async function main(): Promise<void> {
  installBenchRuntime();
  printHeader(
    `sweeps: ${N} USDT deposit addresses swept by inflow and ${N} by a bare ethers script, ${CONFIRMATIONS} confirmations, ` +
      `anvil automining plus a block every ${BLOCK_MS} ms; detection: ${PROBES} payments ${PROBE_INTERVAL_MS} ms apart during the sweep and ${PROBES} without; ` +
      `inflow on an embedded Postgres and the Temporal dev server, the signer a process of its own`,
  );
  let signer!: { INFLOW_SIGNER_SOCKET: string; INFLOW_SIGNER_SECRET: string };
  const treasury = Wallet.createRandom().address;
  let anvil!: RunningAnvil;
  let usdt!: Contract;
  let miner: NodeJS.Timeout | undefined;
  const stack = await InflowStack.create({
    log: benchLog,
    label: 'bench-treasury',
    temporal: { devServer: {} },
    merchant: 'Bench',
    chain: async (stack) => {
      anvil = await startAnvil({ port: await freePort() });
      stack.onClose('anvil', () => anvil.stop());
      usdt = await deployTestUsdt(fundedSigner(anvil.provider));
      signer = await startBenchSigner(stack, SIGNER_SECRET, {
        INFLOW_TREASURY_ETHEREUM_TEST: treasury,
        INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
        INFLOW_SIGNER_CHAIN_ID_ETHEREUM_TEST: '31337',
      });
      return {
        INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl,
        INFLOW_TOKEN_ETHEREUM_USDT_TEST: await usdt.getAddress(),
        ...signer,
      };
    },
    env: {
      ...testXpubEnv(),
      INFLOW_SECRET_KEY: testSecretKeyHex,
      TEMPORAL_TASK_QUEUE: 'bench-treasury',
      INFLOW_CHAIN_POLL_MS: String(WATCHER_POLL_MS),
      INFLOW_CONFIRMATIONS_ETHEREUM_TEST: String(CONFIRMATIONS),
      INFLOW_SWEEP_MIN_ETHEREUM_USDT_TEST: SWEEP_MINIMUM,
    },
    workers: { chainWatchers: true },
  });
  const watcherId = chainWatcherWorkflowId({ livemode: false, network: 'ethereum' });
  const watcher = stack.client.workflow.getHandle(watcherId);
  // Every process of the stack, for where the CPU went: Postgres, Temporal, anvil, the signer; the worker is this process.
  const parts: Part[] = [
    ...benchParts(stack),
    { name: 'anvil', matches: ({ commandLine }) => /(^|\/)anvil(\s|$)/.test(commandLine) },
    { name: 'signer', matches: ({ commandLine }) => commandLine.includes('src/signer/main.ts') },
  ];
  try {
    const { db } = stack;
    const merchant = stack.merchant!;
    const funder = fundedSigner(anvil.provider);
    const token = usdt.connect(funder) as Contract;
    // anvil's funded accounts are the test mnemonic's first customer addresses: these customers come after them.
    await sql`select setval('customer_address_index_test_seq', 100)`.execute(db);
    await until('the watcher at the head', async () => (await watcher.query(watcherStateQuery)).head !== null);
    // Blocks keep coming, as on a real chain: confirmations need them.
    miner = setInterval(() => void anvil.provider.send('evm_mine', []).catch(() => undefined), BLOCK_MS);

    const health = await new SignerClient({ socketPath: signer.INFLOW_SIGNER_SOCKET, secret: SIGNER_SECRET }).health();
    const bareRoot = HDNodeWallet.fromPhrase(testMnemonics.test, undefined, 'm');
    const bareGasWallet = new NonceManager(bareRoot.derivePath(BARE_GAS_WALLET_PATH.slice(2)).connect(anvil.provider));
    for (const to of [health.gas_wallets.test!, await bareGasWallet.getAddress()])
      await mined(anvil.provider, funder.sendTransaction({ to, value: 10n ** 18n }));
    // The treasury already holds USDT (as the issue asks of Tron's): no sweep, inflow's or the script's, pays for its first write.
    await mined(anvil.provider, token.getFunction('transfer')(treasury, USDT));

    benchLog(`paying ${N} customers and ${N} addresses of the bare script ${Number(paidAmount(0)) / 1e6} USDT each`);
    const customers: string[] = [];
    for (let i = 0; i < N; i++) customers.push(await customerAddress(db, merchant));
    const probes: string[] = [];
    for (let i = 0; i < 2 * PROBES; i++) probes.push(await customerAddress(db, merchant));
    const bareKeys = Array.from({ length: N }, (_, i) => bareRoot.derivePath(`44'/60'/0'/0/${BARE_FIRST_INDEX + i}`));
    for (let i = 0; i < N; i++) {
      await mined(anvil.provider, token.getFunction('transfer')(customers[i]!, paidAmount(i)));
      await mined(anvil.provider, token.getFunction('transfer')(bareKeys[i]!.address, paidAmount(i)));
    }
    benchLog(`waiting for the ${N} deposits to complete`);
    await until(`${N} deposits completed`, async () => {
      const row = await db
        .selectFrom('deposits')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('address', 'in', customers)
        .where('status', '=', 'completed')
        .executeTakeFirstOrThrow();
      return Number(row.count) === N;
    });

    benchLog(`detection with no sweep running: ${PROBES} payments ${PROBE_INTERVAL_MS} ms apart`);
    const watcherRunId = (await watcher.describe()).runId;
    const quietStarted = Date.now();
    const quiet = await withCpu(parts, () => detectionLatency(db, token, anvil.provider, probes.slice(0, PROBES), () => true));
    const quietWindow: [number, number] = [quietStarted, Date.now()];

    benchLog(`the bare script: ${N} addresses`);
    const tokenAddress = await usdt.getAddress();
    const bare = await withCpu(parts, () => bareSweeper(anvil.provider, bareGasWallet, tokenAddress, treasury, bareKeys));

    benchLog(`inflow: a sweep run over ${N} addresses, paying ${PROBES} more customers meanwhile`);
    let running = true;
    let runEnded = 0;
    const cpuBefore = cpuSnapshot(parts);
    const runStarted = Date.now();
    const run = runSweepsNow({ temporal: stack.client, taskQueue: stack.config.temporal.taskQueue }, { livemode: false, network: 'ethereum' }).finally(() => {
      running = false;
      runEnded = Date.now();
    });
    const [result, during] = await Promise.all([run, detectionLatency(db, token, anvil.provider, probes.slice(PROBES), () => running)]);
    // The run's CPU, over the run itself and the wait for its probes' rows (as the quiet window's).
    const cpu = cpuShares(cpuBefore, cpuSnapshot(parts), (Date.now() - runStarted) / 1000);
    const inflow = await inflowSweeps(db, anvil.provider, runStarted, (runEnded - runStarted) / 1000, result, cpu);
    const history = await watcherHistory(stack.client, watcherId, watcherRunId);

    // The chain agrees: the treasury holds what was paid, the addresses none.
    const paidTotal = Array.from({ length: N }, (_, i) => paidAmount(i)).reduce((a, b) => a + b, 0n);
    const treasuryHolds = (await usdt.getFunction('balanceOf')(treasury)) as bigint;
    const expected = USDT + 2n * paidTotal;
    if (treasuryHolds !== expected) benchLog(`the treasury holds ${treasuryHolds} USDT base units, not the ${expected} paid in: a sweep went missing`);

    report({
      result,
      inflow,
      bare,
      quiet: { ...quiet, steps: detectionSteps(quiet.probes, history, quietWindow) },
      during: { ...during, cpu, steps: detectionSteps(during.probes, history, [runStarted, runEnded]) },
    });
  } finally {
    if (miner) clearInterval(miner);
    await watcher.terminate('bench over').catch(() => undefined);
    await stack.close();
  }
}

async function customerAddress(db: Db, merchant: CreatedMerchant): Promise<string> {
  const { customer } = await buildCustomer(db, { merchant });
  return customer.addresses.find((entry) => entry.network === 'ethereum')!.address;
}

/** Sends, then waits (with a deadline) until anvil has mined it: the provider's wait, not the response's (see bench/scanner.ts). */
async function mined(provider: JsonRpcProvider, sending: Promise<{ hash: string }>, confirmations = 1) {
  const { hash } = await sending;
  const receipt = await provider.waitForTransaction(hash, confirmations, DEADLINE_MS);
  if (!receipt || receipt.status !== 1) throw new Error(`transaction ${hash} ${receipt ? 'reverted' : 'not mined'}`);
  return receipt;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${DEADLINE_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Pays each address PROBE_AMOUNT, PROBE_INTERVAL_MS apart, while `go()` says so; then waits for each
 * payment's deposit row: from anvil returning the hash (mined in that call) to the row's created_at.
 */
async function detectionLatency(
  db: Db,
  token: Contract,
  provider: JsonRpcProvider,
  addresses: string[],
  go: () => boolean,
): Promise<Measured & { probes: Probe[] }> {
  const sent: Array<{ hash: string; at: number }> = [];
  for (const address of addresses) {
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    if (!go()) break;
    const { hash } = (await token.getFunction('transfer')(address, PROBE_AMOUNT)) as { hash: string };
    sent.push({ hash, at: Date.now() });
  }
  const probes: Probe[] = [];
  for (const { hash, at } of sent) {
    const receipt = await provider.waitForTransaction(hash, 1, DEADLINE_MS);
    let row: { created_at: Date } | undefined;
    const deadline = Date.now() + DEADLINE_MS;
    while (!(row = await db.selectFrom('deposits').select('created_at').where('transaction_hash', '=', hash).executeTakeFirst())) {
      if (Date.now() > deadline) throw new Error(`no deposit row for ${hash} within ${DEADLINE_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    probes.push({ at, block: receipt!.blockNumber, created: row.created_at.getTime() });
  }
  return { rate: Number.NaN, latencies: probes.map((probe) => probe.created - probe.at).sort((a, b) => a - b), probes };
}

/** Runs `measure`, and says where the CPU went meanwhile. */
async function withCpu<T extends object>(parts: Part[], measure: () => Promise<T>): Promise<T & { cpu: CpuUse }> {
  const before = cpuSnapshot(parts);
  const started = performance.now();
  const result = await measure();
  return { ...result, cpu: cpuShares(before, cpuSnapshot(parts), (performance.now() - started) / 1000) };
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

async function historyEvents(client: Client, workflowId: string, runId: string): Promise<HistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

/** The watcher's scan rounds and poll timers since `firstRunId`, across its continue-as-new runs, from its histories. */
async function watcherHistory(client: Client, workflowId: string, firstRunId: string): Promise<{ rounds: ScanRound[]; timers: PollTimer[] }> {
  const rounds: ScanRound[] = [];
  const timers: PollTimer[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const events = await historyEvents(client, workflowId, runId);
    runId = undefined;
    const times = new Map<string, number>();
    const at = (eventId: unknown) => times.get(String(eventId))!;
    for (const event of events) {
      const time = tsToMs(event.eventTime);
      times.set(String(event.eventId), time);
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed?.result?.payloads?.[0]) {
        const { nextBlock } = defaultPayloadConverter.fromPayload<ScanResult>(completed.result.payloads[0]);
        rounds.push({ scheduled: at(completed.scheduledEventId), started: at(completed.startedEventId), completed: time, nextBlock });
      }
      if (event.timerFiredEventAttributes) timers.push({ started: at(event.timerFiredEventAttributes.startedEventId), fired: time });
      const next: string | null | undefined = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      runId = next ?? runId;
    }
  }
  return { rounds: rounds.sort((a, b) => a.scheduled - b.scheduled), timers };
}

/** A detection, step by step (means, ms): payment → the scan round that found it started (of which it queued for a worker), that start → the deposit row; the poll timers of the window. */
interface DetectionSteps {
  toRound: number;
  queued: number;
  roundToRow: number;
  timer: number;
  timers: number;
}

function detectionSteps(probes: Probe[], { rounds, timers }: { rounds: ScanRound[]; timers: PollTimer[] }, [from, to]: [number, number]): DetectionSteps {
  const average = (values: number[]) => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);
  // The round that found a payment: the first to leave the cursor past its block.
  const found = probes.map((probe) => ({ probe, round: rounds.find((round) => round.nextBlock > probe.block)! }));
  const inWindow = timers.filter((timer) => timer.started >= from && timer.started <= to);
  return {
    toRound: average(found.map(({ probe, round }) => round.started - probe.at)),
    queued: average(found.map(({ round }) => round.started - round.scheduled)),
    roundToRow: average(found.map(({ probe, round }) => probe.created - round.started)),
    timer: average(inWindow.map((timer) => timer.fired - timer.started)),
    timers: inWindow.length,
  };
}

/**
 * The baseline: what a hand-written sweeper does with ethers, every address at once. Gas for the
 * transfer as the node estimates it at ethers' fee data, sent from the gas wallet; once that is
 * final, the token to the treasury; both waited for at the same confirmations as inflow.
 */
async function bareSweeper(
  provider: JsonRpcProvider,
  gasWallet: NonceManager,
  token: string,
  treasury: string,
  keys: HDNodeWallet[],
): Promise<Omit<SweepSide, 'cpu'>> {
  const started = Date.now();
  const since = () => Date.now() - started;
  const balanceOf = new Interface(['function balanceOf(address) view returns (uint256)']);
  const addresses = await Promise.all(
    keys.map(async (key): Promise<SweptAddress> => {
      const wallet = key.connect(provider);
      const amount = BigInt(await provider.call({ to: token, data: balanceOf.encodeFunctionData('balanceOf', [wallet.address]) }));
      const data = erc20.encodeFunctionData('transfer', [treasury, amount]);
      const gasLimit = await provider.estimateGas({ from: wallet.address, to: token, data });
      const fees = await provider.getFeeData();
      const topUpValue = gasLimit * fees.maxFeePerGas! - (await provider.getBalance(wallet.address));
      const topUpSending = gasWallet.sendTransaction({ to: wallet.address, value: topUpValue });
      const sentAt = since();
      const topUp = await mined(provider, topUpSending, CONFIRMATIONS);
      const toppedUpAt = since();
      const transferSending = wallet.sendTransaction({
        to: token,
        data,
        gasLimit,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      });
      const transferSentAt = since();
      const transfer = await mined(provider, transferSending, CONFIRMATIONS);
      return {
        topUpGas: topUp.gasUsed,
        transferGas: transfer.gasUsed,
        fee: topUp.gasUsed * topUp.gasPrice + transfer.gasUsed * transfer.gasPrice,
        topUpValue,
        leftOver: await provider.getBalance(wallet.address),
        phases: [sentAt, toppedUpAt, transferSentAt, since()],
      };
    }),
  );
  return { seconds: (Date.now() - started) / 1000, addresses };
}

/** inflow's side, from what it recorded: each sweep's top-up and transfer (gas, fee, value, when allocated and when booked final). */
async function inflowSweeps(db: Db, provider: JsonRpcProvider, runStarted: number, seconds: number, result: SweepRunResult, cpu: CpuUse): Promise<SweepSide> {
  const sweeps = await db.selectFrom('sweeps').selectAll().where('currency', '=', 'USDT').where('status', '=', 'completed').execute();
  const sent = await db
    .selectFrom('treasury_transactions_sent')
    .selectAll()
    .where(
      'sweep_id',
      'in',
      sweeps.map((sweep) => sweep.id),
    )
    .execute();
  if (sweeps.length !== result.completed) benchLog(`${result.completed} sweeps completed, ${sweeps.length} found`);
  const addresses = await Promise.all(
    sweeps.map(async (sweep): Promise<SweptAddress> => {
      const topUp = sent.find((row) => row.sweep_id === sweep.id && row.purpose === 'gas_topup');
      const transfer = sent.find((row) => row.sweep_id === sweep.id && row.purpose === 'sweep')!;
      const at = (date: Date) => date.getTime() - runStarted;
      const value = (row: typeof transfer) => BigInt((row.request as { tx: { value: string } }).tx.value);
      return {
        topUpGas: BigInt(topUp?.gas_used ?? 0),
        transferGas: BigInt(transfer.gas_used!),
        fee: BigInt(topUp?.fee ?? 0) + BigInt(transfer.fee!),
        topUpValue: topUp ? value(topUp) : 0n,
        leftOver: await provider.getBalance(sweep.address),
        phases: [at(topUp?.created_at ?? transfer.created_at), at(topUp?.updated_at ?? transfer.created_at), at(transfer.created_at), at(transfer.updated_at)],
      };
    }),
  );
  return { seconds, addresses, cpu };
}

const mean = (values: bigint[]) => (values.length === 0 ? 0n : values.reduce((a, b) => a + b, 0n) / BigInt(values.length));
const gwei = (wei: bigint) => `${(Number(wei) / 1e9).toFixed(0)} gwei`;

type DetectionRound = Detection & { steps: DetectionSteps };

function report({
  result,
  inflow,
  bare,
  quiet,
  during,
}: {
  result: SweepRunResult;
  inflow: SweepSide;
  bare: SweepSide;
  quiet: DetectionRound;
  during: DetectionRound;
}) {
  const [INFLOW, BARE, RATIO] = ['inflow', 'bare ethers script', 'inflow ÷ script'];
  const table = new ResultTable([INFLOW, BARE, RATIO]);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const perMinute = (side: SweepSide) => (side.addresses.length / side.seconds) * 60;

  table.set(
    'addresses swept (planned / completed / skipped / failed)',
    INFLOW,
    `${result.planned} / ${result.completed} / ${result.skipped} / ${result.failed}`,
  );
  table.set('addresses swept (planned / completed / skipped / failed)', BARE, `${N} / ${bare.addresses.length} / 0 / 0`);
  table.set('wall time of the run, s', INFLOW, inflow.seconds.toFixed(1));
  table.set('wall time of the run, s', BARE, bare.seconds.toFixed(1));
  table.set('addresses swept per minute', INFLOW, perMinute(inflow).toFixed(0));
  table.set('addresses swept per minute', BARE, perMinute(bare).toFixed(0));
  table.set('addresses swept per minute', RATIO, ratio(perMinute(inflow), perMinute(bare)));

  const gas = (side: SweepSide) => mean(side.addresses.map((each) => each.topUpGas + each.transferGas));
  const gasRatio = Number(gas(inflow)) / Number(gas(bare));
  const gasLabel = `gas per swept address, mean (target ≤ ${GAS_TARGET.toFixed(1)}×)`;
  table.set(gasLabel, INFLOW, gas(inflow).toString());
  table.set(gasLabel, BARE, gas(bare).toString());
  table.set(gasLabel, RATIO, `${gasRatio.toFixed(3)}× ${verdict(gasRatio <= GAS_TARGET)}`);
  for (const [label, of] of [
    ['of which the gas top-up', (each: SweptAddress) => each.topUpGas],
    ['of which the token transfer', (each: SweptAddress) => each.transferGas],
    ['fee per swept address, mean (wei)', (each: SweptAddress) => each.fee],
  ] as const) {
    const [a, b] = [mean(inflow.addresses.map(of)), mean(bare.addresses.map(of))];
    table.set(label, INFLOW, a.toString());
    table.set(label, BARE, b.toString());
    table.set(label, RATIO, ratio(Number(a), Number(b)));
  }
  const [sentA, sentB] = [mean(inflow.addresses.map((each) => each.topUpValue)), mean(bare.addresses.map((each) => each.topUpValue))];
  table.set('ETH sent to each address for gas, mean', INFLOW, gwei(sentA));
  table.set('ETH sent to each address for gas, mean', BARE, gwei(sentB));
  table.set('ETH sent to each address for gas, mean', RATIO, ratio(Number(sentA), Number(sentB)));
  const [leftA, leftB] = [mean(inflow.addresses.map((each) => each.leftOver)), mean(bare.addresses.map((each) => each.leftOver))];
  table.set('ETH left at each address after its sweep, mean', INFLOW, gwei(leftA));
  table.set('ETH left at each address after its sweep, mean', BARE, gwei(leftB));
  table.set('ETH left at each address after its sweep, mean', RATIO, ratio(Number(leftA), Number(leftB)));

  // Each phase per address (min / median / max, ms), then the run's own ends: its first send after planning, its last sweep final, its result.
  const phaseNames = ['run start → top-up sent', 'top-up sent → final', 'top-up final → transfer sent', 'transfer sent → final'];
  const spread = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
  };
  const phases = (side: SweepSide) =>
    phaseNames.map((_, index) => spread(side.addresses.map((each) => each.phases[index]! - (index === 0 ? 0 : each.phases[index - 1]!))));
  const [phasesA, phasesB] = [phases(inflow), phases(bare)];
  const format = ({ min, median, max }: ReturnType<typeof spread>) => `${min.toFixed(0)} / ${median.toFixed(0)} / ${max.toFixed(0)}`;
  for (const [index, name] of phaseNames.entries()) {
    table.set(`${name}, ms per address (min / median / max)`, INFLOW, format(phasesA[index]!));
    table.set(`${name}, ms per address (min / median / max)`, BARE, format(phasesB[index]!));
  }
  const lastFinal = (side: SweepSide) => Math.max(...side.addresses.map((each) => each.phases[3]));
  table.set('run start → last sweep final → run ends, ms', INFLOW, `${lastFinal(inflow).toFixed(0)} → ${(inflow.seconds * 1000).toFixed(0)}`);
  table.set('run start → last sweep final → run ends, ms', BARE, `${lastFinal(bare).toFixed(0)} → ${(bare.seconds * 1000).toFixed(0)}`);

  const meanOf = (round: Measured) => round.latencies.reduce((a, b) => a + b, 0) / round.latencies.length;
  const detectionRatio = meanOf(during) / meanOf(quiet);
  const detection = (round: Measured) => `${meanOf(round).toFixed(0)}; ${formatPercentiles(round, [50, 95, 100])} (${round.latencies.length} payments)`;
  const detectionLabel = 'detection ms, mean; p50 / p95 / max: inflow during its sweep run, and with no sweep running in the script column';
  table.set(detectionLabel, INFLOW, detection(during));
  table.set(detectionLabel, BARE, detection(quiet));
  table.set(detectionLabel, RATIO, `${detectionRatio.toFixed(2)}× (target ≤ ${DETECTION_TARGET.toFixed(1)}×) ${verdict(detectionRatio <= DETECTION_TARGET)}`);
  const stepsLabel =
    "detection step by step, ms mean: payment → the watcher's scan round that found it starts (of which the round queued for an activity slot) → its deposit row";
  const steps = ({ steps }: DetectionRound) => `${steps.toRound.toFixed(0)} (${steps.queued.toFixed(0)}) → ${steps.roundToRow.toFixed(0)}`;
  table.set(stepsLabel, INFLOW, steps(during));
  table.set(stepsLabel, BARE, steps(quiet));
  const timerLabel = `the watcher's poll timer (set ${WATCHER_POLL_MS} ms): fired after, ms mean (timers)`;
  const timer = ({ steps }: DetectionRound) => `${steps.timer.toFixed(0)} (${steps.timers})`;
  table.set(timerLabel, INFLOW, timer(during));
  table.set(timerLabel, BARE, timer(quiet));
  const cpuLabel =
    'CPU, % of one core, per part of the stack and (in brackets) the whole machine, ours and any other work: over the sweep run and its payments; over the script';
  table.set(cpuLabel, INFLOW, formatShares(inflow.cpu));
  table.set(cpuLabel, BARE, formatShares(bare.cpu));

  console.log('');
  table.print();
  console.log('');
  console.log('where the time goes:');
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `  planning: inflow's first top-up left ${seconds(phasesA[0]!.min)} after the run started, its last ${seconds(phasesA[0]!.max)} ` +
      `(the script's: ${seconds(phasesB[0]!.min)}, ${seconds(phasesB[0]!.max)}): the holdings caught up and the candidates read, a child workflow per address, ` +
      `then per address the balance read, the gas estimated, the nonce allocated under the gas wallet's row lock, the signer asked.`,
  );
  const polled = [phasesA[1]!, phasesA[3]!].some((phase) => phase.max >= 2000);
  console.log(
    `  confirmations: each sweep is two transactions in turn (the top-up final before the transfer is sent), each waited for by the workflow asking ` +
      `every 2 s (CONFIRMATION_POLL; the dev server fires timers on a ~1 s grain); the script asks every 100 ms. Slowest top-up and transfer to be final: ` +
      `${seconds(phasesA[1]!.max)} and ${seconds(phasesA[3]!.max)} against ${seconds(phasesB[1]!.max)} and ${seconds(phasesB[3]!.max)}` +
      `${polled ? ': the 2 s poll sets the tail' : ''}. (anvil mines a block per transaction besides one every ${BLOCK_MS} ms, so the sweeps' own transactions bring each other's confirmations.)`,
  );
  console.log(
    `  between the two: ${seconds(phasesA[2]!.median)} median from a top-up final to its transfer sent (fee quote, chain id, gas estimate, nonce, signer, broadcast: ` +
      `one activity after another), and ${seconds(inflow.seconds * 1000 - lastFinal(inflow))} from the last sweep final to the run's result.`,
  );
  if (gasRatio > GAS_TARGET) console.log(`  gas: inflow's transactions cost ${gasRatio.toFixed(2)}× the script's: compare the top-up and transfer rows above.`);
  const overshoot = Number(sentA - sentB) / 1e9;
  console.log(
    `  ETH for gas: inflow sends the transfer's estimated gas +${20} % at the quoted max fee, the script the estimate at ethers' max fee: ` +
      `${overshoot.toFixed(0)} gwei more per address, which stays at the address (${gwei(leftA)} against ${gwei(leftB)}; the estimate itself is above the gas used, ` +
      `the refund for clearing the sender's balance). Gas used is the same: a gas limit or a value does not change what a transaction burns.`,
  );
  console.log(`  CPU over the sweep run: ${describeLimit(inflow.cpu)}.`);
  console.log(`  CPU over the payments with no sweep running: ${formatShares(quiet.cpu)}.`);
  if (detectionRatio > DETECTION_TARGET) {
    const [a, b] = [during.steps, quiet.steps];
    console.log(
      `  detection: ${(a.toRound - b.toRound).toFixed(0)} ms more from a payment to the scan round that found it starting (${a.toRound.toFixed(0)} against ${b.toRound.toFixed(0)}: ` +
        `the poll timer fired after ${a.timer.toFixed(0)} ms against ${b.timer.toFixed(0)}, the round queued ${a.queued.toFixed(0)} ms against ${b.queued.toFixed(0)}), and ` +
        `${(a.roundToRow - b.roundToRow).toFixed(0)} ms more from that start to the deposit row (${a.roundToRow.toFixed(0)} against ${b.roundToRow.toFixed(0)}: the scan, ` +
        `the deposit workflow's start and its first task): the watcher, the sweeps' ${result.planned} workflows and their activities share one worker ` +
        `(its task queue, slots and event loop), Temporal, Postgres and the machine's ${os.cpus().length} cores; a few payments decide these figures.`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
