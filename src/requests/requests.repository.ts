import type { ListWindow } from '../api/pagination';
import type { Executor, Tenant } from '../db/database';
import { idFloor } from '../domain/ids';
import type { ApiRequest, NewApiRequest } from './api-requests.table';

/** One multi-row insert; a row already there (the same batch written twice) is left as it is. */
export async function insertApiRequests(db: Executor, rows: NewApiRequest[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('api_requests')
    .values(rows)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** The tenant's request: another merchant's or mode's is as missing as one never logged. */
export async function findApiRequest(db: Executor, tenant: Tenant, id: string): Promise<ApiRequest | undefined> {
  return db
    .selectFrom('api_requests')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .executeTakeFirst();
}

export interface ApiRequestFilters {
  /** Exactly this HTTP status. */
  status?: number | undefined;
  /** true: answers of 400 and up; false: below 400. */
  failed?: boolean | undefined;
  method?: string | undefined;
  apiKeyId?: string | undefined;
}

/** One page, newest first (api_requests_tenant_idx): ids sort by arrival, so the cursor is the last id. */
export async function listApiRequests(db: Executor, tenant: Tenant, filters: ApiRequestFilters, page: ListWindow): Promise<ApiRequest[]> {
  let query = db
    .selectFrom('api_requests')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (filters.status !== undefined) query = query.where('status', '=', filters.status);
  if (filters.failed !== undefined) query = query.where('status', filters.failed ? '>=' : '<', 400);
  if (filters.method !== undefined) query = query.where('method', '=', filters.method);
  if (filters.apiKeyId !== undefined) query = query.where('api_key_id', '=', filters.apiKeyId);
  if (page.startingAfter) query = query.where('id', '<', page.startingAfter);
  if (page.createdFrom) query = query.where('created_at', '>=', page.createdFrom);
  if (page.createdBefore) query = query.where('created_at', '<', page.createdBefore);
  return query.execute();
}

/**
 * Deletes requests that arrived before `before`, at most `batch` rows: by the primary key, since a
 * request id starts with its arrival time (idFloor), so each batch is an index range.
 */
export async function deleteApiRequestsBefore(db: Executor, before: Date, batch: number): Promise<number> {
  const deleted = await db
    .deleteFrom('api_requests')
    .where('id', 'in', (eb) => eb.selectFrom('api_requests').select('id').where('id', '<', idFloor('request', before.getTime())).limit(batch))
    .executeTakeFirst();
  return Number(deleted.numDeletedRows);
}
