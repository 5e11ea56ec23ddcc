/**
 * `npm run bench:api [-- --rounds N]`: the real app on a real Postgres (embedded, throw-away) and
 * no Temporal at all (the API queues workflow starts in Postgres; nothing here needs a server to
 * take them, so there is no --temporal flag):
 *   1. POST /api/v1/customers, closed loop: throughput and latency percentiles, best of the rounds;
 *   2. GET /api/v1/deposits?limit=10 beside a Koa hello-world in the same process and run: each
 *      one's peak (closed loop, both warmed alike, best of interleaved rounds), their ratio, then
 *      each at 70 % of its own peak (open loop, a request every 1/rate s whatever the answers do)
 *      for its p99.
 * The load generator shares the process (and the machine's two cores) with the servers, so the
 * figures are a floor, and the ratio is the honest comparison.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { buildCustomer, buildTransfer, staticPrices, testSecretKeyHex } from '../dev/fixtures';
import { InflowStack } from '../dev/stack';
import { AddressDeriver, generateMnemonic, xpubsFromMnemonic } from '../src/chains/derivation';
import { recordDetectedDeposit } from '../src/deposits/transitions';
import { defaultRateLimits } from '../src/domain/rate-limits';
import { developmentWebhookPolicy } from '../src/webhooks/deliveries';
import { benchLog } from './log';
import { bestOfRounds, closedLoop, formatBest, formatPercentiles, openLoop, percentile, printHeader, ResultTable, roundsFlag, type Measured } from './measure';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4_000);
const OPEN_LOOP_SECONDS = Number(process.env.BENCH_OPEN_LOOP_SECONDS ?? 10);
const LOAD_FRACTION = 0.7;

type Send = (i: number) => Promise<void>;

/** A latency percentile in ms, one decimal. */
const ms = (round: Measured, percent: number) => percentile(round, percent).toFixed(1);

async function main(): Promise<void> {
  const rounds = roundsFlag();
  printHeader(`${REQUESTS} requests a round, best of ${rounds} rounds, ${CONCURRENCY} concurrent; open loop ${OPEN_LOOP_SECONDS} s; no Temporal`);
  // A Temporal address where nothing listens: the API must not need it for anything measured here.
  const stack = await InflowStack.create({
    log: benchLog,
    label: 'bench',
    pool: 20,
    temporal: 'none',
    env: { INFLOW_SECRET_KEY: testSecretKeyHex },
    merchant: 'Bench',
    api: {
      deps: {
        derivers: { test: new AddressDeriver(xpubsFromMnemonic(generateMnemonic())), live: new AddressDeriver(xpubsFromMnemonic(generateMnemonic())) },
        taskQueue: 'unused',
        webhookPolicy: developmentWebhookPolicy,
        prices: staticPrices(),
        // The limiter runs (its statement is part of what is measured) but never refuses the load: the
        // open loop has more than CONCURRENCY requests in flight whenever the server falls behind.
        rateLimits: { ...defaultRateLimits, reads: 1_000_000, writes: 1_000_000, concurrentRequestsPerKey: 100_000, concurrentWritesPerMerchant: 100_000 },
      },
    },
  });
  const { db } = stack;
  const merchant = stack.merchant!;
  const { test_key } = merchant;
  const hello = new Koa().use((ctx) => {
    ctx.body = { hello: 'world' };
  });
  const helloServer: Server = hello.listen(0, '127.0.0.1');
  await new Promise((resolve) => helloServer.once('listening', resolve));
  const base = `${stack.apiUrl}/api/v1`;
  const headers = { Authorization: `Bearer ${test_key}`, 'Content-Type': 'application/json' };

  const createCustomer: Send = async (i) => {
    const response = await fetch(`${base}/customers`, {
      method: 'POST',
      headers: { ...headers, 'Idempotency-Key': `bench-${i}` },
      body: JSON.stringify({ email: `user${i}@example.com`, external_id: `u${i}`, metadata: { i: String(i) } }),
    });
    await expectOk(response, `POST /customers ${i}`);
  };
  const listDeposits: Send = async (i) => expectOk(await fetch(`${base}/deposits?limit=10`, { headers }), `GET /deposits ${i}`);
  const helloUrl = `http://127.0.0.1:${(helloServer.address() as AddressInfo).port}/`;
  const helloWorld: Send = async (i) => expectOk(await fetch(helloUrl), `hello ${i}`);

  // Each round its own Idempotency-Keys (by index), so every request is a new customer.
  let written = 0;
  const { writes } = await bestOfRounds(rounds, {
    writes: {
      warmUp: () => closedLoop(200, CONCURRENCY, createCustomer, -1_000_000),
      round: async () => {
        written += REQUESTS;
        return closedLoop(REQUESTS, CONCURRENCY, createCustomer, written);
      },
    },
  });

  benchLog('seeding 1000 deposits for the reads');
  const owner = await buildCustomer(db, { merchant });
  for (let i = 0; i < 1_000; i++) await recordDetectedDeposit(db, buildTransfer(owner, { amount: `${i + 1}.25` }));

  const { reads: readsPeak, hello: helloPeak } = await bestOfRounds(rounds, {
    reads: { warmUp: () => closedLoop(500, CONCURRENCY, listDeposits), round: () => closedLoop(REQUESTS, CONCURRENCY, listDeposits) },
    hello: { warmUp: () => closedLoop(500, CONCURRENCY, helloWorld), round: () => closedLoop(REQUESTS, CONCURRENCY, helloWorld) },
  });
  benchLog(`each at ${LOAD_FRACTION * 100} % of its peak for ${OPEN_LOOP_SECONDS} s`);
  const readsAt70 = await openLoop(readsPeak.rate * LOAD_FRACTION, OPEN_LOOP_SECONDS, listDeposits);
  const helloAt70 = await openLoop(helloPeak.rate * LOAD_FRACTION, OPEN_LOOP_SECONDS, helloWorld);

  console.log(`POST /api/v1/customers, each with an Idempotency-Key; GET /api/v1/deposits?limit=10 (1000 deposits) beside a Koa hello-world, same process`);
  const table = new ResultTable(['inflow', 'Koa hello-world']);
  table.set('POST /customers: req/s, best (other rounds)', 'inflow', formatBest(writes));
  table.set('POST /customers: p50 / p95 / p99 ms', 'inflow', formatPercentiles(writes));
  for (const [column, peak, at70] of [
    ['inflow', readsPeak, readsAt70],
    ['Koa hello-world', helloPeak, helloAt70],
  ] as const) {
    table.set(`GET: peak req/s (${CONCURRENCY} concurrent), best (other rounds)`, column, formatBest(peak));
    table.set(`GET at ${LOAD_FRACTION * 100} % of its peak: offered / achieved req/s`, column, `${at70.offered.toFixed(0)} / ${at70.rate.toFixed(0)}`);
    table.set(`GET at ${LOAD_FRACTION * 100} % of its peak: p50 / p99 ms`, column, `${ms(at70, 50)} / ${ms(at70, 99)}`);
  }
  table.set('GET peak ÷ hello-world peak', 'inflow', `${(readsPeak.rate / helloPeak.rate).toFixed(3)}×`);
  table.print();

  helloServer.close();
  await stack.close();
}

async function expectOk(response: Response, what: string): Promise<void> {
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
