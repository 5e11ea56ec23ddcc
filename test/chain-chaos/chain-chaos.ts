/**
 * One chain-fault run: the stack (stack.ts) with the watcher behind the fault proxy, customers made
 * through the API, every payer funded, then per round one block per tick with the plan's proxy
 * faults, reorgs and payments (schedule.ts, driver.ts). After the last round every fault is off and
 * the runner keeps mining until inflow has settled; then the oracle (oracle.ts) reads the final
 * chain and inflow's books and the report (report.ts) says what went wrong, and near which faults.
 * `tsx test/chain-chaos/run.ts` and the jest test both call runChainChaos.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { delay } from '../../dev/managed-process';
import type { Log } from '../../dev/tools/progress';
import { Prng } from '../chaos/prng';
import type { Devnet } from './devnet';
import { ChainDriver } from './driver';
import { FaultProxy, short, type Injection } from './fault-proxy';
import { defaultPaymentKinds, deployContracts, fundAndSign, type Contracts, type Customer, type Payment, type PaymentKind } from './load';
import { judge, type OracleResult } from './oracle';
import { buildReport, describeFault, isPassing, type WindowRecord } from './report';
import { planRun, type FaultWindow, type RoundPlan } from './schedule';
import { defaultStackSettings, makeRunDirectory, startStack, type ChainChaosStack } from './stack';

export interface ChainChaosOptions {
  rounds: number;
  seed: number;
  /** The runner mines one block every blockMs. */
  blockMs: number;
  customers: number;
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
 * After the last change to the chain's money, blocks mined before inflow counts as settled: past any
 * reorg depth, and past the 12 blocks inflow waits for a vanished transaction before failing it.
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

