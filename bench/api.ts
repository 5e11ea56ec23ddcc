/**
 * `npm run bench:api`: POST /api/v1/customers under concurrent load against a real Postgres
 * (embedded, throw-away) and the real app, reporting throughput and latency percentiles.
 * The load generator shares the process (and the machine's cores) with the API, so the figures
 * are a floor. Creating a customer does not touch Temporal, so none is started.
 */
import { mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection, Client } from '@temporalio/client';
import { startEmbeddedPostgres } from '../dev/postgres';
import { freePort } from '../dev/tools/ports';
import { startApiServer, stopApiServer } from '../src/api/server';
import { AddressDeriver, generateMnemonic, xpubsFromMnemonic } from '../src/chains/derivation';
import { createDb } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { createLogger } from '../src/logger';
import { benchLog } from './log';
import { buildMerchant, staticPrices } from '../dev/fixtures';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4_000);

async function main(): Promise<void> {
  const log = benchLog;
  const postgres = await startEmbeddedPostgres({
    dataDir: await mkdtemp(path.join(os.tmpdir(), 'inflow-bench-pg-')),
    port: await freePort(),
    persistent: false,
    log,
  });
  const db = createDb(postgres.url('postgres'), { max: 20 });
  await migrateToLatest(db);
  const { test_key } = await buildMerchant(db, 'Bench');
  const connection = await Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  const derivers = {
    test: new AddressDeriver(xpubsFromMnemonic(generateMnemonic())),
    live: new AddressDeriver(xpubsFromMnemonic(generateMnemonic())),
  };
  const server = await startApiServer(
    {
      db,
      temporal: new Client({ connection }),
      logger: createLogger('silent'),
      derivers,
      taskQueue: 'unused',
      webhookPolicy: { allowPrivateNetworksInLive: false, allowPrivateNetworksInTest: false },
      prices: staticPrices(),
      // The limiter runs (its statement is part of what is measured) but never refuses the load.
      rateLimits: { reads: 1_000_000, writes: 1_000_000, windowSeconds: 1, concurrentRequestsPerKey: CONCURRENCY },
    },
    0,
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/customers`;

  const send = async (i: number): Promise<number> => {
    const started = performance.now();
    const response = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${test_key}`, 'Content-Type': 'application/json', 'Idempotency-Key': `bench-${i}` },
      body: JSON.stringify({ email: `user${i}@example.com`, external_id: `u${i}`, metadata: { i: String(i) } }),
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`request ${i}: HTTP ${response.status}`);
    return performance.now() - started;
  };

  for (let i = 0; i < 200; i++) await send(-1 - i); // warm-up: JIT, pool, derivation table
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) latencies.push(await send(next++));
    }),
  );
  const seconds = (performance.now() - started) / 1000;

  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
  console.log(`POST /api/v1/customers, ${REQUESTS} requests, ${CONCURRENCY} concurrent, each with an Idempotency-Key`);
  console.log(`throughput ${(REQUESTS / seconds).toFixed(0)} req/s`);
  console.log(`latency ms: p50 ${percentile(50)}  p95 ${percentile(95)}  p99 ${percentile(99)}  max ${latencies.at(-1)!.toFixed(1)}`);

  await stopApiServer(server);
  await connection.close();
  await db.destroy();
  await postgres.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
