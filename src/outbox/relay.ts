/**
 * The outbox relay: hands the workflow starts queued in `workflow_outbox` to Temporal, woken at
 * each commit by NOTIFY and polling as a backstop, and deletes each once Temporal has it. Every
 * worker runs one; they share the rows by lease (`FOR UPDATE SKIP LOCKED`), and a start handed
 * over twice (a relay that died before deleting) runs once, because workflow ids are business ids.
 */
import pg from 'pg';
import type { Db } from '../db/database';
import { claimWorkflowStarts, deleteWorkflowStarts, postponeWorkflowStart } from './workflow-outbox.repository';
import type { QueuedWorkflowStart } from './workflow-outbox.table';
import type { Logger } from '../logger';
import { startWorkflowOnce, type WorkflowStarter } from '../workflows/client';
import { webhookTaskQueue, type Workflows } from '../workflows/definitions';

export interface OutboxRelayOptions {
  db: Db;
  /** For the LISTEN connection, which cannot come from the pool. */
  databaseUrl: string;
  starter: WorkflowStarter;
  logger: Logger;
  /** The backstop when no notification arrives (a relay that was down, a lease that expired). */
  pollIntervalMs?: number;
}

export interface OutboxRelay {
  /** Finishes the batch in hand, then stops. */
  stop(): Promise<void>;
}

const BATCH_SIZE = 100;
/** Longer than a start may take (START_DEADLINE_MS), so a live relay never loses its lease. */
const LEASE_MS = 30_000;
const START_DEADLINE_MS = 10_000;
const MAX_BACKOFF_MS = 60_000;
const RELISTEN_DELAY_MS = 1_000;

/** Hands queued workflow starts to Temporal until stopped; run one in every worker process. */
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

  /** Hands one start over; true once Temporal has it. */
  const relayOne = async (start: QueuedWorkflowStart): Promise<boolean> => {
    try {
      const args = start.args as Parameters<Workflows[keyof Workflows]>;
      // Deliveries go to the webhook task queue, which the same worker process polls.
      const queueOfStart = start.workflow_type === 'webhookDeliveryWorkflow' ? { ...starter, taskQueue: webhookTaskQueue(starter.taskQueue) } : starter;
      await starter.temporal.withDeadline(Date.now() + START_DEADLINE_MS, () =>
        startWorkflowOnce(queueOfStart, start.workflow_type as keyof Workflows, start.workflow_id, args),
      );
      if (start.attempts > 1) logger.info({ workflow_id: start.workflow_id, attempts: start.attempts }, 'outbox: workflow started after retries');
      return true;
    } catch (error) {
      const delayMs = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** (start.attempts - 1));
      const reason = error instanceof Error ? error.message : String(error);
      logger.warn({ workflow_id: start.workflow_id, attempts: start.attempts, retry_in_ms: delayMs, err: error }, 'outbox: workflow start failed; will retry');
      // If even this fails (Postgres is down too), the lease expires and the start is tried again.
      await postponeWorkflowStart(db, start.workflow_id, delayMs, reason).catch(() => undefined);
      return false;
    }
  };

  /** One batch; true when the outbox may hold more that is due right now. */
  const relayBatch = async (): Promise<boolean> => {
    let claimed: QueuedWorkflowStart[];
    try {
      claimed = await claimWorkflowStarts(db, BATCH_SIZE, LEASE_MS);
    } catch (error) {
      logger.warn({ err: error }, 'outbox: cannot read the outbox; will retry');
      return false;
    }
    const started = await Promise.all(claimed.map(relayOne));
    // One statement for the batch. If it fails, the leases expire and those starts are handed over
    // again, which Temporal answers as already started.
    await deleteWorkflowStarts(
      db,
      claimed.filter((_, i) => started[i]).map((start) => start.workflow_id),
    ).catch((error: unknown) => logger.warn({ err: error }, 'outbox: cannot delete started rows; their leases will expire'));
    return claimed.length === BATCH_SIZE;
  };

  const running = (async () => {
    while (!stopping) {
      nudged = false;
      if (await relayBatch()) continue;
      if (nudged || stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
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
