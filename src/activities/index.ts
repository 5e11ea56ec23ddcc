import type { Db } from '../db/database';
import type { Logger } from '../logger';

export interface ActivityDeps {
  db: Db;
  logger: Logger;
}

/**
 * Every activity, built from injected dependencies; workflows see them only as the type
 * `ReturnType<typeof createActivities>` through proxyActivities.
 */
export function createActivities(_deps: ActivityDeps) {
  return {};
}

export type Activities = ReturnType<typeof createActivities>;
