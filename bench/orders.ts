/**
 * `npm run bench:orders`: N deposit orders end to end on a Temporal dev server and a real Postgres,
 * each created through the real service (createOrder) with a callback URL on a local receiver, its
 * order workflow started as the API starts it, and paid in full by one simulated deposit confirmed
 * by 12 reports sent as fast as a watcher could. Beside it, in the same run, the same N plain
 * deposits measured as `bench:deposits` measures them. Prints orders per second, create→callback
 * p50/p95 (from just before the order is created to the signed CryptoPayments callback reaching the
 * receiver), deposits per second, and the ratio orders/deposits.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildCustomer, buildMerchant, buildOrder, buildOrderTransfer, buildTransfer } from '../dev/fixtures';
import { CALLBACK_SIGNATURE_HEADER, callbackSignature } from '../src/orders/callback';
import { confirmationSignal, depositWorkflowId, orderWorkflowId, type Workflows } from '../src/workflows/definitions';
import { startBenchStack, type BenchStack } from './harness';
import { benchLog } from './log';

const N = Number(process.env.BENCH_ORDERS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const CONFIRMATIONS = 12;
const WARM_UP = 20;
/** How long an order's callback may take once its payment has completed before the run fails. */
const CALLBACK_TIMEOUT_MS = 60_000;

/** One callback as the receiver saw it: when (performance.now()), under which event id, and whether its signature holds. */
interface Arrival {
  at: number;
  eventId: string | undefined;
  status: unknown;
  signed: boolean;
}

