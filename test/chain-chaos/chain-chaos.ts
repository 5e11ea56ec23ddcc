/**
 * One chain-fault run: the stack (stack.ts) with the watcher behind the fault proxies, customers made
 * through the API, every payer funded, then per round one block per tick on each chain driven (a
 * "lane": anvil with driver.ts and fault-proxy.ts, the Tron stand-in with tron-driver.ts and
 * tron-proxy.ts), each with its own plan of proxy faults, reorgs and payments (schedule.ts) in the
 * same ticks. After the last round every fault is off and the runner keeps mining until inflow has
 * settled; then the oracle (oracle.ts) reads the final chains and inflow's books and the report
 * (report.ts) says what went wrong, and near which faults. `tsx test/chain-chaos/run.ts` and the
 * jest test both call runChainChaos.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { delay } from '../../dev/managed-process';
import type { Log } from '../../dev/tools/progress';
import { Prng } from '../chaos/prng';
import { ChainDriver, type PaymentRef, type ReorgRecord, type SentTransaction } from './driver';
import { FaultProxy, proxyFaultKinds, short, type Injection } from './fault-proxy';
import { defaultPaymentKinds, deployContracts, fundAndSign, type Contracts, type Customer, type Payment, type PaymentKind } from './load';
import { judge, type OracleResult } from './oracle';
import { chainNames, type ChainName, type FaultProxyCore, type ProxyFaultKind } from './proxy-core';
import { buildReport, describeFault, isPassing, type WindowRecord } from './report';
import { planRun, planTronRun, type FaultWindow, type PlannedReorg } from './schedule';
import { defaultStackSettings, makeRunDirectory, startStack, type ChainChaosStack } from './stack';
import { TronNode, tronPaymentKinds, type TronPayment } from './tron-chain';
import { TronDriver } from './tron-driver';
import { TronFaultProxy, tronProxyFaultKinds } from './tron-proxy';

export interface ChainChaosOptions {
  rounds: number;
  seed: number;
  /** The runner mines one block every blockMs. */
  blockMs: number;
  customers: number;
  /** The chains whose watcher the run attacks: anvil (`evm`, test-mode ethereum) and the Tron stand-in (`tron`). */
  chains: readonly ChainName[];
  paymentKinds: readonly PaymentKind[];
  /** Reorgs go from 1 block up to this deep (past the 3 confirmations on purpose). */
  maxReorgDepth: number;
  /** How long inflow may take to settle after the faults stop before what is left counts as stuck. */
  settleTimeoutMs: number;
  /** Keep the run directory (data and logs) even when the run passes. */
  keep: boolean;
  log: Log;
}

export const defaultChainChaosOptions: Omit<ChainChaosOptions, 'seed' | 'log'> = {
  rounds: 2,
  blockMs: 500,
  customers: 5,
  chains: chainNames,
  paymentKinds: defaultPaymentKinds,
  maxReorgDepth: 6,
  settleTimeoutMs: 180_000,
  keep: false,
};

export interface ChainChaosResult {
  passed: boolean;
  report: string;
  dir: string;
  durationMs: number;
}

/**
 * After the last change to a chain's money, blocks mined before inflow counts as settled: past any
 * reorg depth, and past the blocks inflow waits for a vanished transaction before failing it (12 on
 * ethereum, 19 on tron).
 */
const SETTLE_MIN_BLOCKS = 30;
/** Ticks in a row with nothing in flight and nothing changed in the deposits before the run counts as settled. */
const QUIET_TICKS = 10;
/** How near the head the watcher's cursor must be to count as caught up. */
const CAUGHT_UP_BLOCKS = 4;
const PROGRESS_EVERY_MS = 15_000;
const WATCHER_START_TIMEOUT_MS = 60_000;

/** Stops of the runs under way, for Ctrl-C. */
const running = new Set<() => Promise<void>>();

export async function stopRunningChainChaos(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
  running.clear();
}

/** One chain the run drives: its proxy, its driver, and per round what happens in which tick. */
interface Lane {
  chain: ChainName;
  network: 'ethereum' | 'tron';
  faultKinds: readonly ProxyFaultKind[];
  proxy: FaultProxyCore;
  driver: {
    tick: number;
    lastChangeTick: number;
    readonly pendingActions: number;
    readonly sent: ReadonlyMap<string, SentTransaction<PaymentRef>>;
    readonly reorgs: Array<ReorgRecord<PaymentRef>>;
    runTick(before?: () => Promise<void>): Promise<number>;
    reorg(depth: number, round: number): Promise<unknown>;
  };
  head(): Promise<number>;
  rounds: Array<{ blocks: number; windows: FaultWindow[]; reorgs: PlannedReorg[]; payments: Array<{ tick: number; send: () => Promise<void> }> }>;
}

