/** `npm run api`: serves the REST API on PORT. */
import type { Server } from 'node:http';
import { loadConfig, requireSecretKey, type Config } from '../config';
import { endEventStreams } from '../events/event-stream';
import { endPaymentPageStreams } from '../checkout/checkout.stream';
import { watchedTokenContracts } from '../checkout/checkout.routes';
import { configureDns } from '../webhooks/ssrf';
import { createPriceSources, describePriceSources } from '../prices/sources';
import { createLogger } from '../logger';
import { connectDatabase, createAddressDerivers, lazyTemporalClient, onShutdownSignal, runMain, StartupError } from '../startup';
import { sealPlaintextWebhookSecrets } from '../webhooks/sealed-secrets';
import { createApp, requestLogOf, type AppDeps } from './app';

/** Each server's app, whose event streams stopApiServer ends. */
const appsOfServers = new WeakMap<Server, object>();

/** Listens on `port` (0 picks a free one) and resolves once the socket is bound. */
export async function startApiServer(deps: AppDeps, port: number): Promise<Server> {
  const app = createApp(deps);
  const server = app.listen(port);
  appsOfServers.set(server, app);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch((error: Error) => {
    throw new StartupError(`inflow: cannot listen on port ${port}: ${error.message}`);
  });
  return server;
}

/** The app's dependencies as the configuration sets them (`npm run api`, `npm run dev`). */
export function appDepsFrom(config: Config, parts: Pick<AppDeps, 'db' | 'temporal' | 'logger' | 'derivers'>): AppDeps {
  return {
    ...parts,
    taskQueue: config.temporal.taskQueue,
    simulatedBlockTimeMs: config.simulatedBlockTimeMs,
    webhookPolicy: config.webhookPolicy,
    prices: createPriceSources(config),
    rateLimits: config.rateLimits,
    webhookEndpointsPerMode: config.webhookEndpointsPerMode,
    secretKey: requireSecretKey(config),
    publicOrigin: config.publicOrigin,
    trustedProxies: config.trustedProxies,
    healthToken: config.healthToken,
    payouts: config.payouts,
    tokenContracts: watchedTokenContracts(config.chains),
  };
}

/**
 * Stops accepting connections and resolves when in-flight requests have finished and the request
 * log has written what waits. Event streams (`GET /events/stream`) never finish by themselves: they
 * are ended, and their clients resume elsewhere with Last-Event-ID.
 */
export function stopApiServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const app = appsOfServers.get(server);
    const requestLog = app ? requestLogOf(app) : undefined;
    server.close(() => {
      if (requestLog) void requestLog.close().then(resolve);
      else resolve();
    });
    if (app) {
      endEventStreams(app);
      endPaymentPageStreams(app);
    }
    server.closeIdleConnections();
  });
}

if (require.main === module) {
  runMain(async () => {
    const config = loadConfig(process.env);
    // Before anything is reached: the API seals the keys it makes, so it cannot serve without it.
    requireSecretKey(config);
    const logger = createLogger(config.logLevel, { process: 'api' });
    configureDns(config.dns);
    for (const { line, warn } of describePriceSources(config)) logger[warn ? 'warn' : 'info'](line);
    const derivers = createAddressDerivers(config);
    const db = await connectDatabase(config);
    const temporal = lazyTemporalClient(config);
    const server = await startApiServer(appDepsFrom(config, { db, temporal, logger, derivers }), config.port);
    // Webhook secrets written before they were sealed, when `npm run migrate` ran without the key.
    // In the background: the API serves meanwhile (deliveries sign with either form).
    void sealPlaintextWebhookSecrets(db, requireSecretKey(config)).then(
      (sealed) => sealed > 0 && logger.info({ sealed }, 'sealed webhook endpoint secrets that were stored in plaintext'),
      (error: Error) => logger.warn({ err: error.message }, 'could not seal plaintext webhook secrets now; the next start tries again'),
    );

    onShutdownSignal(async (signal) => {
      logger.info({ signal }, 'API shutting down; finishing in-flight requests');
      await stopApiServer(server);
      await temporal.connection.close();
      await db.destroy();
      process.exit(0);
    });
    logger.info({ port: config.port }, `API listening on http://localhost:${config.port}/api/v1`);
  });
}
