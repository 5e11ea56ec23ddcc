/**
 * `npm run bench:webhooks [-- --temporal dev|server|both] [--rounds N]`: events delivered to a
 * local no-op receiver through the real outbox relay, which makes each first attempt itself and
 * would start a delivery workflow only for one that failed (Postgres, signed POSTs), on each engine
 * in turn (the Temporal dev server, SQLite in memory; the real server on a Postgres of its own). On each:
 *   1. closed loop, beside a bare `fetch` loop posting the same body at the same concurrency: each
 *      of CONCURRENCY slots commits an event and waits for its first attempt to reach the receiver
 *      before the next, as each fetch waits for its answer. Both warmed alike, best of the rounds.
 *      Target: ≥ 0.5× the bare loop;
 *   2. one event at a time: the commit→first-attempt latency a merchant sees on a quiet system;
 *   3. open loop: an event committed every 1/OFFERED_RATE s (100/s) for OPEN_LOOP_SECONDS whatever
 *      the deliveries do, commit→first-attempt percentiles. Target: p95 < 1 s;
 *   4. the delivery workflows a delivery whose first attempt succeeded started (target 0).
 * The worker and its relay run in a process of their own, as `npm run worker` does beside the API
 * that commits the events; this process commits them and runs the receiver.
 * Prints one table, a column per engine. The defaults send, per engine, 3 rounds × 300 events and
 * as many bare requests, then 1,000 events in the open loop: a few minutes while the system keeps up
 * with 100/s, longer when the open loop must drain a backlog (a busy 2-core machine delivered 5 to
 * 30/s; there, use BENCH_EVENTS=50 BENCH_OPEN_LOOP_SECONDS=3 to check the script).
 */
import os from 'node:os';
import { buildEndpoint, buildMerchant } from '../dev/fixtures';
import type { Db } from '../src/db/database';
import { emit } from '../src/events/emitter';
import { webhookDeliveryWorkflowId } from '../src/workflows/definitions';
import { withBenchStack } from './harness';
import { benchLog } from './log';
import {
  bestOfRounds,
  closedLoop,
  enginesFlag,
  engineLabels,
  formatBest,
  formatPercentiles,
  onEachEngine,
  openLoop,
  percentile,
  printHeader,
  ResultTable,
  roundsFlag,
  verdict,
} from './measure';
import { startLoopbackReceiver } from './receiver';
import { cpuShares, cpuSnapshot, describeLimit, formatShares } from './cpu';

const N = Number(process.env.BENCH_EVENTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 20);
const QUIET_EVENTS = 20;
const OFFERED_RATE = Number(process.env.BENCH_OFFERED_RATE ?? 100);
const OPEN_LOOP_SECONDS = Number(process.env.BENCH_OPEN_LOOP_SECONDS ?? 10);
const RATIO_TARGET = 0.5;
const P95_TARGET_MS = 1_000;
/** How long an event's first attempt may take before the run fails rather than hangs. */
const ARRIVAL_TIMEOUT_MS = 120_000;

type Tenant = { merchantId: string; livemode: boolean };

/**
 * An event emitted as the API emits a customer's (events/emitter.ts): written with its delivery,
 * queued in one transaction; the relay makes the first attempt at commit.
 */
async function commitEvent(db: Db, tenant: Tenant, i: number): Promise<string> {
  const { eventId } = await emit(db, 'customer.created', { merchant_id: tenant.merchantId, livemode: tenant.livemode }, { id: `cus_${i}`, object: 'customer' });
  return eventId;
}

/** The id of the workflow delivering an event to an endpoint the first time. */
function deliveryWorkflowIdOf(eventId: string, endpointId: string, tenant: Tenant): string {
  return webhookDeliveryWorkflowId(
    { deliveryId: '', eventId, destinationId: endpointId, destinationType: 'endpoint', eventType: 'customer.created', merchantId: tenant.merchantId },
    false,
  );
}

