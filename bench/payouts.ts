/**
 * `npm run bench:payouts`: payouts on EVM (docs/payouts.md), end to end on a real chain.
 *
 * The stack: anvil mining a block every BENCH_BLOCK_MS (default 1000) and nothing in between (no
 * automining: a transaction waits for the next block, as on a real chain), the test USDT, the real
 * signer process (`npm run signer`'s entry, the test mnemonic, a Unix socket, the payout
 * authorisation secret), inflow's worker as a process of its own (`npm run worker`'s entry: the
 * payout workflows, the outbox relay, the chain watcher) on a Temporal dev server, the API in this
 * process (its `payouts` settings holding the authorisation secret, which the worker never gets), an
 * embedded Postgres. The merchant's balance is one deposit booked directly (dev/fixtures.ts and
 * src/deposits/transitions.ts, as test/integration/sweeps.test.ts does); the hot wallet
 * (m/44'/60'/2'/0/0 of the test mnemonic, the ethereum test treasury) is funded by hand with ETH and
 * USDT, as an operator would.
 *
 *   1. inflow: N payouts (BENCH_PAYOUTS, default 30) of about 1 USDT each, to distinct random
 *      addresses, requested through `POST /api/v1/payouts` with the merchant's test key, as many
 *      at once as the API lets one merchant have writes in progress (INFLOW_CONCURRENT_WRITES_PER_MERCHANT, 4);
 *      from the first request to the last payout `completed` (its row's completed_at, read from
 *      the database) → payouts per second. Each payout waits for ethereum's 12 confirmations.
 *   2. The baseline, in the same run: a bare ethers script sending the same N USDT transfers (the
 *      same amounts, to N other random addresses) from one funded wallet with a nonce counter,
 *      all at once, and awaiting each receipt at the same 12 confirmations (ethers polling the node
 *      every 100 ms). Target: inflow ≥ 0.5× the script's rate.
 *   3. One hot wallet or several: inflow has one hot wallet per mode and network, so the script
 *      runs again from K = 3 wallets (the N transfers dealt round robin, a nonce counter each), to
 *      say what several wallets would buy on the chain's side; inflow's own serial part (its send
 *      path runs one payout at a time per hot wallet, under the hot wallet's lock) is read from
 *      its rows.
 *
 * Where the time goes is read from what inflow recorded: the payout's row (created_at, the start of
 * the API's transaction; broadcast_at; completed_at), its transaction's row in
 * treasury_transactions_sent (created_at: the start of the database transaction that allocates
 * its nonce, taken before the hot wallet's lock is waited for; the block it was mined in), its
 * workflow's history (started by the outbox relay; its send step's start; how many times it asked
 * for confirmations), and when this process first saw each block (eth_blockNumber every 25 ms): a
 * transaction is final on the chain when the block 11 above its own is seen. The CPU of each part
 * of the stack over each side. One run, no rounds: a payout moves money. No timed assertions: the
 * figures are printed.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { tsToMs } from '@temporalio/common/lib/time';
import { HDNodeWallet, Wallet, formatUnits, type Contract, type JsonRpcProvider, type NonceManager } from 'ethers';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../dev/devnet/anvil';
import { buildCustomer, buildTransfer, testMnemonics, testSecretKeyHex, testXpubEnv } from '../dev/fixtures';
import { InflowStack } from '../dev/stack';
import { freePort } from '../dev/tools/ports';
import { completeDeposit, recordDetectedDeposit } from '../src/deposits/transitions';
import { networks } from '../src/domain/networks';
import { cpuShares, cpuSnapshot, describeLimit, formatShares, type CpuUse, type Part } from './cpu';
import { benchParts, installBenchRuntime, startBenchSigner } from './harness';
import { benchLog } from './log';
import { formatPercentiles, printHeader, ResultTable, verdict, type Measured } from './measure';

const N = Number(process.env.BENCH_PAYOUTS ?? 30);
const BLOCK_MS = Number(process.env.BENCH_BLOCK_MS ?? 1000);
/** How many wallets the script's second run sends from. */
const WALLETS = 3;
/** Ethereum's own depth, which a payout waits for (sweepConfirmations: never fewer than the network's). */
const CONFIRMATIONS = networks.ethereum.requiredConfirmations;
const RATE_TARGET = 0.5;
const USDT = 10n ** 6n;
/** What each payout (and each of the script's transfers) sends: 1 USDT and a little, each its own. */
const amountOf = (i: number) => USDT + BigInt(i);
const SIGNER_SECRET = 'a-bench-signer-secret-of-at-least-32-chars';
const HOT_WALLET_PATH = "m/44'/60'/2'/0/0";
const BLOCK_POLL_MS = 25;
const DEADLINE_MS = 180_000;
const OVER = ['completed', 'failed', 'canceled'];

