/**
 * `npm run bench:api`: the real app on a real Postgres (embedded, throw-away) and no Temporal at
 * all (the API queues workflow starts in Postgres; nothing here needs a server to take them):
 *   1. POST /api/v1/customers, closed loop: throughput and latency percentiles;
 *   2. GET /api/v1/deposits?limit=10 beside a Koa hello-world in the same process and run: each
 *      one's peak (closed loop), their ratio, then each at 70 % of its own peak (open loop, a
 *      request every 1/rate s whatever the answers do) for its p99.
 * The load generator shares the process (and the machine's two cores) with the servers, so the
 * figures are a floor, and the ratio is the honest comparison.
 */
import { mkdtemp } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import Koa from 'koa';
import { buildCustomer, buildMerchant, buildTransfer, staticPrices, testSecretKey } from '../dev/fixtures';
import { startEmbeddedPostgres } from '../dev/postgres';
import { freePort } from '../dev/tools/ports';
import { startApiServer, stopApiServer } from '../src/api/server';
import { AddressDeriver, generateMnemonic, xpubsFromMnemonic } from '../src/chains/derivation';
import { createDb } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { recordDetectedDeposit } from '../src/deposits/transitions';
import { createLogger } from '../src/logger';
import { benchLog } from './log';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4_000);
const OPEN_LOOP_SECONDS = Number(process.env.BENCH_OPEN_LOOP_SECONDS ?? 10);
const LOAD_FRACTION = 0.7;

type Send = (i: number) => Promise<void>;

async function main(): Promise<void> {
  const postgres = await startEmbeddedPostgres({
    dataDir: await mkdtemp(path.join(os.tmpdir(), 'inflow-bench-pg-')),
    port: await freePort(),
    persistent: false,
    log: benchLog,
  });
  const db = createDb(postgres.url('postgres'), { max: 20 });
  await migrateToLatest(db);
  const merchant = await buildMerchant(db, 'Bench');
  const { test_key } = merchant;
  // A Temporal address where nothing listens: the API must not need it for anything measured here.
  const connection = await Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  const server = await startApiServer(
    {
      db,
      temporal: new Client({ connection }),
      logger: createLogger('silent'),
      derivers: { test: new AddressDeriver(xpubsFromMnemonic(generateMnemonic())), live: new AddressDeriver(xpubsFromMnemonic(generateMnemonic())) },
      taskQueue: 'unused',
      webhookPolicy: { allowPrivateNetworksInLive: false, allowPrivateNetworksInTest: false },
      prices: staticPrices(),
      secretKey: testSecretKey,
      // The limiter runs (its statement is part of what is measured) but never refuses the load.
      rateLimits: { reads: 1_000_000, writes: 1_000_000, windowSeconds: 1, concurrentRequestsPerKey: CONCURRENCY },
    },
    0,
  );
  const hello = new Koa().use((ctx) => {
    ctx.body = { hello: 'world' };
  });
  const helloServer: Server = hello.listen(0, '127.0.0.1');
  await new Promise((resolve) => helloServer.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
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

  benchLog('POST /customers: warming up');
  await closedLoop(createCustomer, 200, CONCURRENCY, -1_000_000);
  const writes = await closedLoop(createCustomer, REQUESTS, CONCURRENCY);

  benchLog('seeding 1000 deposits for the reads');
  const owner = await buildCustomer(db, { merchant });
  for (let i = 0; i < 1_000; i++) await recordDetectedDeposit(db, buildTransfer(owner, { amount: `${i + 1}.25` }));

  benchLog('GET /deposits and hello-world: warming up, then each at its peak');
  await closedLoop(listDeposits, 500, CONCURRENCY);
  await closedLoop(helloWorld, 500, CONCURRENCY);
  const readsPeak = await closedLoop(listDeposits, REQUESTS, CONCURRENCY);
  const helloPeak = await closedLoop(helloWorld, REQUESTS, CONCURRENCY);
  benchLog(`each at ${LOAD_FRACTION * 100} % of its peak for ${OPEN_LOOP_SECONDS} s`);
  const readsAt70 = await openLoop(listDeposits, readsPeak.rate * LOAD_FRACTION, OPEN_LOOP_SECONDS);
  const helloAt70 = await openLoop(helloWorld, helloPeak.rate * LOAD_FRACTION, OPEN_LOOP_SECONDS);

  console.log(`POST /api/v1/customers, ${REQUESTS} requests, ${CONCURRENCY} concurrent, each with an Idempotency-Key, no Temporal server`);
  console.log(`  throughput ${writes.rate.toFixed(0)} req/s; latency ms p50 ${writes.p(50)}  p95 ${writes.p(95)}  p99 ${writes.p(99)}`);
  console.log('');
  console.log(`GET /api/v1/deposits?limit=10 (1000 deposits) beside a Koa hello-world, same process, same run`);
  console.log(`| server | peak req/s (${CONCURRENCY} concurrent) | offered at 70 % | achieved | p50 ms | p99 ms |`);
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [name, peak, at70] of [
    ['inflow GET /deposits', readsPeak, readsAt70],
    ['Koa hello-world', helloPeak, helloAt70],
  ] as const) {
    console.log(`| ${name} | ${peak.rate.toFixed(0)} | ${at70.offered.toFixed(0)} | ${at70.rate.toFixed(0)} | ${at70.p(50)} | ${at70.p(99)} |`);
  }
  console.log(`ratio (inflow GET /deposits ÷ hello-world, peak): ${(readsPeak.rate / helloPeak.rate).toFixed(3)}×`);

  helloServer.close();
  await stopApiServer(server);
  await connection.close();
  await db.destroy();
  await postgres.stop();
}

async function expectOk(response: Response, what: string): Promise<void> {
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status}`);
}

interface Measured {
  rate: number;
  /** The latency percentile in ms, one decimal. */
  p(percent: number): string;
}

function measured(latencies: number[], seconds: number): Measured {
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / seconds,
    p: (percent) => latencies[Math.min(latencies.length - 1, Math.floor((percent / 100) * latencies.length))]!.toFixed(1),
  };
}

/** `count` requests, `concurrency` in flight at all times: the peak rate. */
async function closedLoop(send: Send, count: number, concurrency: number, firstIndex = 0): Promise<Measured> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const sent = performance.now();
        await send(firstIndex + i);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  return measured(latencies, (performance.now() - started) / 1000);
}

/** Requests at `rate` per second for `seconds`, sent on schedule whatever the answers do: latency under a given load. */
async function openLoop(send: Send, rate: number, seconds: number): Promise<Measured & { offered: number }> {
  const latencies: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  const total = Math.round(rate * seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    // Latency from when the request was due, so a generator that falls behind counts against the server.
    inFlight.push(send(i).then(() => void latencies.push(performance.now() - due)));
  }
  await Promise.all(inFlight);
  return { ...measured(latencies, (performance.now() - started) / 1000), offered: rate };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