async function main(): Promise<void> {
  const engines = enginesFlag();
  const rounds = roundsFlag();
  printHeader(
    `closed loop: ${N} events a round, best of ${rounds} rounds after ${WARM_UP} to warm up, ${CONCURRENCY} in flight; ` +
      `open loop: ${OFFERED_RATE}/s offered for ${OPEN_LOOP_SECONDS} s; inflow on an embedded Postgres; one in-process worker; local no-op receiver`,
  );
  const table = new ResultTable(engines.map((engine) => engineLabels[engine]));
  // Every request answered 204; the first arrival of each webhook-id kept.
  const receiver = await startLoopbackReceiver('/hook', ({ headers, at }) => {
    const id = headers['webhook-id'];
    return typeof id === 'string' ? { key: id, arrival: at } : undefined;
  });
  let sequence = 0;
  const limits: string[] = [];
  try {
    await onEachEngine(engines, async (engine) => {
      const column = engineLabels[engine];
      await withBenchStack(
        { engine, taskQueue: 'bench-webhooks', workflowsPath: require.resolve('../src/workflows'), workerProcesses: 1 },
        async ({ db, client, parts }) => {
          const merchant = await buildMerchant(db, 'Bench');
          const tenant = { merchantId: merchant.merchant_id, livemode: false };
          const endpoint = await buildEndpoint(db, tenant, { url: receiver.url });

          /** One event committed, then its first attempt awaited: commit→first attempt in ms. */
          const deliverOne = async () => {
            const eventId = await commitEvent(db, tenant, sequence++);
            const committed = performance.now();
            return (await receiver.arrivalOf(eventId, ARRIVAL_TIMEOUT_MS)) - committed;
          };
          const body = JSON.stringify({ id: 'evt_bare', object: 'event', event: 'customer.created', data: { id: 'cus_0' } });
          const bareFetch = async () => {
            await (await fetch(receiver.url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } })).arrayBuffer();
          };
          /** A closed-loop round, with where the CPU went: this process (load, receiver), the worker process (its relay), Temporal, each Postgres. */
          const measuredRound = (one: () => Promise<unknown>) => async () => {
            const before = cpuSnapshot(parts);
            const wallStarted = performance.now();
            const result = await closedLoop(N, CONCURRENCY, one);
            return { ...result, cpu: cpuShares(before, cpuSnapshot(parts), (performance.now() - wallStarted) / 1000) };
          };
          const { workflows, bare } = await bestOfRounds(rounds, {
            workflows: { warmUp: () => closedLoop(WARM_UP, CONCURRENCY, deliverOne), round: measuredRound(deliverOne) },
            bare: { warmUp: () => closedLoop(WARM_UP, CONCURRENCY, bareFetch), round: measuredRound(bareFetch) },
          });
          const ratio = workflows.rate / bare.rate;
          table.set('through the relay, deliveries/s, best (other rounds)', column, formatBest(workflows));
          table.set('  closed loop: commit→first attempt p50 / p95 / p99 ms', column, formatPercentiles(workflows));
          table.set('bare fetch loop, requests/s, best (other rounds)', column, formatBest(bare));
          table.set(`ratio relay/bare (target ≥ ${RATIO_TARGET.toFixed(2)}×)`, column, `${ratio.toFixed(3)}× ${verdict(ratio >= RATIO_TARGET)}`);
          table.set('CPU in the best workflows round (% of one core)', column, formatShares(workflows.cpu));
          limits.push(`${column}: ${describeLimit(workflows.cpu)}`);

          benchLog(`one event at a time, ${QUIET_EVENTS} events`);
          const quiet = await closedLoop(QUIET_EVENTS, 1, deliverOne);
          table.set('one event at a time: commit→first attempt p50 / p95 ms', column, formatPercentiles(quiet, [50, 95]));

          benchLog(`open loop: ${OFFERED_RATE} events/s for ${OPEN_LOOP_SECONDS} s`);
          const open = await openLoop(OFFERED_RATE, OPEN_LOOP_SECONDS, deliverOne);
          const p95 = percentile(open, 95);
          table.set(`open loop at ${OFFERED_RATE}/s offered: achieved deliveries/s`, column, open.rate.toFixed(1));
          table.set('  open loop: commit→first attempt p50 / p95 / p99 ms', column, formatPercentiles(open));
          table.set(`  p95 < ${P95_TARGET_MS} ms`, column, verdict(p95 < P95_TARGET_MS));

          // The receiver answers 204 to every request, so each delivery succeeded at its first attempt:
          // once the relay has handed it over (its row gone), no workflow of it may exist.
          const eventId = await commitEvent(db, tenant, sequence++);
          await receiver.arrivalOf(eventId, ARRIVAL_TIMEOUT_MS);
          const workflowId = deliveryWorkflowIdOf(eventId, endpoint.id, tenant);
          while (await db.selectFrom('workflow_outbox').select('workflow_id').where('workflow_id', '=', workflowId).executeTakeFirst())
            await new Promise((resolve) => setTimeout(resolve, 50));
          const started = await client.workflow
            .getHandle(workflowId)
            .describe()
            .then(
              () => 1,
              () => 0,
            );
          table.set('delivery workflows started per delivery, first attempt 2xx (target 0)', column, `${started} ${verdict(started === 0)}`);
        },
      );
    });
  } finally {
    await receiver.close();
  }
  console.log('');
  table.print();
  console.log(`what limits the rate (${os.cpus().length} cores, so ${os.cpus().length * 100} % is the whole machine):`);
  for (const line of limits) console.log(`  ${line}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
