/**
 * `npm run bench:deposits [-- --temporal dev|server|both] [--workers 1|2|both] [--rounds N]`: N
 * deposits end to end on Temporal and a real Postgres, each started as the API would and confirmed
 * by 12 reports sent as fast as a watcher could, beside a baseline workflow with the same signals
 * and the same number of (empty) activities, run by the same workers. For each engine (the dev
 * server, SQLite in memory; the real server on a Postgres of its own) and each number of worker
 * processes (1 or 2, each its own OS process as in production; 1 is a process too, so the two are
 * comparable), both are warmed alike and the best of the rounds is kept. Prints one table: deposits
 * per second, start→completed percentiles, the baseline, their ratio (target ≥ 0.5×), the history
 * length of one deposit run alone (target ≤ 40 events), and where the CPU went in the best round, then what
 * limits the rate. The defaults run 4 stacks × (2 × 20 warm-up + 3 rounds × 2 × 200) ≈ 5,000
 * workflows, plus about 20 s to start each real server: some 4 minutes at 25 workflows/s. A busy
 * 2-core machine managed 3 to 8 deposits/s; there, use BENCH_DEPOSITS=50 to check the script.
 */
import os from 'node:os';
import { buildCustomer, buildTransfer } from '../dev/fixtures';
import { cpuShares, cpuSnapshot, describeLimit, formatShares, type CpuUse } from './cpu';
import { confirmAsWatcher, historyLength, startBenchDeposit, withBenchStack, type BenchStack, CONFIRMATIONS } from './harness';
import {
  bestOfRounds,
  closedLoop,
  enginesFlag,
  engineLabels,
  formatBest,
  formatPercentiles,
  onEachEngine,
  printHeader,
  ResultTable,
  roundsFlag,
  verdict,
  workersFlag,
  type Measured,
  type Subject,
} from './measure';
import type { baselineWorkflow } from './workflows';

const N = Number(process.env.BENCH_DEPOSITS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 20);
const RATIO_TARGET = 0.5;
const HISTORY_TARGET = 40;

type Round = Measured & { cpu: CpuUse };

async function main(): Promise<void> {
  const engines = enginesFlag();
  const workerCounts = workersFlag();
  const rounds = roundsFlag();
  printHeader(
    `${N} workflows a round, best of ${rounds} rounds after ${WARM_UP} to warm up, ${CONCURRENCY} in flight, ${CONFIRMATIONS} confirmation signals each; ` +
      `inflow on an embedded Postgres; worker processes: ${workerCounts.join(' and ')}`,
  );
  const column = (engine: keyof typeof engineLabels, workers: number) => `${engineLabels[engine]}, ${workers} worker${workers > 1 ? 's' : ''}`;
  const table = new ResultTable(engines.flatMap((engine) => workerCounts.map((workers) => column(engine, workers))));
  const rates = new Map<string, number>();
  const limits: string[] = [];

  await onEachEngine(engines, async (engine) => {
    for (const workers of workerCounts) {
      const name = column(engine, workers);
      await withBenchStack({ engine, taskQueue: 'bench-deposits', workflowsPath: require.resolve('./workflows'), workerProcesses: workers }, async (stack) => {
        const { deposits, baseline, history } = await measure(stack, rounds);
        rates.set(name, deposits.rate);
        const ratio = deposits.rate / baseline.rate;
        table.set('deposits/s, best (other rounds)', name, formatBest(deposits));
        table.set('deposit start→completed p50 / p95 / p99 ms', name, formatPercentiles(deposits));
        table.set('baseline/s, best (other rounds)', name, formatBest(baseline));
        table.set('baseline start→completed p50 / p95 / p99 ms', name, formatPercentiles(baseline));
        table.set(`ratio deposits/baseline (target ≥ ${RATIO_TARGET.toFixed(2)}×)`, name, `${ratio.toFixed(2)}× ${verdict(ratio >= RATIO_TARGET)}`);
        table.set(`history events per deposit (target ≤ ${HISTORY_TARGET})`, name, `${history} ${verdict(history <= HISTORY_TARGET)}`);
        table.set('CPU in the best deposits round (% of one core)', name, formatShares(deposits.cpu));
        limits.push(`${name}: ${describeLimit(deposits.cpu)}`);
      });
    }
  });

  console.log('');
  table.print();
  console.log('');
  if (workerCounts.length === 2) {
    for (const engine of engines) {
      const [one, two] = workerCounts.map((workers) => rates.get(column(engine, workers)));
      if (one && two) console.log(`2 workers vs 1 on the ${engineLabels[engine]}: ${(two / one).toFixed(2)}× the rate`);
    }
  }
  console.log(`what limits the rate (${os.cpus().length} cores, so ${os.cpus().length * 100} % is the whole machine):`);
  for (const line of limits) console.log(`  ${line}`);
}

/** The deposits and the baseline on one stack, warmed alike, best of `rounds` interleaved rounds each. */
async function measure(stack: BenchStack, rounds: number) {
  const { db, client, parts, taskQueue } = stack;
  const seeded = await buildCustomer(db);
  let started = 0;

  const deposit = async () => {
    const transfer = buildTransfer(seeded, { amount: `${++started}.5`, requiredConfirmations: CONFIRMATIONS });
    const workflowId = await startBenchDeposit(client, taskQueue, transfer);
    await confirmAsWatcher(client, workflowId);
    return workflowId;
  };
  const baseline = async () => {
    const workflowId = `baseline-${++started}-${Date.now()}`;
    await client.workflow.start<typeof baselineWorkflow>('baselineWorkflow', { taskQueue, workflowId, args: [{ requiredConfirmations: CONFIRMATIONS }] });
    await confirmAsWatcher(client, workflowId);
    return workflowId;
  };

  const subject = (one: () => Promise<string>): Subject<Round> => ({
    warmUp: () => closedLoop(WARM_UP, CONCURRENCY, one),
    round: async (): Promise<Round> => {
      const before = cpuSnapshot(parts);
      const wallStarted = performance.now();
      const result = await closedLoop(N, CONCURRENCY, one);
      return { ...result, cpu: cpuShares(before, cpuSnapshot(parts), (performance.now() - wallStarted) / 1000) };
    },
  });
  const best = await bestOfRounds(rounds, { deposits: subject(deposit), baseline: subject(baseline) });
  // One deposit alone: under load, how signals happen to batch into workflow tasks changes the
  // count from one deposit to the next; alone, it is the same every run.
  const history = await historyLength(client, await deposit());
  return { ...best, history };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
