/**
 * One chaos run: the stack as separate processes, a webhook receiver, a bounded load, and per
 * round every chosen part killed -9 and restarted at seeded random moments; after each round,
 * quiescence and the checks. `npm run test:chaos` and the jest test both call runChaos.
 */
import { rm } from 'node:fs/promises';
import type { Log } from '../../dev/tools/progress';
import { ApiClient, verdictOf, type CallVerdict } from './api-client';
import { describeState, findAnomalies, waitForQuiescence, type Anomaly, type CheckContext, type StateSummary } from './checks';
import { expectedRoundMs, injectFaults, planRound } from './faults';
import { defaultLoadLimits, LoadGenerator, type LoadLimits } from './load';
import { Prng } from './prng';
import { describeFault, faultsNear, faultTable, type FaultRecord, type PartHealth } from './report';
import { partNames, startStack, type PartName, type Stack, type StackSettings } from './stack';
import { payoutInvariantLines } from './payout-checks';
import { treasuryInvariantLines } from './treasury-checks';
import { startChaosReceiver } from './webhook-receiver';
import { startMetadata } from '../../src/workflows/metadata';

export interface ChaosOptions {
  rounds: number;
  seed: number;
  /** The parts killed each round (every one by default). */
  parts: readonly PartName[];
  log: Log;
  /** How long after a round the gateway may take to settle before what is left counts as stuck. */
  quiescenceTimeoutMs: number;
  /** The API client's deadline: a call without an answer by then is a hang. */
  deadlineMs: number;
  /** Keep the run directory (data and logs) even when the run passes. */
  keep: boolean;
  settings?: Partial<StackSettings>;
  load?: Partial<LoadLimits>;
}

export const defaultChaosOptions: Omit<ChaosOptions, 'seed' | 'log'> = {
  rounds: 2,
  parts: partNames,
  quiescenceTimeoutMs: 240_000,
  deadlineMs: 30_000,
  keep: false,
};

export interface ChaosResult {
  passed: boolean;
  seed: number;
  faults: FaultRecord[];
  anomalies: Array<Anomaly & { round: number }>;
  /** The closing table and the summary lines, ready to print. */
  report: string;
  dir: string;
  durationMs: number;
}

const INITIAL_CUSTOMERS = 3;
const FIRST_ATTEMPT_FAILURE_RATE = 0.2;

const running = new Set<Stack>();

