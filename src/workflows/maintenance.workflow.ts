/**
 * Housekeeping the worker schedules with Temporal Schedules, so an operator sees each run, its
 * result and the next one under Schedules in the Web UI, and can pause or trigger it there.
 */
import { log, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities, PurgeIdempotencyKeysInput } from './definitions';
import { purgeDetails } from './metadata';
import { activityRetry } from './versions';

const { purgeExpiredIdempotencyKeys } = proxyActivities<Activities>({
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