/** When this process first saw each block (ms since the epoch). */
class BlockClock {
  private readonly seen = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly provider: JsonRpcProvider) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), BLOCK_POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const head = Number(await this.provider.send('eth_blockNumber', []));
      const now = Date.now();
      // A block between two polls is dated by the later one: it was no earlier than the one before.
      for (let number = head; number >= 0 && !this.seen.has(number); number--) this.seen.set(number, now);
    } catch {
      // anvil stopping
    } finally {
      this.polling = false;
    }
  }

  /** When `number` was first seen; waits (up to the deadline) for it. */
  async at(number: number): Promise<number> {
    const deadline = Date.now() + DEADLINE_MS;
    while (!this.seen.has(number)) {
      if (Date.now() > deadline) throw new Error(`block ${number} not seen within ${DEADLINE_MS / 1000} s`);
      await sleep(BLOCK_POLL_MS);
    }
    return this.seen.get(number)!;
  }
}

/** One transfer as either side sent it: when each of its steps ended (ms since the epoch), its block and gas. */
interface Sent {
  /** inflow: the request sent; the script: the transfer about to be built (estimate, fee data, sign, send). */
  requested: number;
  block: number;
  /** The block it was mined in seen; the block CONFIRMATIONS − 1 above seen (final on the chain); the sender told it is final. */
  mined: number;
  final: number;
  done: number;
  gasUsed: bigint;
}

interface InflowPayout extends Sent {
  id: string;
  /** The API's answer received; its row's created_at (its transaction's start). */
  answered: number;
  created: number;
  /** The workflow started (the outbox relay), its send step started, its transaction's row (the allocating transaction's start), broadcast_at. */
  workflowStarted: number;
  sendStarted: number;
  sendAttempts: number;
  allocated: number;
  broadcast: number;
  nonce: number;
  /** How many times the workflow asked whether it was final (confirmPayout activities). */
  asks: number;
}

interface Side<T extends Sent = Sent> {
  started: number;
  ended: number;
  sent: T[];
  cpu: CpuUse;
}

