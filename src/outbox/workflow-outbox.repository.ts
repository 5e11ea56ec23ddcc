import { sql } from 'kysely';
import type { Executor } from '../db/database';
import type { QueuedWorkflowStart } from './workflow-outbox.table';

/** Queues a workflow start in the caller's transaction; the same workflow id queued twice is one row. */
export async function insertWorkflowStart(db: Executor, start: { workflowType: string; workflowId: string; args: unknown[] }): Promise<void> {
  await db
    .insertInto('workflow_outbox')
    .values({ workflow_id: start.workflowId, workflow_type: start.workflowType, args: JSON.stringify(start.args) })
    .onConflict((oc) => oc.column('workflow_id').doNothing())
    .execute();
}

/**
 * Leases up to `limit` due rows to this relay for `leaseMs`, oldest first; rows another relay holds
 * are skipped, not waited for. A relay that dies leaves its lease to expire, and another relay
 * hands the same rows over again (Temporal answers a start as already started, and a delivery's
 * first attempt finds itself recorded). `deliveries` says whether webhook deliveries are among them,
 * the only ones, or none, as the relay takes those in slots of their own.
 */
export async function claimWorkflowStarts(
  db: Executor,
  { limit, leaseMs, deliveries = 'include' }: { limit: number; leaseMs: number; deliveries?: 'include' | 'exclude' | 'only' },
): Promise<QueuedWorkflowStart[]> {
  return db
    .updateTable('workflow_outbox')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), available_at: sql<Date>`now() + ${leaseMs} * interval '1 millisecond'` }))
    .where('workflow_id', 'in', (eb) => {
      let due = eb
        .selectFrom('workflow_outbox')
        .select('workflow_id')
        .where('available_at', '<=', sql<Date>`now()`);
      if (deliveries !== 'include') due = due.where('workflow_type', deliveries === 'only' ? '=' : '<>', 'webhookDeliveryWorkflow');
      return due.orderBy('available_at').limit(limit).forUpdate().skipLocked();
    })
    .returningAll()
    .execute();
}

/** These starts reached Temporal: nothing is left to hand over. */
export async function deleteWorkflowStarts(db: Executor, workflowIds: string[]): Promise<void> {
  if (workflowIds.length === 0) return;
  await db.deleteFrom('workflow_outbox').where('workflow_id', 'in', workflowIds).execute();
}

/** The start failed: tried again after `delayMs`, and the reason is kept for an operator. */
export async function postponeWorkflowStart(db: Executor, workflowId: string, delayMs: number, error: string): Promise<void> {
  await db
    .updateTable('workflow_outbox')
    .set({ available_at: sql<Date>`now() + ${delayMs} * interval '1 millisecond'`, last_error: error })
    .where('workflow_id', '=', workflowId)
    .execute();
}

/** How many starts wait, and since when the oldest: for health checks and quiescence in tests. */
export async function outboxBacklog(db: Executor): Promise<{ queued: number; oldest: Date | null }> {
  const row = await db
    .selectFrom('workflow_outbox')
    .select((eb) => [eb.fn.countAll<string>().as('queued'), eb.fn.min('created_at').as('oldest')])
    .executeTakeFirstOrThrow();
  return { queued: Number(row.queued), oldest: row.oldest };
}
