import type { Db } from '../db/database';
import { deleteExpiredIdempotencyKeys } from '../api/idempotency-keys.repository';
import { deleteApiRequestsBefore } from '../requests/requests.repository';
import type { MaintenanceActivities, PruneRequestLogResult } from '../workflows/definitions';
import { withActivityFailures } from './failures';

/** INFLOW_REQUEST_LOG_RETENTION_DAYS when the worker is not told. */
export const DEFAULT_REQUEST_LOG_RETENTION_DAYS = 30;
/** Rows per delete: each is a short statement on the primary key, far inside the statement timeout. */
const PRUNE_BATCH = 5_000;
/** A run stops deleting after this long (the activity may take 5 minutes); the next hourly run goes on. */
const PRUNE_BUDGET_MS = 3 * 60_000;

export function createMaintenanceActivities(deps: { db: Db; requestLogRetentionDays?: number | undefined }): MaintenanceActivities {
  const olderThanDays = deps.requestLogRetentionDays ?? DEFAULT_REQUEST_LOG_RETENTION_DAYS;
  return withActivityFailures({
    purgeExpiredIdempotencyKeys: (input) => deleteExpiredIdempotencyKeys(deps.db, input.olderThanHours),
    pruneRequestLog: (input) => pruneRequestLog(deps.db, input.olderThanDays ?? olderThanDays),
  });
}

/** Deletes the request log's rows older than `olderThanDays`, batch by batch, within PRUNE_BUDGET_MS. */
export async function pruneRequestLog(db: Db, olderThanDays: number, now = new Date()): Promise<PruneRequestLogResult> {
  const before = new Date(now.getTime() - olderThanDays * 86_400_000);
  const stopAt = Date.now() + PRUNE_BUDGET_MS;
  let deleted = 0;
  for (;;) {
    const batch = await deleteApiRequestsBefore(db, before, PRUNE_BATCH);
    deleted += batch;
    if (batch < PRUNE_BATCH) return { deleted, olderThanDays, more: false };
    if (Date.now() >= stopAt) return { deleted, olderThanDays, more: true };
  }
}