async function main(): Promise<void> {
  installBenchRuntime();
  printHeader(
    `payouts: ${N} USDT payouts through POST /api/v1/payouts to completed, beside a bare ethers script sending ${N} USDT transfers from 1 wallet and from ${WALLETS}; ` +
      `${CONFIRMATIONS} confirmations; anvil mining a block every ${BLOCK_MS} ms (no automining); inflow's worker a process of its own on the Temporal dev server, ` +
      `the API in this process, an embedded Postgres, the signer a process of its own`,
  );
  const hotWallet = HDNodeWallet.fromPhrase(testMnemonics.test, undefined, HOT_WALLET_PATH).address;
  const payoutSecret = randomBytes(32).toString('hex');
  let anvil!: RunningAnvil;
  let usdt!: Contract;
  let funder!: NonceManager;
  const stack = await InflowStack.create({
    log: benchLog,
    label: 'bench-payouts',
    temporal: { devServer: {} },
    merchant: 'Bench',
    chain: async (stack) => {
      anvil = await startAnvil({ port: await freePort(), blockTimeSeconds: BLOCK_MS / 1000 });
      stack.onClose('anvil', () => anvil.stop());
      funder = fundedSigner(anvil.provider);
      usdt = await deployTestUsdt(funder);
      const token = await usdt.getAddress();
      const signer = await startBenchSigner(stack, SIGNER_SECRET, {
        INFLOW_TREASURY_ETHEREUM_TEST: hotWallet,
        INFLOW_TOKEN_ETHEREUM_USDT_TEST: token,
        INFLOW_SIGNER_CHAIN_ID_ETHEREUM_TEST: '31337',
        INFLOW_PAYOUT_AUTHORIZATION_SECRET: payoutSecret,
      });
      return { INFLOW_RPC_URL_ETHEREUM_TEST: anvil.rpcUrl, INFLOW_TOKEN_ETHEREUM_USDT_TEST: token, ...signer };
    },
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...testXpubEnv(),
      INFLOW_SECRET_KEY: testSecretKeyHex,
      TEMPORAL_TASK_QUEUE: 'bench-payouts',
    },
    workers: {
      processes: true,
      restart: false,
      onExit: (name, exit) => benchLog(`${name} exited (${exit})`),
    },
    // The API authorises payouts with the secret the signer checks; the worker's environment never has it.
    api: { deps: (stack) => ({ payouts: { ...stack.config.payouts, authorizationSecret: payoutSecret } }) },
  });
  const clock = new BlockClock(anvil.provider);
  clock.start();
  const parts: Part[] = [
    ...benchParts(stack),
    { name: 'anvil', matches: ({ commandLine }) => /(^|\/)anvil(\s|$)/.test(commandLine) },
    { name: 'signer', matches: ({ commandLine }) => commandLine.includes('src/signer/main.ts') },
  ];
  try {
    const { db } = stack;
    const merchant = stack.merchant!;
    const token = usdt.connect(funder) as Contract;
    const total = Array.from({ length: N }, (_, i) => amountOf(i)).reduce((a, b) => a + b, 0n);

    // The merchant's balance: one deposit, booked (its fee 1 %, each payout's 1 USDT besides its amount).
    const owner = await buildCustomer(db, { merchant });
    const { deposit } = await recordDetectedDeposit(db, buildTransfer(owner, { amount: String(3 * N + 10) }));
    await completeDeposit(db, deposit.id, { confirmations: CONFIRMATIONS, priceUsd: '1.00' });

    // The hot wallet, by hand: gas, and more USDT than the payouts take (a payout mined and not yet
    // completed is counted twice by the send step's check). The script's wallets: gas, and twice what
    // they send, so that no transfer empties a balance (which refunds gas; the hot wallet keeps USDT).
    const single = [Wallet.createRandom().connect(anvil.provider)];
    const several = Array.from({ length: WALLETS }, () => Wallet.createRandom().connect(anvil.provider));
    benchLog(`funding the hot wallet ${hotWallet} and the script's ${1 + WALLETS} wallets with ETH and USDT`);
    const funding: Array<Promise<{ hash: string }>> = [
      funder.sendTransaction({ to: hotWallet, value: 10n ** 19n }),
      token.getFunction('transfer')(hotWallet, 3n * total),
    ];
    for (const wallet of [...single, ...several]) {
      funding.push(funder.sendTransaction({ to: wallet.address, value: 10n ** 18n }));
      funding.push(token.getFunction('transfer')(wallet.address, 2n * total));
    }
    for (const sending of funding) await mined(anvil.provider, sending);

    const usdtAddress = await usdt.getAddress();
    benchLog(`the bare script, 1 wallet: ${N} transfers`);
    const bare = await withCpu(parts, () => bareScript(anvil.provider, clock, usdt, single));
    benchLog(`the bare script, ${WALLETS} wallets: ${N} transfers`);
    const bareSeveral = await withCpu(parts, () => bareScript(anvil.provider, clock, usdt, several));
    benchLog(`inflow: ${N} payouts through the API`);
    const inflow = await withCpu(parts, () => inflowPayouts(stack, clock));

    // The chain agrees: every destination holds what it was sent.
    for (const [name, side] of [
      ['inflow', inflow],
      ['the script', bare],
      [`the script (${WALLETS} wallets)`, bareSeveral],
    ] as const) {
      const holds = await Promise.all(side.destinations.map(async (to) => (await usdt.getFunction('balanceOf')(to)) as bigint));
      const wrong = holds.filter((held, i) => held !== amountOf(i)).length;
      if (wrong > 0) benchLog(`${name}: ${wrong} of ${N} destinations do not hold what they were sent`);
    }
    benchLog(`token ${usdtAddress}; hot wallet ${hotWallet}`);
    report(inflow, bare, bareSeveral);
  } finally {
    clock.stop();
    await stack.close();
  }
}

