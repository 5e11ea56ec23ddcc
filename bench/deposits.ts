/**
 * `npm run bench:deposits`: N deposits end to end on a Temporal dev server and a real Postgres,
 * each started as the API would and confirmed by 12 reports sent as fast as a watcher could, beside
 * a baseline workflow with the same signals and the same number of (empty) activities. Prints
 * deposits per second, start-to-completed p50/p95, the history length of one deposit, and the ratio
 * to the baseline (target ≥ 0.5×).
 */
import { confirmationSignal, depositWorkflowId, type Workflows } from '../src/workflows/definitions';
import { buildCustomer, buildTransfer } from '../dev/fixtures';
import { startBenchStack } from './harness';
import type { baselineWorkflow } from './workflows';

const N = Number(process.env.BENCH_DEPOSITS ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const CONFIRMATIONS = 12;

async function main(): Promise<void> {
  const taskQueue = 'bench-deposits';
  const stack = await startBenchStack({ taskQueue, workflowsPath: require.resolve('./workflows'), extraActivities: { noop: async () => undefined } });
  const { db, client } = stack;
  const seeded = await buildCustomer(db);

  const confirm = async (workflowId: string) => {
    const handle = client.workflow.getHandle(workflowId);
    for (let confirmations = 1; confirmations <= CONFIRMATIONS; confirmations++) {
      await handle.signal(confirmationSignal, { confirmations, blockHash: '0xbench', canonical: true });
    }
    await handle.result();
  };

  const deposit = async (i: number) => {
    const transfer = buildTransfer(seeded, { amount: `${i + 1}.5`, requiredConfirmations: CONFIRMATIONS });
    const workflowId = depositWorkflowId(transfer);
    // Started directly rather than through workflows/client.ts, for one benchmark-only input: no
    // reversal window, so the workflow ends at completion and its result marks "completed".
    await client.workflow.start<Workflows['depositWorkflow']>('depositWorkflow', { taskQueue, workflowId, args: [{ transfer, reversalWindow: 0 }] });
    await confirm(workflowId);
    return workflowId;
  };

  const baseline = async (i: number) => {
    const workflowId = `baseline-${i}-${Date.now()}`;
    await client.workflow.start<typeof baselineWorkflow>('baselineWorkflow', { taskQueue, workflowId, args: [{ requiredConfirmations: CONFIRMATIONS }] });
    await confirm(workflowId);
    return workflowId;
  };

  const measure = async (label: string, run: (i: number) => Promise<string>) => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => run(N + i))); // warm-up
    const latencies: number[] = [];
    let next = 0;
    let lastId = '';
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) {
          const i = next++;
          const t = performance.now();
          lastId = await run(i);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const rate = N / ((performance.now() - started) / 1000);
    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(0);
    const history = await client.workflow.getHandle(lastId).fetchHistory();
    console.log(
      `${label.padEnd(10)} ${rate.toFixed(1).padStart(7)} /s   start→completed p50 ${p(0.5)} ms  p95 ${p(0.95)} ms   history ${history.events?.length} events`,
    );
    return rate;
  };

  console.log(
    `${N} workflows, ${CONCURRENCY} in flight, ${CONFIRMATIONS} confirmation signals each, Temporal dev server (SQLite in memory), embedded Postgres`,
  );
  const depositRate = await measure('deposits', deposit);
  const baselineRate = await measure('baseline', baseline);
  const ratio = depositRate / baselineRate;
  console.log(`ratio deposits/baseline: ${ratio.toFixed(2)}× — target ≥ 0.50×: ${ratio >= 0.5 ? 'met' : 'NOT met'}`);
  const { rows } = await db
    .selectFrom('deposits')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('status', '=', 'completed')
    .execute()
    .then((r) => ({ rows: r }));
  console.log(`completed deposits in Postgres: ${rows[0]!.count}`);

  await stack.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