/** Stops every stack a run has started and not stopped yet (Ctrl-C, a jest timeout). */
export async function stopRunningStacks(): Promise<void> {
  await Promise.all([...running].map((stack) => stack.stop()));
  running.clear();
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const { log } = options;
  const runStartedAt = Date.now();
  const prng = new Prng(options.seed);
  log(`chaos: seed ${options.seed} (replay with --seed ${options.seed}), ${options.rounds} round(s) killing ${options.parts.join(', ')}`);
  const stack = await startStack({ log, settings: options.settings });
  running.add(stack);
  const api = new ApiClient(stack.apiBaseUrl, stack.testKey, options.deadlineMs);
  const receiver = await startChaosReceiver(prng.fork('receiver'), { firstAttemptFailureRate: FIRST_ATTEMPT_FAILURE_RATE });
  const load = new LoadGenerator(
    api,
    { rpcUrl: stack.rpcUrl, usdtAddress: stack.usdtAddress },
    prng.fork('load'),
    { ...defaultLoadLimits, ...options.load },
    (workflowId) => startSweepRun(stack, workflowId),
  );
  const faults: FaultRecord[] = [];
  const anomalies = new Map<string, Anomaly & { round: number }>();
  const notes: string[] = [];
  let passed = false;
  let finalState: StateSummary | undefined;
  try {
    const endpoint = await api.request('POST', '/webhook-endpoints', { json: { url: receiver.url, events: ['*'], description: 'chaos receiver' } });
    if (endpoint.status !== 200) throw new Error(`could not make the webhook endpoint: ${endpoint.status ?? endpoint.error}`);
    for (let i = 0; i < INITIAL_CUSTOMERS; i++) await load.createCustomer();
    // The balance the payouts are paid out of, made before any fault (the payout lane waits for it to complete).
    await load.startBalance();
    const ctx: CheckContext = { stack, api, receiver, load: load.record, endpointSecret: endpoint.body.secret };
    const faultPrng = prng.fork('faults');

    for (let round = 1; round <= options.rounds; round++) {
      const plan = planRound(faultPrng, options.parts);
      log(`round ${round}/${options.rounds}: ${plan.map((fault) => fault.part).join(' → ')}, under load`);
      let stopLoad!: () => void;
      const loading = load.run(new Promise<void>((resolve) => (stopLoad = resolve)), expectedRoundMs(plan));
      try {
        await injectFaults({ stack, plan, round, faults, log, runStartedAt });
      } finally {
        stopLoad();
        await loading;
      }
      const settled = await waitForQuiescence(ctx, options.quiescenceTimeoutMs, new Set(anomalies.keys()), (line) => log(`round ${round}: ${line}`));
      if (settled.quiet) log(`round ${round}: quiet ${(settled.waitedMs / 1000).toFixed(1)} s after the last fault`);
      else {
        log(`round ${round}: NOT quiet after ${(settled.waitedMs / 1000).toFixed(1)} s; still pending (${settled.pending.length}):`);
        for (const item of settled.pending.slice(0, 20)) log(`  ${item.what}`);
      }
      const found = await findAnomalies(ctx);
      finalState = found.state;
      log(`round ${round}: ${describeState(found.state)}`);
      // Whatever kept the run from settling is stuck, even where no check below names it (the outbox, a part).
      const named = new Set(found.anomalies.map((anomaly) => anomaly.key));
      const unnamed = settled.pending
        .filter((item) => !named.has(item.key))
        .map((item) => ({ kind: 'stuck' as const, key: item.key, what: item.what, at: Date.now() }));
      for (const anomaly of [...found.anomalies, ...unnamed]) {
        if (anomalies.has(anomaly.key)) continue;
        anomalies.set(anomaly.key, { ...anomaly, round });
        const near = faultsNear(anomaly, faults).map((fault) => fault.part);
        log(`  ${anomaly.kind.toUpperCase()}: ${anomaly.what}${near.length ? ` [near kill -9 of ${near.join(', ')}]` : ''}`);
      }
    }
    passed = anomalies.size === 0;
  } catch (error) {
    notes.push(`the run stopped early: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    load.close();
    await receiver.close();
    await stack.stop();
    running.delete(stack);
  }

  const health = Object.fromEntries(
    partNames.map((name) => [name, { crashes: stack.parts[name].crashes.length, failedStarts: stack.parts[name].failedStarts }]),
  ) as PartHealth;
  const found = [...anomalies.values()];
  const report = [
    '',
    'Faults injected:',
    ...faults.map((fault) => `  ${describeFault(fault, runStartedAt)}`),
    '',
    faultTable(faults, found, health),
    '',
    ...summary(
      stack,
      api,
      load,
      receiver.receipts.map((receipt) => receipt.status),
    ),
    ...(finalState
      ? [
          `state: ${describeState(finalState)}`,
          'treasury invariants (after the last round):',
          ...treasuryInvariantLines(finalState.treasury),
          'payout invariants (after the last round):',
          ...payoutInvariantLines(finalState.payouts),
        ]
      : []),
    // Exits the run did not cause (counted in the table's crashes column), with how each ended, to look for in the part's log.
    ...partNames.flatMap((name) =>
      stack.parts[name].crashes.map((crash) => `${name} exited by itself at +${((crash.at - runStartedAt) / 1000).toFixed(1)} s (${crash.exit})`),
    ),
    ...notes,
    '',
    `seed ${options.seed}, ${options.rounds} round(s), ${((Date.now() - runStartedAt) / 1000).toFixed(0)} s: ${passed ? 'PASSED' : 'FAILED'}`,
    ...(passed ? [] : ['', `process logs (kept in ${stack.dir}):`, ...partNames.map((name) => `  ${name}: ${stack.parts[name].logFile}`)]),
  ].join('\n');
  if (passed && !options.keep) await rm(stack.dir, { recursive: true, force: true });
  return { passed, seed: options.seed, faults, anomalies: found, report, dir: stack.dir, durationMs: Date.now() - runStartedAt };
}

/** A sweep run of test-mode ethereum, started as `npm run cli -- sweep --now` starts one, given 5 s to reach Temporal. */
async function startSweepRun(stack: Stack, workflowId: string): Promise<void> {
  const input = { livemode: false, network: 'ethereum' as const };
  await stack.client.withDeadline(Date.now() + 5_000, () =>
    stack.client.workflow.start('sweepRunWorkflow', {
      workflowId,
      taskQueue: stack.workerConfig.temporal.taskQueue,
      args: [input],
      ...startMetadata('sweepRunWorkflow', [input]),
    }),
  );
}

function summary(stack: Stack, api: ApiClient, load: LoadGenerator, receiptStatuses: number[]): string[] {
  const record = load.record;
  const verdicts = new Map<CallVerdict, number>();
  const statuses = new Map<string, number>();
  for (const call of api.calls) {
    const verdict = verdictOf(call, stack.parts.api.downIntervals);
    verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
    const status = call.status === undefined ? 'no answer' : String(call.status);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  const slowest = Math.max(0, ...api.calls.map((call) => call.finishedAt - call.startedAt));
  const count = (map: Map<string, number>) => [...map].map(([key, value]) => `${key} ×${value}`).join(', ');
  const failedOutcome = record.simulated.filter((deposit) => deposit.outcome === 'failed').length;
  return [
    `load: ${record.customers.length} customers, ${record.simulated.length} simulated deposits acknowledged (${failedOutcome} asked to fail), ` +
      `${record.transfers.length} devnet transfers sent (${record.transferErrors} refused by a down devnet), ${record.resends.length} resends, ` +
      `${record.sweepRuns.length} sweep runs started (${record.sweepRuns.filter((run) => run.error).length} not taken by a down Temporal in time), ` +
      `${record.payouts.length} payouts acknowledged (${record.payouts.filter((payout) => payout.depositId).length} refunds), ` +
      `${record.cancels.length} cancels answered (${record.cancels.filter((cancel) => cancel.outcome === 'canceled').length} canceled)`,
    `webhooks: ${receiptStatuses.length} deliveries received (${receiptStatuses.filter((status) => status === 500).length} answered 500 on purpose)`,
    `API: ${api.calls.length} calls; ${count(statuses)}; slowest ${(slowest / 1000).toFixed(1)} s (deadline ${api.deadlineMs / 1000} s)`,
    `API verdicts: ${count(verdicts as Map<string, number>)}`,
  ];
}