/** Sends, then waits (with a deadline) until it is mined. */
async function mined(provider: JsonRpcProvider, sending: Promise<{ hash: string }>) {
  const { hash } = await sending;
  const receipt = await provider.waitForTransaction(hash, 1, DEADLINE_MS);
  if (!receipt || receipt.status !== 1) throw new Error(`transaction ${hash} ${receipt ? 'reverted' : 'not mined'}`);
  return receipt;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `measure`, and says where the CPU went meanwhile. */
async function withCpu<T extends object>(parts: Part[], measure: () => Promise<T>): Promise<T & { cpu: CpuUse }> {
  const before = cpuSnapshot(parts);
  const started = performance.now();
  const result = await measure();
  return { ...result, cpu: cpuShares(before, cpuSnapshot(parts), (performance.now() - started) / 1000) };
}

/**
 * The baseline: what a hand-written payer does with ethers. Every transfer at once, dealt round
 * robin over `wallets`, each wallet's nonces from its own counter (read once from the node); ethers
 * estimates each one's gas and reads the fee data; each receipt awaited at CONFIRMATIONS.
 */
async function bareScript(
  provider: JsonRpcProvider,
  clock: BlockClock,
  usdt: Contract,
  wallets: HDNodeWallet[],
): Promise<Omit<Side, 'cpu'> & { destinations: string[] }> {
  const destinations = Array.from({ length: N }, () => Wallet.createRandom().address);
  const nonces = await Promise.all(wallets.map((wallet) => provider.getTransactionCount(wallet.address, 'pending')));
  const started = Date.now();
  const sent = await Promise.all(
    destinations.map(async (to, i): Promise<Sent> => {
      const index = i % wallets.length;
      const nonce = nonces[index]!++;
      const requested = Date.now();
      const response = (await (usdt.connect(wallets[index]!) as Contract).getFunction('transfer')(to, amountOf(i), { nonce })) as { hash: string };
      const receipt = await provider.waitForTransaction(response.hash, CONFIRMATIONS, DEADLINE_MS);
      const done = Date.now();
      if (!receipt || receipt.status !== 1) throw new Error(`the script's transfer ${response.hash} ${receipt ? 'reverted' : 'not final in time'}`);
      return {
        requested,
        block: receipt.blockNumber,
        mined: await clock.at(receipt.blockNumber),
        final: await clock.at(receipt.blockNumber + CONFIRMATIONS - 1),
        done,
        gasUsed: receipt.gasUsed,
      };
    }),
  );
  return { started, ended: Math.max(...sent.map((each) => each.done)), sent, destinations };
}

/**
 * inflow's side: N payouts requested through the API with the merchant's test key (as many in flight
 * as the merchant may have writes in progress: more are answered 429), then the
 * rows read every 100 ms until every one is over; each payout's steps from its rows, its
 * transaction's row and its workflow's history.
 */
async function inflowPayouts(stack: InflowStack, clock: BlockClock): Promise<Omit<Side<InflowPayout>, 'cpu'> & { destinations: string[]; inFlight: number }> {
  const { db } = stack;
  const destinations = Array.from({ length: N }, () => Wallet.createRandom().address);
  // As a client within the API's limits: as many requests in flight as the merchant may have writes in progress (INFLOW_CONCURRENT_WRITES_PER_MERCHANT).
  const inFlight = stack.config.rateLimits.concurrentWritesPerMerchant;
  const made: Array<{ id: string; requested: number; answered: number }> = [];
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, N) }, async () => {
      while (next < N) {
        const i = next++;
        const requested = Date.now();
        const response = await fetch(`${stack.apiUrl}/api/v1/payouts`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${stack.testKey!}`, 'Content-Type': 'application/json', 'Idempotency-Key': `bench-payout-${i}` },
          body: JSON.stringify({
            network: 'ethereum',
            currency: 'USDT',
            amount: formatUnits(amountOf(i), 6),
            destination: destinations[i],
            external_id: `bench-${i}`,
          }),
        });
        const body = (await response.json()) as { id?: string; error?: { message?: string } };
        if (response.status !== 200 || !body.id) throw new Error(`POST /payouts answered ${response.status}: ${body.error?.message ?? JSON.stringify(body)}`);
        made.push({ id: body.id, requested, answered: Date.now() });
      }
    }),
  );
  const ids = made.map((each) => each.id);
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const rows = await db.selectFrom('payouts').select(['status']).where('id', 'in', ids).execute();
    if (rows.every((row) => OVER.includes(row.status))) break;
    if (Date.now() > deadline) {
      const counts = rows.reduce<Record<string, number>>((all, row) => ({ ...all, [row.status]: (all[row.status] ?? 0) + 1 }), {});
      throw new Error(`payouts not over within ${DEADLINE_MS / 1000} s: ${JSON.stringify(counts)}`);
    }
    await sleep(100);
  }
  const rows = await db
    .selectFrom('payouts as p')
    .leftJoin('treasury_transactions_sent as s', 's.payout_id', 'p.id')
    .select([
      'p.id',
      'p.status',
      'p.workflow_id',
      'p.created_at',
      'p.broadcast_at',
      'p.completed_at',
      's.created_at as allocated_at',
      's.nonce',
      's.block_number',
      's.gas_used',
    ])
    .where('p.id', 'in', ids)
    .execute();
  const failed = rows.filter((row) => row.status !== 'completed');
  if (failed.length > 0) benchLog(`${failed.length} payouts did not complete: ${failed.map((row) => `${row.id} ${row.status}`).join(', ')}`);
  const sent = await Promise.all(
    rows
      .filter((row) => row.status === 'completed')
      .map(async (row): Promise<InflowPayout> => {
        const request = made.find((each) => each.id === row.id)!;
        const block = Number(row.block_number);
        return {
          id: row.id,
          requested: request.requested,
          answered: request.answered,
          created: row.created_at.getTime(),
          ...(await historyOf(stack, row.workflow_id)),
          allocated: row.allocated_at!.getTime(),
          broadcast: row.broadcast_at!.getTime(),
          nonce: Number(row.nonce),
          block,
          mined: await clock.at(block),
          final: await clock.at(block + CONFIRMATIONS - 1),
          done: row.completed_at!.getTime(),
          gasUsed: BigInt(row.gas_used ?? 0),
        };
      }),
  );
  return { started, ended: Math.max(...sent.map((each) => each.done)), sent, destinations, inFlight };
}

/** From a payout's workflow history: when it started, when its send step started (and on which attempt), how many confirmation asks. */
async function historyOf(stack: InflowStack, workflowId: string): Promise<Pick<InflowPayout, 'workflowStarted' | 'sendStarted' | 'sendAttempts' | 'asks'>> {
  const events = (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  let workflowStarted = Number.NaN;
  let sendStarted = Number.NaN;
  let sendAttempts = 0;
  let asks = 0;
  const sendScheduled = new Set<string>();
  for (const event of events) {
    const at = tsToMs(event.eventTime);
    if (event.workflowExecutionStartedEventAttributes) workflowStarted = at;
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'sendPayout') sendScheduled.add(String(event.eventId));
    if (scheduled?.activityType?.name === 'confirmPayout') asks++;
    const started = event.activityTaskStartedEventAttributes;
    if (started && sendScheduled.has(String(started.scheduledEventId)) && Number.isNaN(sendStarted)) {
      sendStarted = at;
      sendAttempts = started.attempt ?? 1;
    }
  }
  return { workflowStarted, sendStarted, sendAttempts, asks };
}

const rateOf = (side: Side) => side.sent.length / ((side.ended - side.started) / 1000);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
};
/** "median (min–max)" of ms, whole. */
const spread = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${median(sorted).toFixed(0)} (${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)})`;
};
const latencies = (side: Side): Measured => ({ rate: rateOf(side), latencies: side.sent.map((each) => each.done - each.requested).sort((a, b) => a - b) });
const blocksOf = (side: Side) => {
  const blocks = [...new Set(side.sent.map((each) => each.block))].sort((a, b) => a - b);
  return `${blocks.length} (${blocks[0]}–${blocks.at(-1)})`;
};

function report(inflow: Side<InflowPayout> & { inFlight: number }, bare: Side, several: Side) {
  const [INFLOW, BARE, SEVERAL, RATIO] = [
    'inflow (1 hot wallet)',
    'bare ethers script, 1 wallet',
    `bare ethers script, ${WALLETS} wallets`,
    'inflow ÷ script (1 wallet)',
  ];
  const table = new ResultTable([INFLOW, BARE, SEVERAL, RATIO]);
  const sides: Array<[string, Side]> = [
    [INFLOW, inflow],
    [BARE, bare],
    [SEVERAL, several],
  ];
  const each = (label: string, value: (side: Side) => string) => {
    for (const [column, side] of sides) table.set(label, column, value(side));
  };
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

  each('transfers completed (of requested)', (side) => `${side.sent.length} / ${N}`);
  each('wall time, s: first request → last completed', (side) => ((side.ended - side.started) / 1000).toFixed(1));
  const ratio = rateOf(inflow) / rateOf(bare);
  const rateLabel = `payouts per second, request → completed at ${CONFIRMATIONS} confirmations (target ≥ ${RATE_TARGET}× the script)`;
  each(rateLabel, (side) => rateOf(side).toFixed(2));
  table.set(rateLabel, RATIO, `${ratio.toFixed(2)}× ${verdict(ratio >= RATE_TARGET)}`);
  const latencyLabel = 'request → completed, ms p50 / p95 / max';
  each(latencyLabel, (side) => formatPercentiles(latencies(side), [50, 95, 100]));
  table.set(latencyLabel, RATIO, `${(median(latencies(inflow).latencies) / median(latencies(bare).latencies)).toFixed(2)}× (p50)`);
  each('blocks the transactions were mined in (first–last)', blocksOf);
  const gas = (side: Side) => side.sent.reduce((sum, one) => sum + one.gasUsed, 0n) / BigInt(Math.max(1, side.sent.length));
  each('gas per transfer, mean', (side) => gas(side).toString());
  table.set('gas per transfer, mean', RATIO, `${(Number(gas(inflow)) / Number(gas(bare))).toFixed(3)}×`);

  // Step by step, ms per transfer: median (min–max).
  const step = (label: string, value: (one: InflowPayout) => number) => table.set(label, INFLOW, spread(inflow.sent.map(value)));
  const steps = 'ms per transfer, median (min–max): ';
  step(`${steps}request → the payout's row (its API transaction's start)`, (one) => one.created - one.requested);
  step(`${steps}request → the API's answer`, (one) => one.answered - one.requested);
  step(`${steps}row → its workflow started (the outbox relay)`, (one) => one.workflowStarted - one.created);
  step(`${steps}workflow started → its send step started`, (one) => one.sendStarted - one.workflowStarted);
  step(
    `${steps}send step started → its nonce's transaction begins (reads: the signer's health, the node's fee quote, chain id, nonce, balances, gas estimate)`,
    (one) => one.allocated - one.sendStarted,
  );
  step(`${steps}→ broadcast_at (the hot wallet's lock, what payouts in flight take, the rows; the signer; the node)`, (one) => one.broadcast - one.allocated);
  const chainSteps: Array<[string, (one: Sent) => number]> = [
    [`${steps}request → mined (its block seen)`, (one) => one.mined - one.requested],
    [`${steps}mined → final on the chain (the block ${CONFIRMATIONS - 1} above seen)`, (one) => one.final - one.mined],
    [`${steps}final on the chain → completed (inflow: completed_at; the script: its wait answered)`, (one) => one.done - one.final],
  ];
  for (const [label, value] of chainSteps) each(label, (side) => spread(side.sent.map(value)));
  table.set(`confirmation asks per payout (confirmPayout activities), median (min–max)`, INFLOW, spread(inflow.sent.map((one) => one.asks)));
  const retried = inflow.sent.filter((one) => one.sendAttempts > 1).length;
  table.set('send steps on a later attempt', INFLOW, String(retried));
  const cpuLabel = 'CPU, % of one core, per part over the side (this process: the API, the load, the script), and the whole machine';
  each(cpuLabel, (side) => formatShares(side.cpu));

  console.log('');
  table.print();
  console.log('');
  console.log('where the time goes:');
  const firstAllocated = Math.min(...inflow.sent.map((one) => one.allocated));
  const lastBroadcast = Math.max(...inflow.sent.map((one) => one.broadcast));
  const sendSpan = lastBroadcast - Math.min(...inflow.sent.map((one) => one.sendStarted));
  const byNonce = [...inflow.sent].sort((a, b) => a.nonce - b.nonce);
  const gaps = byNonce.slice(1).map((one, i) => one.broadcast - byNonce[i]!.broadcast);
  const lastRequestAnswered = Math.max(...inflow.sent.map((one) => one.answered)) - inflow.started;
  console.log(
    `  the API answered all ${N} requests within ${seconds(lastRequestAnswered)} (${inflow.inFlight} in flight, the merchant's cap on writes in progress; each takes the merchant's ledger lock, one at a time); ` +
      `their workflows started ${spread(inflow.sent.map((one) => one.workflowStarted - one.created))} ms after their rows.`,
  );
  console.log(
    `  sending: the first send step started ${seconds(Math.min(...inflow.sent.map((one) => one.sendStarted)) - inflow.started)} after the first request; ` +
      `the ${N} payouts were broadcast over ${seconds(sendSpan)} (first send step started → last broadcast_at, ${(N / (sendSpan / 1000)).toFixed(1)} payouts/s), ` +
      `in nonce order ${median(gaps).toFixed(0)} ms apart (median), from ${seconds(firstAllocated - inflow.started)} to ${seconds(lastBroadcast - inflow.started)} after the first request. ` +
      `The script had all ${N} sent within ${seconds(Math.max(...bare.sent.map((one) => one.mined)) - bare.started)} (their block seen included).`,
  );
  const spreadBlocks = (side: Side) => new Set(side.sent.map((one) => one.block)).size;
  console.log(
    `  so inflow's transfers were mined in ${spreadBlocks(inflow)} blocks against the script's ${spreadBlocks(bare)}: each later block is ${BLOCK_MS} ms more for the last payout; ` +
      `${CONFIRMATIONS} confirmations are ${seconds((CONFIRMATIONS - 1) * BLOCK_MS)} of blocks after the block it was mined in, the same on both sides.`,
  );
  console.log(
    `  after final on the chain: inflow's completed_at came ${spread(inflow.sent.map((one) => one.done - one.final))} ms later (its workflow asks at least 2 s apart, then at the chain's pace, ` +
      `${spread(inflow.sent.map((one) => one.asks))} asks; the dev server fires timers on a ~1 s grain), the script's wait ${spread(bare.sent.map((one) => one.done - one.final))} ms (ethers polls every 100 ms).`,
  );
  console.log(`  CPU over inflow's side: ${describeLimit(inflow.cpu)}.`);
  console.log(`  CPU over the script (1 wallet): ${formatShares(bare.cpu)}.`);
  console.log('');
  console.log('one hot wallet versus several:');
  const severalRatio = rateOf(several) / rateOf(bare);
  console.log(
    `  the script from ${WALLETS} wallets ran at ${rateOf(several).toFixed(2)}/s against ${rateOf(bare).toFixed(2)}/s from one (${severalRatio.toFixed(2)}×): ` +
      `${
        severalRatio < 1.15
          ? `on the chain's side several wallets buy nothing here — one wallet's pipelined nonces all fit the next block, and the ${CONFIRMATIONS} confirmations set the time`
          : `several wallets were faster on the chain's side`
      }.`,
  );
  console.log(
    `  inflow has one hot wallet per mode and network: each payout's nonce is taken one at a time under that wallet's lock (a Postgres advisory lock per mode ` +
      `and network), and the signer appends and fsyncs its audit log one signature at a time whatever the ` +
      `wallet. Its send path (first send step started → last broadcast_at) sustained ${(N / (sendSpan / 1000)).toFixed(1)} payouts/s here. ${WALLETS} hot wallets ` +
      `would take ${WALLETS} nonces side by side: at most ${WALLETS}× the locked part, on ${os.cpus().length} cores if the CPU allows (see the CPU row), the signer's ` +
      `log still one at a time. That shortens only the sending part (${seconds(sendSpan)} here, ${spreadBlocks(inflow)} blocks instead of 1): not the ` +
      `${seconds((CONFIRMATIONS - 1) * BLOCK_MS)} of confirmations nor the polling after them, which dominate each payout.`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
