import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { AppDeps } from '../../src/api/app';
import { startApiServer, stopApiServer } from '../../src/api/server';
import type { RateLimitSettings } from '../../src/domain/rate-limits';
import { createLogger } from '../../src/logger';
import { developmentWebhookPolicy } from '../../src/webhooks/deliveries';
import { staticPrices, testDerivers, testHealthToken, testSecretKey } from '../../dev/fixtures';
import { assertMatchesSpec } from './openapi-validator';

export interface TestApi {
  baseUrl: string;
  /** Every JSON log line the app wrote. */
  logs: Array<Record<string, unknown>>;
  request(path: string, init?: RequestInit & { key?: string; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Limits no other test meets (customers.test.ts makes 200 customers at once with one key, more
 * than the production defaults allow); the limiter still runs on every request. The rate-limit
 * tests set their own.
 */
const generousRateLimits: RateLimitSettings = {
  reads: 1_000_000,
  writes: 1_000_000,
  windowSeconds: 1,
  concurrentRequestsPerKey: 100_000,
  concurrentWritesPerMerchant: 100_000,
  eventStreamsPerMerchant: 100_000,
  unauthenticatedPerIp: 1_000_000,
};

/**
 * What startTestApi takes: the app's dependencies, the test defaults below filling the rest
 * (loopback test endpoints allowed unless `webhookPolicy` says: the hostile-receiver tests pass the
 * default policy), and a port (a free one unless given, to start an API again where a client knows it).
 */
export type TestApiOptions = Pick<AppDeps, 'db' | 'temporal'> &
  Partial<
    Pick<
      AppDeps,
      | 'taskQueue'
      | 'simulatedBlockTimeMs'
      | 'derivers'
      | 'prices'
      | 'clock'
      | 'publicOrigin'
      | 'trustedProxies'
      | 'healthToken'
      | 'webhookPolicy'
      | 'tokenContracts'
      | 'requestLog'
      | 'payouts'
      | 'verifiedKeys'
    >
  > & {
    rateLimits?: Partial<RateLimitSettings>;
    port?: number;
  };

/** The real Koa app on a free port, logging into memory; every answer `request` receives is checked against the OpenAPI document. */
export async function startTestApi({ port = 0, db, temporal, ...options }: TestApiOptions): Promise<TestApi> {
  const { deps, logs } = testApiDeps(options);
  const server: Server = await startApiServer({ db, temporal, ...deps }, port);
  return testApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs, () => stopApiServer(server));
}

/** The app's dependencies in tests (a stack's API takes them over its configuration's), and the log lines it writes into memory. */
export function testApiDeps({ rateLimits, ...deps }: Omit<TestApiOptions, 'db' | 'temporal' | 'port'>): {
  deps: Omit<AppDeps, 'db' | 'temporal'>;
  logs: Array<Record<string, unknown>>;
} {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  return {
    logs,
    deps: {
      taskQueue: 'inflow-test-unused',
      derivers: testDerivers(),
      // Receivers in tests listen on loopback, which a development stack allows (a test of the default policy passes its own).
      webhookPolicy: developmentWebhookPolicy,
      prices: staticPrices(),
      secretKey: testSecretKey,
      // Tests read /healthz?detail with it (`request(path, { key: testHealthToken })`).
      healthToken: testHealthToken,
      ...deps,
      rateLimits: { ...generousRateLimits, ...rateLimits },
      logger: createLogger('info', { process: 'test' }, sink),
    },
  };
}

/** A TestApi for the API at `baseUrl`. */
export function testApiClient(baseUrl: string, logs: TestApi['logs'], close: () => Promise<void>): TestApi {
  return {
    baseUrl,
    logs,
    request: async (path, init = {}) => {
      const { key, json, headers, ...rest } = init;
      const response = await fetch(`${baseUrl}${path}`, {
        ...rest,
        headers: {
          ...(key ? { Authorization: `Bearer ${key}` } : {}),
          ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...(headers as Record<string, string> | undefined),
        },
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
        // A hung request fails the test instead of stalling the run.
        signal: AbortSignal.timeout(15_000),
      });
      await assertMatchesSpec(rest.method ?? 'GET', `${baseUrl}${path}`, response);
      return response;
    },
    close,
  };
}
