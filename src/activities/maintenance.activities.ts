import type { Db } from '../db/database';
import { deleteExpiredIdempotencyKeys } from '../api/idempotency-keys.repository';
import type { MaintenanceActivities } from '../workflows/definitions';
import { withActivityFailures } from './failures';

export function createMaintenanceActivities(deps: { db: Db }): MaintenanceActivities {
  return withActivityFailures({
    purgeExpiredIdempotencyKeys: (input) => deleteExpiredIdempotencyKeys(deps.db, input.olderThanHours),
  });
}
