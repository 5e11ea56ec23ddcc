/**
 * `npm run bench:orders [-- --temporal dev|server|both] [--rounds N]`: N deposit orders end to end
 * on Temporal and a real Postgres, each created through the real service (createOrder) with a
 * callback URL on a local receiver, its order workflow started as the API starts it, and paid in
 * full by one simulated deposit confirmed by 12 reports sent as fast as a watcher could. Beside
 * it, its baseline: the same N plain deposits measured as `bench:deposits` measures them. On each
 * engine in turn (the Temporal dev server, SQLite in memory; the real server on a Postgres of its
 * own), both warmed alike, best of the rounds. Prints one table, a column per engine: orders per
 * second, create→callback percentiles (from just before the order is created to the signed
 * CryptoPayments callback reaching the receiver), deposits per second, and the ratio
 * orders/deposits. The defaults run, per engine, 3 rounds × 200 of each (some 3 minutes at 10
 * orders/s; a busy 2-core machine managed 2 to 4/s, where BENCH_ORDERS=20 checks the script).
 */
import { buildCustomer, buildMerchant, buildOrder, buildOrderTransfer, buildTransfer } from '../dev/fixtures';
import { CALLBACK_SIGNATURE_HEADER, callbackSignature } from '../src/orders/callback';
import { orderWorkflowId } from '../src/workflows/definitions';
import { CONFIRMATIONS, confirmAsWatcher, startBenchDeposit, withBenchStack, type BenchStack } from './harness';
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
} from './measure';
import { startLoopbackReceiver } from './receiver';

const N = Number(process.env.BENCH_ORDERS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 20);
/** How long an order's callback may take once its payment has completed before the run fails. */
const CALLBACK_TIMEOUT_MS = 60_000;

/** One callback as the receiver saw it: when (performance.now()), under which event id, and whether its signature holds. */
interface Arrival {
  at: number;
  eventId: string | undefined;
  status: unknown;
  signed: boolean;
}

/** The receiver of the orders' callbacks: each order's first, by the order id in its body, with its signature checked. */
async function startReceiver(apiKey: () => string) {
  const unreadable = { count: 0 };
  const receiver = await startLoopbackReceiver<Arrival>('/callback', ({ headers, body: rawBody, at }) => {
    let body: { id?: unknown; status?: unknown } = {};
    try {
      body = JSON.parse(rawBody) as typeof body;
    } catch {
      // counted below
    }
    if (typeof body.id !== 'string') {
      unreadable.count++;
      return undefined;
    }
    const eventId = headers['webhook-id'];
    return {
      key: body.id,
      arrival: {
        at,
        eventId: typeof eventId === 'string' ? eventId : undefined,
        status: body.status,
        signed: headers[CALLBACK_SIGNATURE_HEADER] === callbackSignature(rawBody, apiKey()),
      },
    };
  });
  return { ...receiver, unreadable };
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
  const engines = enginesFlag();
  const rounds = roundsFlag();
  printHeader(
    `${N} orders and ${N} deposits a round, best of ${rounds} rounds after ${WARM_UP} of each to warm up, ${CONCURRENCY} in flight, ` +
      `${CONFIRMATIONS} confirmation signals each; inflow on an embedded Postgres; one in-process worker; callbacks to a loopback receiver`,
  );
  const table = new ResultTable(engines.map((engine) => engineLabels[engine]));
  let apiKey = '';
  const receiver = await startReceiver(() => apiKey);
  try {
    await onEachEngine(engines, (engine) =>
      withBenchStack({ engine, taskQueue: 'bench-orders', workflowsPath: require.resolve('../src/workflows') }, (stack) =>
        run(stack, receiver, rounds, engineLabels[engine], table, (key) => (apiKey = key)),
      ),
    );
  } finally {
    await receiver.close();
  }
  console.log('');
  table.print();
}

async function run(
  stack: BenchStack,
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  rounds: number,
  column: string,
  table: ResultTable,
  useApiKey: (key: string) => void,
) {
  const { db, client, taskQueue } = stack;
  const seeded = await buildCustomer(db);
  const merchant = await buildMerchant(db, 'Bench Orders');
  useApiKey(merchant.test_key);
  // This engine's counts alone.
  Object.assign(receiver.counts, { received: 0, repeated: 0 });
  receiver.unreadable.count = 0;
  const tenant = { merchantId: merchant.merchant_id, livemode: false };
  let started = 0;

  /** One plain deposit, as bench:deposits runs it. */
  const deposit = async () => {
    await confirmAsWatcher(
      client,
      await startBenchDeposit(client, taskQueue, buildTransfer(seeded, { amount: `${++started}.5`, requiredConfirmations: CONFIRMATIONS })),
    );
  };

  const orderIds: string[] = [];
  /** One order, created, started, paid in full and called back; resolves to create→callback in ms. */
  const payOrder = async () => {
    const createdAt = performance.now();
    // Its workflow is queued with it and started by the relay, as POST /orders does.
    const { order } = await buildOrder(db, tenant, { amount: '100', callback_url: receiver.url });
    orderIds.push(order.id);
    await confirmAsWatcher(
      client,
      await startBenchDeposit(client, taskQueue, buildOrderTransfer(tenant, order, { amount: '100', requiredConfirmations: CONFIRMATIONS })),
    );
    try {
      return (await receiver.arrivalOf(order.id, CALLBACK_TIMEOUT_MS)).at - createdAt;
    } catch (error) {
      throw new Error(`${(error as Error).message}: ${await diagnose(stack, order.id)}`);
    }
  };

  const { orders, deposits } = await bestOfRounds(rounds, {
    orders: { warmUp: () => closedLoop(WARM_UP, CONCURRENCY, payOrder), round: () => closedLoop(N, CONCURRENCY, payOrder) },
    deposits: { warmUp: () => closedLoop(WARM_UP, CONCURRENCY, deposit), round: () => closedLoop(N, CONCURRENCY, deposit) },
  });

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

  table.set('orders/s, best (other rounds)', column, formatBest(orders));
  table.set('order create→callback p50 / p95 / p99 ms', column, formatPercentiles(orders));
  table.set('deposits/s, best (other rounds)', column, formatBest(deposits));
  table.set('deposit start→completed p50 / p95 / p99 ms', column, formatPercentiles(deposits));
  table.set('ratio orders/deposits', column, `${(orders.rate / deposits.rate).toFixed(2)}×`);
  table.set('callbacks: received / orders (completed in Postgres)', column, `${callbacks.length} / ${orderIds.length} (${completed.count})`);
  table.set(
    `callbacks: bad ${CALLBACK_SIGNATURE_HEADER} / not "completed" / no webhook-id / repeated / unreadable`,
    column,
    `${unsigned} / ${notCompleted} / ${withoutEventId} / ${receiver.counts.repeated} / ${receiver.unreadable.count}`,
  );
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
