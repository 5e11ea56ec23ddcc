/**
 * `npm run bench:webhooks`: N events delivered to a local no-op receiver through the real
 * outbox relay, dispatch and delivery workflows (Temporal dev server, Postgres, signed POSTs), beside a bare
 * `fetch` loop posting the same body at the same concurrency, in the same run. Prints
 * deliveries/second for both, their ratio (target ≥ 0.5×) and the p95 from event commit to first
 * attempt (target < 1 s).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildEndpoint, buildEvent, buildMerchant } from '../dev/fixtures';
import { queueDeliveries } from '../src/webhooks/deliveries';
import { startBenchStack } from './harness';

const N = Number(process.env.BENCH_EVENTS ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);

async function main(): Promise<void> {
  const arrivals = new Map<string, number>();
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      if (typeof id === 'string' && !arrivals.has(id)) arrivals.set(id, Date.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const taskQueue = 'bench-webhooks';
  const stack = await startBenchStack({ taskQueue, workflowsPath: require.resolve('../src/workflows') });
  const { db } = stack;
  const merchant = await buildMerchant(db, 'Bench');
  const tenant = { merchantId: merchant.merchant_id, livemode: false };
  await buildEndpoint(db, tenant, { url });

  const committed = new Map<string, number>();
  const deliverEvent = async (i: number) => {
    // Written and queued in one transaction, as the API does; the relay starts its dispatch at commit.
    const event = await db.transaction().execute(async (transaction) => {
      const written = await buildEvent(transaction, tenant, { data: { id: `cus_${i}`, object: 'customer' } });
      await queueDeliveries(transaction, written.id);
      return written;
    });
    committed.set(event.id, Date.now());
  };
  const inParallel = async (count: number, run: (i: number) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < count) await run(next++);
      }),
    );
  };
  const waitForArrivals = async (count: number) => {
    while (arrivals.size < count) await new Promise((resolve) => setTimeout(resolve, 20));
  };

  await inParallel(20, deliverEvent); // warm-up
  await waitForArrivals(20);
  arrivals.clear();
  committed.clear();

  // Unloaded: one event at a time, the latency a merchant sees on a quiet system.
  for (let i = 0; i < 20; i++) {
    await deliverEvent(100 + i);
    await waitForArrivals(i + 1);
  }
  const quiet = [...committed].map(([id, at]) => arrivals.get(id)! - at).sort((a, b) => a - b);
  arrivals.clear();
  committed.clear();

  const started = Date.now();
  await inParallel(N, (i) => deliverEvent(1_000 + i));
  await waitForArrivals(N);
  const workflowRate = N / ((Date.now() - started) / 1000);
  const firstAttempt = [...committed].map(([id, at]) => arrivals.get(id)! - at).sort((a, b) => a - b);
  const p = (q: number) => firstAttempt[Math.min(firstAttempt.length - 1, Math.floor(q * firstAttempt.length))]!;

  const body = JSON.stringify({ id: 'evt_bare', object: 'event', event: 'customer.created', data: { id: 'cus_0' } });
  const bareStarted = Date.now();
  await inParallel(N, async () => (await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } })).arrayBuffer());
  const bareRate = N / ((Date.now() - bareStarted) / 1000);

  console.log(`${N} events, ${CONCURRENCY} in flight, Temporal dev server (SQLite in memory), embedded Postgres, local no-op receiver`);
  console.log(`through the workflows  ${workflowRate.toFixed(1).padStart(8)} deliveries/s   commit→first attempt p50 ${p(0.5)} ms  p95 ${p(0.95)} ms`);
  console.log(`one event at a time      commit→first attempt p50 ${quiet[10]} ms  p95 ${quiet[19]} ms`);
  console.log(`bare fetch loop        ${bareRate.toFixed(1).padStart(8)} requests/s`);
  const ratio = workflowRate / bareRate;
  console.log(
    `ratio ${ratio.toFixed(3)}× — target ≥ 0.50×: ${ratio >= 0.5 ? 'met' : 'NOT met'}; first-attempt p95 < 1 s: ${p(0.95) < 1000 ? 'met' : 'NOT met'}`,
  );

  await stack.stop();
  receiver.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