export async function runChainChaos(options: ChainChaosOptions): Promise<ChainChaosResult> {
  const { log } = options;
  const startedAt = Date.now();
  const prng = new Prng(options.seed);
  const { dir, logs } = await makeRunDirectory(log);
  const faultLog = createWriteStream(path.join(logs, 'faults.log'));
  const customers: Customer[] = [];
  const tronCustomers: string[] = [];
  const drives = (chain: ChainName) => options.chains.includes(chain);
  let contracts: Contracts | undefined;
  let proxy: FaultProxy | undefined;
  let tronProxy: TronFaultProxy | undefined;
  let stack: ChainChaosStack | undefined;
  let startBlock = 0;
  let tronStartBlock = 0;
  const stop = async () => {
    for (const each of [proxy, tronProxy]) {
      each?.switchAllOff();
      await each?.close();
    }
    await stack?.stop();
  };
  running.add(stop);
  // Every injection goes to the fault log; misleading answers about a transaction (a hidden or forged
  // transfer) are also worth reading as they happen; the rest are counted per window.
  const reportInjection = (injection: Injection, misleading: boolean) => {
    const line = `${injection.chain} ${injection.kind}: ${injection.what}`;
    faultLog.write(`${new Date(injection.at).toISOString()} ${line}\n`);
    if (misleading && (injection.txHashes.length > 0 || injection.kind === 'other-fork')) log(`  proxy ${line}`);
  };

  const windows: WindowRecord[] = [];
  const notes: string[] = [];
  const lanes: Lane[] = [];
  let payments: Payment[] = [];
  let tronPayments: TronPayment[] = [];
  let oracle: OracleResult | undefined;
  let settle: { quiet: boolean; waitedMs: number } | undefined;
  try {
    stack = await startStack({
      dir,
      log,
      settings: defaultStackSettings,
      beforeGateway: async (devnet, tron) => {
        contracts = await deployContracts(devnet);
        proxy = new FaultProxy(
          devnet.url,
          prng.fork('proxy'),
          { usdtAddress: contracts.usdt, customerAddresses: () => customers.map((customer) => customer.address) },
          reportInjection,
        );
        startBlock = (await devnet.head()) + 1;
        log(`anvil: test USDT at ${contracts.usdt}, ConditionalPayer at ${contracts.conditionalPayer}; the watcher reads it through the fault proxy`);
        if (!drives('tron')) return { watcherRpcUrl: await proxy.listen(), usdtAddress: contracts.usdt, startBlock, tron: undefined };
        tronProxy = new TronFaultProxy(
          tron.rpcUrl,
          prng.fork('tron proxy'),
          { usdtAddress: tron.usdtAddress, customerAddresses: () => tronCustomers },
          reportInjection,
        );
        tron.mine(3);
        tronStartBlock = tron.head() + 1;
        log(`tron stand-in: USDT ${tron.usdtAddress}, forwarder ${tron.forwarderAddress}; the watcher reads it through the Tron fault proxy`);
        return {
          watcherRpcUrl: await proxy.listen(),
          usdtAddress: contracts.usdt,
          startBlock,
          tron: { watcherRpcUrl: await tronProxy.listen(), startBlock: tronStartBlock },
        };
      },
    });
    const { devnet } = stack;
    for (let i = 0; i < options.customers; i++) {
      const made = await createCustomer(stack, i + 1);
      customers.push(made.customer);
      tronCustomers.push(made.tronAddress);
    }
    log(
      `${customers.length} customers made through the API: ${customers.map((customer, i) => `${customer.id} ${customer.address} ${tronCustomers[i]}`).join(', ')}`,
    );

    const plans = planRun(prng.fork('plan'), {
      seed: options.seed,
      rounds: options.rounds,
      customers,
      paymentKinds: options.paymentKinds,
      maxReorgDepth: options.maxReorgDepth,
    });
    const unplanned = { blocks: 0, windows: [], reorgs: [], payments: [] };
    if (drives('evm')) {
      payments = await fundAndSign(
        devnet,
        contracts!,
        plans.flatMap((plan) => plan.payments.map(({ payment }) => payment)),
      );
      // Buried deeper than any reorg: the funding and approvals are never undone.
      for (let i = 0; i < options.maxReorgDepth + 2; i++) await devnet.mine();
      log(`${payments.length} payers funded and their payments signed; head ${await devnet.head()}`);
    }
    const paymentsById = new Map(payments.map((payment) => [payment.id, payment]));
    const evmDriver = new ChainDriver(
      devnet,
      contracts!,
      prng.fork('fates'),
      0,
      (line) => log(`  ${line}`),
      (hashes) => depositsOf(stack!, hashes),
    );
    lanes.push({
      chain: 'evm',
      network: 'ethereum',
      faultKinds: proxyFaultKinds,
      proxy: proxy!,
      driver: evmDriver,
      head: () => devnet.head(),
      rounds: plans.map((plan) =>
        drives('evm')
          ? {
              ...plan,
              payments: plan.payments.map(({ tick, payment }) => ({ tick, send: () => evmDriver.sendPayment(paymentsById.get(payment.id)!) })),
            }
          : unplanned,
      ),
    });
    if (drives('tron')) {
      const node = new TronNode(stack.tron.rpcUrl);
      const tronPlans = planTronRun(prng.fork('tron plan'), {
        rounds: options.rounds,
        customers: tronCustomers,
        paymentKinds: tronPaymentKinds,
        maxReorgDepth: options.maxReorgDepth,
      });
      tronPayments = tronPlans.flatMap((plan) => plan.payments.map(({ payment }) => payment));
      const tronDriver = new TronDriver(
        node,
        prng.fork('tron fates'),
        (line) => log(`  ${line}`),
        (hashes) => depositsOf(stack!, hashes),
      );
      lanes.push({
        chain: 'tron',
        network: 'tron',
        faultKinds: tronProxyFaultKinds,
        proxy: tronProxy!,
        driver: tronDriver,
        head: () => node.head(),
        rounds: tronPlans.map((plan) => ({
          ...plan,
          payments: plan.payments.map(({ tick, payment }) => ({ tick, send: () => tronDriver.sendPayment(payment) })),
        })),
      });
    }
    // The first round's faults are for a watcher at work, not one still starting.
    await waitForWatchers(stack, lanes, log);

    for (let round = 0; round < options.rounds; round++) await runRound({ round, rounds: options.rounds, lanes, blockMs: options.blockMs, windows, log });

    for (const lane of lanes) lane.proxy.switchAllOff();
    log(`every fault off; mining on until inflow settles (at most ${options.settleTimeoutMs / 1000} s)`);
    settle = await settleGateway(stack, lanes, options.blockMs, options.settleTimeoutMs, log);
    log(`${settle.quiet ? 'settled' : 'NOT settled'} after ${(settle.waitedMs / 1000).toFixed(1)} s; the oracle reads the final chains`);
    oracle = await judge({
      devnet,
      db: stack.db,
      merchantId: stack.merchantId,
      apiBaseUrl: stack.apiBaseUrl,
      testKey: stack.testKey,
      contracts: contracts!,
      startBlock,
      customerAddresses: customers.map((customer) => customer.address),
      tron: drives('tron')
        ? { node: new TronNode(stack.tron.rpcUrl), usdtAddress: stack.tron.usdtAddress, startBlock: tronStartBlock, customerAddresses: tronCustomers }
        : undefined,
    });
  } catch (error) {
    notes.push(`the run stopped early: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await stop();
    running.delete(stop);
    await new Promise<void>((resolve) => faultLog.end(resolve));
  }

  const durationMs = Date.now() - startedAt;
  const passed = isPassing({ oracle, notes });
  const kept = !passed || options.keep;
  const keptFiles = kept
    ? [
        `run directory kept: ${dir}`,
        ...Object.entries(stack?.logFiles ?? {}).map(([part, file]) => `  ${part}: ${file}`),
        `  faults: ${path.join(logs, 'faults.log')}`,
      ]
    : [];
  if (!kept) await rm(dir, { recursive: true, force: true });
  const { text } = buildReport({
    seed: options.seed,
    rounds: options.rounds,
    durationMs,
    windows,
    injections: lanes.flatMap((lane) => lane.proxy.injections),
    chains: lanes
      .filter((lane) => drives(lane.chain))
      .map((lane) => ({ chain: lane.chain, faultKinds: lane.faultKinds, sent: lane.driver.sent, reorgs: lane.driver.reorgs })),
    payments: [...payments, ...tronPayments.map((payment) => ({ id: payment.id, kind: `tron ${payment.kind}` }))],
    oracle,
    settle,
    notes,
    keptFiles,
  });
  return { passed, report: text, dir, durationMs };
}

/** One tick: a block on every lane, each after its `before` (the lane's plan for this tick), paced to the block time. */
async function tickAll(lanes: Lane[], blockMs: number, before?: (lane: Lane) => Promise<void>): Promise<void> {
  const started = Date.now();
  for (const lane of lanes) await lane.driver.runTick(before && (() => before(lane)));
  await delay(Math.max(0, blockMs - (Date.now() - started)));
}

/** One round: a block per tick on every lane; before each, the lane's fault windows switched, its reorgs made, its payments sent. */
async function runRound(input: {
  round: number;
  rounds: number;
  lanes: Lane[];
  blockMs: number;
  /** Every window of the run, this round's appended. */
  windows: WindowRecord[];
  log: Log;
}): Promise<void> {
  const { round, lanes, log } = input;
  const blocks = Math.max(...lanes.map((lane) => lane.rounds[round]!.blocks));
  const plans = lanes.filter((lane) => lane.rounds[round]!.blocks > 0);
  log(
    `round ${round + 1}/${input.rounds}: ${blocks} ticks; ` +
      plans
        .map((lane) => {
          const plan = lane.rounds[round]!;
          return `${lane.chain}: ${plan.payments.length} payments, faults ${plan.windows.map((window) => window.fault.kind).join(' → ')}, then reorgs of depth ${plan.reorgs.map((reorg) => reorg.depth).join(', ')}`;
        })
        .join('; '),
  );
  const open = new Map<FaultWindow, WindowRecord>();
  const switchOn = async (lane: Lane, window: FaultWindow) => {
    const record: WindowRecord = {
      chain: lane.chain,
      round: round + 1,
      fault: window.fault,
      fromBlock: (await lane.head()) + 1,
      toBlock: undefined,
      startedAt: Date.now(),
      injections: 0,
    };
    input.windows.push(record);
    open.set(window, record);
    lane.proxy.switchOn(window.fault);
    log(`  ${lane.chain} ${describeFault(window.fault, lane.chain)} on`);
  };
  const switchOff = async (lane: Lane, window: FaultWindow) => {
    const record = open.get(window)!;
    open.delete(window);
    lane.proxy.switchOff(window.fault.kind);
    record.toBlock = await lane.head();
    record.injections = lane.proxy.injections.filter((injection) => injection.kind === window.fault.kind && injection.at >= record.startedAt).length;
    log(`  ${lane.chain} ${window.fault.kind} off: ${record.injections} answer(s) altered or refused`);
  };
  for (let tick = 0; tick < blocks; tick++) {
    await tickAll(lanes, input.blockMs, async (lane) => {
      const plan = lane.rounds[round]!;
      for (const window of plan.windows) if (window.toTick === tick) await switchOff(lane, window);
      for (const window of plan.windows) if (window.fromTick === tick) await switchOn(lane, window);
      for (const reorg of plan.reorgs) if (reorg.tick === tick) await lane.driver.reorg(reorg.depth, round + 1);
      for (const payment of plan.payments) if (payment.tick === tick) await payment.send();
    });
  }
  for (const lane of lanes) for (const window of lane.rounds[round]!.windows) if (open.has(window)) await switchOff(lane, window);
}

/** Waits (bounded) until every lane's watcher cursor has passed its head; the chains do not move meanwhile. */
async function waitForWatchers(stack: ChainChaosStack, lanes: Lane[], log: Log): Promise<void> {
  const started = Date.now();
  const heads = await Promise.all(lanes.map((lane) => lane.head()));
  while (Date.now() - started < WATCHER_START_TIMEOUT_MS) {
    const state = await gatewayState(stack, lanes);
    if (lanes.every((lane, i) => state.cursorNextBlock[i]! > heads[i]!)) {
      log(`the watchers have scanned up to the heads (${heads.join(', ')}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    await delay(250);
  }
  log(`the watchers have not reached the heads (${heads.join(', ')}) in ${WATCHER_START_TIMEOUT_MS / 1000} s; starting anyway`);
}

/** A customer through the API, as a merchant makes one; its EVM and Tron deposit addresses. */
async function createCustomer(stack: ChainChaosStack, number: number): Promise<{ customer: Customer; tronAddress: string }> {
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      const response = await fetch(`${stack.apiBaseUrl}/api/v1/customers`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${stack.testKey}`,
          'Content-Type': 'application/json',
          'Idempotency-Key': `chain-chaos-customer-${number}-${randomUUID()}`,
        },
        body: JSON.stringify({ name: `Chain chaos customer ${number}` }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await response.json()) as { id: string; addresses: Array<{ network: string; address: string }> };
      const addressOn = (network: string) => body.addresses.find((entry) => entry.network === network)!.address;
      if (response.status === 200) return { customer: { id: body.id, address: addressOn('ethereum') }, tronAddress: addressOn('tron') };
      last = `${response.status} ${JSON.stringify(body).slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await delay(500);
  }
  throw new Error(`could not make customer ${number}: ${last}`);
}

/**
 * Mines on (one block per tick on every lane, carrying out fates still due) until inflow has
 * settled: on every lane at least SETTLE_MIN_BLOCKS since the last change to the chain's money and
 * the watcher's cursor at the head, no deposit detected or confirming, and the deposits unchanged
 * for QUIET_TICKS ticks; or the timeout.
 */
async function settleGateway(
  stack: ChainChaosStack,
  lanes: Lane[],
  blockMs: number,
  timeoutMs: number,
  log: Log,
): Promise<{ quiet: boolean; waitedMs: number }> {
  const started = Date.now();
  let lastProgress = started;
  let quietTicks = 0;
  let lastFingerprint = '';
  while (Date.now() - started < timeoutMs) {
    await tickAll(lanes, blockMs);
    const heads = await Promise.all(lanes.map((lane) => lane.head()));
    const state = await gatewayState(stack, lanes);
    // The watcher scans about once a second and the runner mines every blockMs: "caught up" is within a few blocks.
    const caughtUp = lanes.every((_, i) => state.cursorNextBlock[i]! > heads[i]! - CAUGHT_UP_BLOCKS);
    const quiet = state.inFlight === 0 && caughtUp && state.fingerprint === lastFingerprint;
    lastFingerprint = state.fingerprint;
    quietTicks = quiet ? quietTicks + 1 : 0;
    const sinceChange = Math.min(...lanes.map((lane) => lane.driver.tick - lane.driver.lastChangeTick));
    const pending = lanes.reduce((sum, lane) => sum + lane.driver.pendingActions, 0);
    if (quietTicks >= QUIET_TICKS && sinceChange >= SETTLE_MIN_BLOCKS && pending === 0) return { quiet: true, waitedMs: Date.now() - started };
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = Date.now();
      const where = lanes.map((lane, i) => `${lane.chain} head ${heads[i]}, watcher at ${state.cursorNextBlock[i]! - 1}`).join('; ');
      log(
        `  settling ${((lastProgress - started) / 1000).toFixed(0)} s: ${where}; ` +
          `${state.inFlight} deposit(s) in flight, ${sinceChange} block(s) since the last change${state.example ? `; e.g. ${state.example}` : ''}`,
      );
    }
  }
  return { quiet: false, waitedMs: Date.now() - started };
}

/** The deposits in flight and a fingerprint of all of them, and each lane's watcher cursor (its next block). */
async function gatewayState(
  stack: ChainChaosStack,
  lanes: Lane[],
): Promise<{ inFlight: number; cursorNextBlock: number[]; fingerprint: string; example: string | undefined }> {
  const { rows } = await sql<{ id: string; status: string; reversed_at: Date | null; transaction_hash: string; confirmations: number }>`
    select id, status, reversed_at, transaction_hash, confirmations from deposits
    where merchant_id = ${stack.merchantId} and livemode = false order by id`.execute(stack.db);
  const cursors = await stack.db.selectFrom('chain_cursors').select(['network', 'next_block']).where('livemode', '=', false).execute();
  const inFlight = rows.filter((row) => row.status === 'detected' || row.status === 'confirming');
  return {
    inFlight: inFlight.length,
    cursorNextBlock: lanes.map((lane) => Number(cursors.find((cursor) => cursor.network === lane.network)?.next_block ?? 0)),
    fingerprint: rows.map((row) => `${row.id}:${row.status}:${row.reversed_at ? 'r' : ''}`).join(','),
    example: inFlight[0] ? `${inFlight[0].id} ${inFlight[0].status} (${short(inFlight[0].transaction_hash)}, ${inFlight[0].confirmations} conf.)` : undefined,
  };
}

/** inflow's deposits of these transactions, by transaction: "completed", "confirming ×2", … */
async function depositsOf(stack: ChainChaosStack, hashes: string[]): Promise<Map<string, string>> {
  if (hashes.length === 0) return new Map();
  const rows = await stack.db
    .selectFrom('deposits')
    .select(['transaction_hash', 'status'])
    .where('merchant_id', '=', stack.merchantId)
    .where(
      sql<string>`lower(transaction_hash)`,
      'in',
      hashes.map((hash) => hash.toLowerCase()),
    )
    .execute();
  const counts = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const byStatus = counts.get(row.transaction_hash.toLowerCase()) ?? new Map<string, number>();
    byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);
    counts.set(row.transaction_hash.toLowerCase(), byStatus);
  }
  return new Map([...counts].map(([hash, byStatus]) => [hash, [...byStatus].map(([status, n]) => (n > 1 ? `${status} ×${n}` : status)).join(', ')]));
}