/** A loopback HTTP receiver answering 204, recording each order's first callback by the order id in its body. */
async function startReceiver(apiKey: () => string) {
  const arrivals = new Map<string, Arrival>();
  const waiters = new Map<string, (arrival: Arrival) => void>();
  const counts = { received: 0, duplicates: 0, unreadable: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      res.writeHead(204).end();
      counts.received++;
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: { id?: unknown; status?: unknown };
      try {
        body = JSON.parse(rawBody) as typeof body;
      } catch {
        counts.unreadable++;
        return;
      }
      if (typeof body.id !== 'string') {
        counts.unreadable++;
        return;
      }
      if (arrivals.has(body.id)) {
        counts.duplicates++;
        return;
      }
      const eventId = req.headers['webhook-id'];
      const arrival: Arrival = {
        at,
        eventId: typeof eventId === 'string' ? eventId : undefined,
        status: body.status,
        signed: req.headers[CALLBACK_SIGNATURE_HEADER] === callbackSignature(rawBody, apiKey()),
      };
      arrivals.set(body.id, arrival);
      waiters.get(body.id)?.(arrival);
      waiters.delete(body.id);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    arrivals,
    counts,
    /** The order's callback: at once if it has arrived, else when it does, or a rejection after `timeoutMs`. */
    callbackOf(orderId: string, timeoutMs: number): Promise<Arrival> {
      const arrived = arrivals.get(orderId);
      if (arrived) return Promise.resolve(arrived);
      return new Promise<Arrival>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(orderId);
          reject(new Error(`no callback for ${orderId} within ${timeoutMs} ms of its payment completing`));
        }, timeoutMs);
        waiters.set(orderId, (arrival) => {
          clearTimeout(timer);
          resolve(arrival);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What the database and Temporal know of an order whose callback did not come: for the error message. */
async function diagnose(stack: BenchStack, orderId: string): Promise<string> {
  const order = await stack.db.selectFrom('orders').select(['status', 'late', 'callback_url']).where('id', '=', orderId).executeTakeFirst();
  const deliveries = await stack.db
    .selectFrom('webhook_deliveries')
    .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
    .leftJoin('webhook_attempts', 'webhook_attempts.delivery_id', 'webhook_deliveries.id')
    .select(['events.type', 'webhook_deliveries.status', 'webhook_attempts.attempt_number', 'webhook_attempts.status_code', 'webhook_attempts.error'])
    .where('webhook_deliveries.order_id', '=', orderId)
    .execute();
  const workflow = await stack.client.workflow
    .getHandle(orderWorkflowId({ livemode: false, orderId }))
    .describe()
    .then((description) => description.status.name)
    .catch((error: unknown) => `not described (${String(error)})`);
  return `order ${JSON.stringify(order)}, order workflow ${workflow}, callback deliveries ${JSON.stringify(deliveries)}`;
}

async function main(): Promise<void> {
  let apiKey = '';
  const receiver = await startReceiver(() => apiKey);
  const taskQueue = 'bench-orders';
  let stack: BenchStack | undefined;
  try {
    stack = await startBenchStack({ taskQueue, workflowsPath: require.resolve('../src/workflows') });
    await run(stack, receiver, taskQueue, (key) => (apiKey = key));
  } finally {
    await stack?.stop();
    await receiver.close();
  }
}

async function run(stack: BenchStack, receiver: Awaited<ReturnType<typeof startReceiver>>, taskQueue: string, useApiKey: (key: string) => void) {
  const { db, client } = stack;
  const seeded = await buildCustomer(db);
  const merchant = await buildMerchant(db, 'Bench Orders');
  useApiKey(merchant.test_key);
  const tenant = { merchantId: merchant.merchant_id, livemode: false };

  const confirm = async (workflowId: string) => {
    const handle = client.workflow.getHandle(workflowId);
    for (let confirmations = 1; confirmations <= CONFIRMATIONS; confirmations++) {
      await handle.signal(confirmationSignal, { confirmations, blockHash: '0xbench', canonical: true });
    }
    await handle.result();
  };

  // Started directly rather than through workflows/client.ts, as bench:deposits does, for one
  // benchmark-only input: no reversal window, so the workflow ends at completion.
  const startDeposit = async (transfer: ReturnType<typeof buildTransfer>) => {
    const workflowId = depositWorkflowId(transfer);
    await client.workflow.start<Workflows['depositWorkflow']>('depositWorkflow', { taskQueue, workflowId, args: [{ transfer, reversalWindow: 0 }] });
    return workflowId;
  };

  /** One plain deposit, as bench:deposits runs it; resolves to start→completed in ms. */
  const deposit = async (i: number) => {
    const started = performance.now();
    await confirm(await startDeposit(buildTransfer(seeded, { amount: `${i + 1}.5`, requiredConfirmations: CONFIRMATIONS })));
    return performance.now() - started;
  };

  const orderIds: string[] = [];
  /** One order, created, started, paid in full and called back; resolves to create→callback in ms. */
  const payOrder = async () => {
    const started = performance.now();
    // Its workflow is queued with it and started by the relay, as POST /orders does.
    const { order } = await buildOrder(db, tenant, { amount: '100', callback_url: receiver.url });
    orderIds.push(order.id);
    await confirm(await startDeposit(buildOrderTransfer(tenant, order, { amount: '100', requiredConfirmations: CONFIRMATIONS })));
    try {
      return (await receiver.callbackOf(order.id, CALLBACK_TIMEOUT_MS)).at - started;
    } catch (error) {
      throw new Error(`${(error as Error).message}: ${await diagnose(stack, order.id)}`);
    }
  };

  const measure = async (label: string, one: (i: number) => Promise<number>) => {
    benchLog(`${label}: ${WARM_UP} to warm up`);
    await Promise.all(Array.from({ length: WARM_UP }, (_, i) => one(N + i)));
    benchLog(`${label}: ${N}, ${CONCURRENCY} in flight`);
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) latencies.push(await one(next++));
      }),
    );
    const rate = N / ((performance.now() - started) / 1000);
    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(0);
    return { rate, p50: p(0.5), p95: p(0.95) };
  };

  const deposits = await measure('deposits', deposit);
  const orders = await measure('orders', payOrder);

  const completed = await db
    .selectFrom('orders')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('merchant_id', '=', tenant.merchantId)
    .where('status', '=', 'completed')
    .executeTakeFirstOrThrow();
  const callbacks = orderIds.map((id) => receiver.arrivals.get(id)!);
  const unsigned = callbacks.filter((arrival) => !arrival.signed).length;
  const notCompleted = callbacks.filter((arrival) => arrival.status !== 'completed').length;
  const withoutEventId = callbacks.filter((arrival) => !arrival.eventId).length;

  console.log(
    `${N} orders and ${N} deposits (after ${WARM_UP} of each to warm up), ${CONCURRENCY} in flight, ${CONFIRMATIONS} confirmation signals each, ` +
      `Temporal dev server (SQLite in memory), embedded Postgres, callbacks to a loopback receiver`,
  );
  console.log(`deposits ${deposits.rate.toFixed(1).padStart(7)} /s   start→completed p50 ${deposits.p50} ms  p95 ${deposits.p95} ms`);
  console.log(`orders   ${orders.rate.toFixed(1).padStart(7)} /s   create→callback p50 ${orders.p50} ms  p95 ${orders.p95} ms`);
  console.log(`ratio orders/deposits: ${(orders.rate / deposits.rate).toFixed(2)}×`);
  console.log(
    `callbacks: ${callbacks.length} for ${orderIds.length} orders (${completed.count} completed in Postgres); ` +
      `${unsigned} with a bad ${CALLBACK_SIGNATURE_HEADER}, ${notCompleted} not "completed", ${withoutEventId} without webhook-id, ` +
      `${receiver.counts.duplicates} repeated, ${receiver.counts.unreadable} unreadable`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
