/**
 * Housekeeping the worker schedules with Temporal Schedules, so an operator sees each run, its
 * result and the next one under Schedules in the Web UI, and can pause or trigger it there.
 */
import { log, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities, PruneRequestLogInput, PruneRequestLogResult, PurgeIdempotencyKeysInput } from './definitions';
import { pruneDetails, purgeDetails } from './metadata';
import { activityRetry } from './versions';

const { purgeExpiredIdempotencyKeys, pruneRequestLog } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { ...activityRetry, maximumAttempts: 10 },
});

/** Deletes Idempotency-Keys past their time to live (a request after that may use the key as new). */
export async function purgeIdempotencyKeysWorkflow(input: PurgeIdempotencyKeysInput): Promise<number> {
  setCurrentDetails(purgeDetails(input));
  const deleted = await purgeExpiredIdempotencyKeys(input);
  setCurrentDetails(purgeDetails(input, deleted));
  log.info('expired idempotency keys purged', { deleted, olderThanHours: input.olderThanHours });
  return deleted;
}

/** Deletes logged API requests past the request log's retention (the worker's setting); a backlog larger than one run is left to the next. */
export async function pruneRequestLogWorkflow(input: PruneRequestLogInput): Promise<PruneRequestLogResult> {
  setCurrentDetails(pruneDetails());
  const result = await pruneRequestLog(input);
  setCurrentDetails(pruneDetails(result));
  log.info('request log pruned', { ...result });
  return result;
}