export async function runChainChaos(options: ChainChaosOptions): Promise<ChainChaosResult> {
  const { log } = options;
  const startedAt = Date.now();
  const prng = new Prng(options.seed);
  const { dir, logs } = await makeRunDirectory(log);
  const faultLog = createWriteStream(path.join(logs, 'faults.log'));
  const customers: Customer[] = [];
  let contracts: Contracts | undefined;
  let proxy: FaultProxy | undefined;
  let stack: ChainChaosStack | undefined;
  let startBlock = 0;
  const stop = async () => {
    proxy?.switchAllOff();
    await proxy?.close();
    await stack?.stop();
  };
  running.add(stop);
  // Every injection goes to the fault log; misleading answers about a transaction (a hidden or forged
  // transfer) are also worth reading as they happen; the rest are counted per window.
  const reportInjection = (injection: Injection, misleading: boolean) => {
    const line = `${injection.kind}: ${injection.what}`;
    faultLog.write(`${new Date(injection.at).toISOString()} ${line}\n`);
    if (misleading && (injection.txHashes.length > 0 || injection.kind === 'other-fork')) log(`  proxy ${line}`);
  };

  const windows: WindowRecord[] = [];
  const notes: string[] = [];
  let driver: ChainDriver | undefined;
  let payments: Payment[] = [];
  let oracle: OracleResult | undefined;
  let settle: { quiet: boolean; waitedMs: number } | undefined;
  try {
    stack = await startStack({
      dir,
      logs,
      log,
      settings: defaultStackSettings,
      beforeGateway: async (devnet) => {
        contracts = await deployContracts(devnet);
        proxy = new FaultProxy(
          devnet.url,
          prng.fork('proxy'),
          { usdtAddress: contracts.usdt, customerAddresses: () => customers.map((customer) => customer.address) },
          reportInjection,
        );
        startBlock = (await devnet.head()) + 1;
        log(`anvil: test USDT at ${contracts.usdt}, ConditionalPayer at ${contracts.conditionalPayer}; the watcher reads it through the fault proxy`);
        return { watcherRpcUrl: await proxy.listen(), usdtAddress: contracts.usdt, startBlock };
      },
    });
    const { devnet } = stack;
    for (let i = 0; i < options.customers; i++) customers.push(await createCustomer(stack, i + 1));
    log(`${customers.length} customers made through the API: ${customers.map((customer) => `${customer.id} ${customer.address}`).join(', ')}`);

    const plans = planRun(prng.fork('plan'), {
      seed: options.seed,
      rounds: options.rounds,
      customers,
      paymentKinds: options.paymentKinds,
      maxReorgDepth: options.maxReorgDepth,
    });
    payments = await fundAndSign(
      devnet,
      contracts!,
      plans.flatMap((plan) => plan.payments.map(({ payment }) => payment)),
    );
    // Buried deeper than any reorg: the funding and approvals are never undone.
    for (let i = 0; i < options.maxReorgDepth + 2; i++) await devnet.mine();
    log(`${payments.length} payers funded and their payments signed; head ${await devnet.head()}`);
    // The first round's faults are for a watcher at work, not one still starting.
    await waitForWatcher(stack, log);
    const paymentsById = new Map(payments.map((payment) => [payment.id, payment]));
    driver = new ChainDriver(
      devnet,
      contracts!,
      prng.fork('fates'),
      options.blockMs,
      (line) => log(`  ${line}`),
      (hashes) => depositsOf(stack!, hashes),
    );

    for (const plan of plans) await runRound({ plan, rounds: options.rounds, driver, proxy: proxy!, devnet, paymentsById, windows, log });

    proxy!.switchAllOff();
    log(`every fault off at head ${await devnet.head()}; mining on until inflow settles (at most ${options.settleTimeoutMs / 1000} s)`);
    settle = await settleGateway(stack, driver, options.settleTimeoutMs, log);
    log(`${settle.quiet ? 'settled' : 'NOT settled'} after ${(settle.waitedMs / 1000).toFixed(1)} s; the oracle reads the final chain`);
    oracle = await judge({
      devnet,
      db: stack.db,
      merchantId: stack.merchantId,
      apiBaseUrl: stack.apiBaseUrl,
      testKey: stack.testKey,
      contracts: contracts!,
      startBlock,
      customerAddresses: customers.map((customer) => customer.address),
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
    injections: proxy?.injections ?? [],
    chain: { sent: driver?.sent ?? new Map(), reorgs: driver?.reorgs ?? [] },
    payments,
    oracle,
    settle,
    notes,
    keptFiles,
  });
  return { passed, report: text, dir, durationMs };
}

/** One round: a block per tick; before each, the plan's fault windows switched, its reorgs made, its payments sent. */
async function runRound(round: {
  plan: RoundPlan;
  rounds: number;
  driver: ChainDriver;
  proxy: FaultProxy;
  devnet: Devnet;
  paymentsById: Map<string, Payment>;
  /** Every window of the run, this round's appended. */
  windows: WindowRecord[];
  log: Log;
}): Promise<void> {
  const { plan, driver, proxy, devnet, log } = round;
  log(
    `round ${plan.round}/${round.rounds}: ${plan.blocks} blocks, ${plan.payments.length} payments, ` +
      `faults ${plan.windows.map((window) => window.fault.kind).join(' → ')}, then reorgs of depth ${plan.reorgs.map((reorg) => reorg.depth).join(', ')}`,
  );
  const open = new Map<FaultWindow, WindowRecord>();
  const switchOn = async (window: FaultWindow) => {
    const record: WindowRecord = {
      round: plan.round,
      fault: window.fault,
      fromBlock: (await devnet.head()) + 1,
      toBlock: undefined,
      startedAt: Date.now(),
      injections: 0,
    };
    round.windows.push(record);
    open.set(window, record);
    proxy.switchOn(window.fault);
    log(`  ${describeFault(window.fault)} on`);
  };
  const switchOff = async (window: FaultWindow) => {
    const record = open.get(window)!;
    open.delete(window);
    proxy.switchOff(window.fault.kind);
    record.toBlock = await devnet.head();
    record.injections = proxy.injections.filter((injection) => injection.kind === window.fault.kind && injection.at >= record.startedAt).length;
    log(`  ${window.fault.kind} off: ${record.injections} answer(s) altered or refused`);
  };
  for (let tick = 0; tick < plan.blocks; tick++) {
    await driver.runTick(async () => {
      for (const window of plan.windows) if (window.toTick === tick) await switchOff(window);
      for (const window of plan.windows) if (window.fromTick === tick) await switchOn(window);
      for (const reorg of plan.reorgs) if (reorg.tick === tick) await driver.reorg(reorg.depth, plan.round);
      for (const { tick: at, payment } of plan.payments) if (at === tick) await driver.sendPayment(round.paymentsById.get(payment.id)!);
    });
  }
  for (const window of [...open.keys()]) await switchOff(window);
}

/** Waits (bounded) until the watcher's cursor has passed the head; the chain does not move meanwhile. */
async function waitForWatcher(stack: ChainChaosStack, log: Log): Promise<void> {
  const started = Date.now();
  const head = await stack.devnet.head();
  while (Date.now() - started < WATCHER_START_TIMEOUT_MS) {
    if ((await gatewayState(stack)).cursorNextBlock > head) {
      log(`the watcher has scanned up to the head (${head}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    await delay(250);
  }
  log(`the watcher has not reached the head (${head}) in ${WATCHER_START_TIMEOUT_MS / 1000} s; starting anyway`);
}

/** A customer through the API, as a merchant makes one; its EVM deposit address. */
async function createCustomer(stack: ChainChaosStack, number: number): Promise<Customer> {
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
      if (response.status === 200) return { id: body.id, address: body.addresses.find((entry) => entry.network === 'ethereum')!.address };
      last = `${response.status} ${JSON.stringify(body).slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await delay(500);
  }
  throw new Error(`could not make customer ${number}: ${last}`);
}

/**
 * Mines on (one block per tick, carrying out fates still due) until inflow has settled: at least
 * SETTLE_MIN_BLOCKS since the last change to the chain's money, the watcher's cursor at the head,
 * no deposit detected or confirming, and the deposits unchanged for QUIET_TICKS ticks; or the timeout.
 */
async function settleGateway(stack: ChainChaosStack, driver: ChainDriver, timeoutMs: number, log: Log): Promise<{ quiet: boolean; waitedMs: number }> {
  const started = Date.now();
  let lastProgress = started;
  let quietTicks = 0;
  let lastFingerprint = '';
  while (Date.now() - started < timeoutMs) {
    const head = await driver.runTick();
    const state = await gatewayState(stack);
    // The watcher scans about once a second and the runner mines every blockMs: "caught up" is within a few blocks.
    const quiet = state.inFlight === 0 && state.cursorNextBlock > head - CAUGHT_UP_BLOCKS && state.fingerprint === lastFingerprint;
    lastFingerprint = state.fingerprint;
    quietTicks = quiet ? quietTicks + 1 : 0;
    const sinceChange = driver.tick - driver.lastChangeTick;
    if (quietTicks >= QUIET_TICKS && sinceChange >= SETTLE_MIN_BLOCKS && driver.pendingActions === 0) return { quiet: true, waitedMs: Date.now() - started };
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = Date.now();
      log(
        `  settling ${((lastProgress - started) / 1000).toFixed(0)} s: head ${head}, watcher at ${state.cursorNextBlock - 1}, ` +
          `${state.inFlight} deposit(s) in flight, ${sinceChange} block(s) since the last change${state.example ? `; e.g. ${state.example}` : ''}`,
      );
    }
  }
  return { quiet: false, waitedMs: Date.now() - started };
}

async function gatewayState(stack: ChainChaosStack): Promise<{ inFlight: number; cursorNextBlock: number; fingerprint: string; example: string | undefined }> {
  const { rows } = await sql<{ id: string; status: string; reversed_at: Date | null; transaction_hash: string; confirmations: number }>`
    select id, status, reversed_at, transaction_hash, confirmations from deposits
    where merchant_id = ${stack.merchantId} and livemode = false order by id`.execute(stack.db);
  const cursor = await stack.db
    .selectFrom('chain_cursors')
    .select('next_block')
    .where('livemode', '=', false)
    .where('network', '=', 'ethereum')
    .executeTakeFirst();
  const inFlight = rows.filter((row) => row.status === 'detected' || row.status === 'confirming');
  return {
    inFlight: inFlight.length,
    cursorNextBlock: Number(cursor?.next_block ?? 0),
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
