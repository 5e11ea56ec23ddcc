/**
 * The outbox relay: hands what `workflow_outbox` queued to Temporal, woken at each commit by NOTIFY
 * and polling as a backstop, and deletes each row once it is handed over. Every worker runs one;
 * they share the rows by lease (`FOR UPDATE SKIP LOCKED`), and a start handed over twice (a relay
 * that died before deleting) runs once, because workflow ids are business ids.
 *
 * A queued webhook delivery is not a workflow start at first: the relay makes its first attempt
 * itself (webhooks/deliveries.ts, recorded in the attempt log as any attempt) and starts the
 * delivery's workflow, for the retry schedule, only when that attempt failed, handing it the
 * result. Most deliveries succeed at once, and a workflow start costs the Temporal server far more
 * than the POST. Durability is the row's: it stays leased while the attempt runs, so a relay lost
 * mid-attempt leaves it to another once the lease expires, which finds the attempt recorded
 * (and sends nothing) or makes it again with the same `webhook-id` (at least once, as ever).
 *
 * Attempts take slots of their own (ATTEMPT_SLOTS): a merchant's receivers that never answer hold
 * those for their deadline, never the starts of deposits, orders and payouts, which are claimed
 * apart.
 */
import pg from 'pg';
import type { Db } from '../db/database';
import { claimWorkflowStarts, deleteWorkflowStarts, postponeWorkflowStart } from './workflow-outbox.repository';
import type { QueuedWorkflowStart } from './workflow-outbox.table';
import type { Logger } from '../logger';
import { attemptDeadline, attemptDelivery, type AttemptDeps } from '../webhooks/deliveries';
import { startWorkflowOnce, type WorkflowStarter } from '../workflows/client';
import { webhookTaskQueue, type AttemptResult, type DeliveryWorkflowInput, type Workflows } from '../workflows/definitions';

export interface OutboxRelayOptions {
  db: Db;
  /** For the LISTEN connection, which cannot come from the pool. */
  databaseUrl: string;
  starter: WorkflowStarter;
  logger: Logger;
  /**
   * How this relay makes first attempts (the worker's webhook policy and secret key). Without them
   * it starts every delivery's workflow, which makes the first attempt, as before.
   */
  attempts?: AttemptDeps;
  /** The backstop when no notification arrives (a relay that was down, a lease that expired). */
  pollIntervalMs?: number;
}

export interface OutboxRelay {
  /** Finishes what it holds (attempts included), then stops. */
  stop(): Promise<void>;
}

const DELIVERY_TYPE = 'webhookDeliveryWorkflow';
const START_BATCH = 100;
/** First attempts in flight at once, each up to FIRST_ATTEMPT_BUDGET_MS. */
const ATTEMPT_SLOTS = 100;
/**
 * What a first attempt may take (attemptDeadline of this): its reads and DNS lookup, the POST's 15 s,
 * its record. One that cannot finish in time sends nothing and leaves the attempt to the workflow.
 */
const FIRST_ATTEMPT_BUDGET_MS = 25_000;
const START_DEADLINE_MS = 10_000;
/** Longer than a first attempt and the start after it, so a live relay never loses its lease. */
const LEASE_MS = 40_000;
const MAX_BACKOFF_MS = 60_000;
const RELISTEN_DELAY_MS = 1_000;

/** Hands queued workflow starts and first attempts to Temporal and receivers until stopped; run one in every worker process. */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, starter, logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  let stopping = false;
  let nudged = false;
  let wake = () => undefined as void;
  const nudge = () => {
    nudged = true;
    wake();
  };
  const listener = listenForCommits(options.databaseUrl, nudge, () => stopping, logger);

  /** Starts the row's workflow with `args`; true once Temporal has it (false: postponed, to be tried again). */
  const startWorkflow = async (start: QueuedWorkflowStart, args: unknown[]): Promise<boolean> => {
    try {
      // Deliveries go to the webhook task queue, which the same worker process polls.
      const queueOfStart = start.workflow_type === DELIVERY_TYPE ? { ...starter, taskQueue: webhookTaskQueue(starter.taskQueue) } : starter;
      await starter.temporal.withDeadline(Date.now() + START_DEADLINE_MS, () =>
        startWorkflowOnce(queueOfStart, start.workflow_type as keyof Workflows, start.workflow_id, args as Parameters<Workflows[keyof Workflows]>),
      );
      if (start.attempts > 1) logger.info({ workflow_id: start.workflow_id, attempts: start.attempts }, 'outbox: workflow started after retries');
      return true;
    } catch (error) {
      const delayMs = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** (start.attempts - 1));
      const reason = error instanceof Error ? error.message : String(error);
      logger.warn({ workflow_id: start.workflow_id, attempts: start.attempts, retry_in_ms: delayMs, err: error }, 'outbox: workflow start failed; will retry');
      // If even this fails (Postgres is down too), the lease expires and the row is tried again.
      await postponeWorkflowStart(db, start.workflow_id, delayMs, reason).catch(() => undefined);
      return false;
    }
  };

  /**
   * A delivery's first attempt; its workflow is started only when it failed (or was not recorded,
   * which the workflow then records). An attempt that could not be made (the database, a deadline)
   * sent nothing: the workflow makes it.
   */
  const deliver = async (start: QueuedWorkflowStart): Promise<boolean> => {
    const [delivery] = start.args as [DeliveryWorkflowInput];
    let first: AttemptResult | undefined;
    try {
      const input = { deliveryId: delivery.deliveryId, attemptNumber: 1, attemptedAt: Date.now() };
      first = await attemptDelivery(db, options.attempts!, input, attemptDeadline(Date.now(), FIRST_ATTEMPT_BUDGET_MS));
    } catch (error) {
      logger.debug({ workflow_id: start.workflow_id, err: error }, 'outbox: first attempt not made here; its workflow makes it');
    }
    if (first && first.outcome !== 'retry' && !first.unrecorded) return true;
    return startWorkflow(start, [first ? { ...delivery, firstAttempt: first } : delivery]);
  };

  // Rows handed over, deleted in one statement per flush. If one fails, their leases expire and they
  // are handed over again: Temporal answers a start as already started, and an attempt finds itself recorded.
  const handedOver: string[] = [];
  let flushing: Promise<void> | undefined;
  const flush = (): Promise<void> =>
    (flushing ??= (async () => {
      while (handedOver.length > 0) {
        const ids = handedOver.splice(0);
        await deleteWorkflowStarts(db, ids).catch((error: unknown) =>
          logger.warn({ err: error }, 'outbox: cannot delete handed-over rows; their leases will expire'),
        );
      }
    })().finally(() => (flushing = undefined)));
  const settle = (start: QueuedWorkflowStart, done: boolean) => {
    if (done) handedOver.push(start.workflow_id);
  };

  const attemptsInFlight = new Set<Promise<void>>();
  /** Whether the last claim of deliveries filled every free slot: more may be due as slots free up. */
  let deliveriesWaiting = false;

  /** Leases what is due; true when more may be due right now. */
  const claim = async (): Promise<boolean> => {
    let more = false;
    try {
      const starts = await claimWorkflowStarts(db, { limit: START_BATCH, leaseMs: LEASE_MS, deliveries: options.attempts ? 'exclude' : 'include' });
      const started = await Promise.all(starts.map((start) => startWorkflow(start, start.args)));
      starts.forEach((start, i) => settle(start, started[i]!));
      more = starts.length === START_BATCH;
      const free = ATTEMPT_SLOTS - attemptsInFlight.size;
      if (options.attempts && free > 0) {
        const deliveries = await claimWorkflowStarts(db, { limit: free, leaseMs: LEASE_MS, deliveries: 'only' });
        for (const start of deliveries) {
          const running: Promise<void> = deliver(start)
            .then((done) => settle(start, done))
            .finally(() => {
              attemptsInFlight.delete(running);
              void flush();
              if (deliveriesWaiting) nudge();
            });
          attemptsInFlight.add(running);
        }
        deliveriesWaiting = deliveries.length === free;
      }
    } catch (error) {
      logger.warn({ err: error }, 'outbox: cannot read the outbox; will retry');
    }
    await flush();
    return more;
  };

  const running = (async () => {
    while (!stopping) {
      nudged = false;
      if (await claim()) continue;
      if (nudged || stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all(attemptsInFlight);
    await flush();
  })();

  return {
    async stop() {
      stopping = true;
      wake();
      await running;
      await listener.close();
    },
  };
}

/**
 * LISTENs on a connection of its own for the outbox's commit notifications, and listens again
 * after Postgres restarts; between connections the relay's polling carries on alone.
 */
function listenForCommits(databaseUrl: string, onCommit: () => void, stopped: () => boolean, logger: Logger): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    retry = undefined;
    if (stopped()) return;
    const next = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
    client = next;
    const reconnect = () => {
      if (client !== next) return;
      client = undefined;
      void next.end().catch(() => undefined);
      if (!stopped()) retry = setTimeout(() => void connect(), RELISTEN_DELAY_MS);
    };
    next.on('error', reconnect);
    next.on('end', reconnect);
    next.on('notification', onCommit);
    try {
      await next.connect();
      await next.query('LISTEN workflow_outbox');
      // Starts queued while this relay was not listening are due now.
      onCommit();
    } catch (error) {
      logger.debug({ err: error }, 'outbox: cannot listen for commits yet; polling meanwhile');
      reconnect();
    }
  };
  void connect();
  return {
    async close() {
      clearTimeout(retry);
      const open = client;
      client = undefined;
      await open?.end().catch(() => undefined);
    },
  };
}
