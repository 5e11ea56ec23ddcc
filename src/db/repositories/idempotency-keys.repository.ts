import { sql } from 'kysely';
import type { Executor } from '../database';
import type { IdempotencyKey } from '../tables/idempotency-keys.table';

export interface IdempotencyScope {
  merchantId: string;
  livemode: boolean;
  key: string;
}

/**
 * Claims the key for this transaction: inserts a placeholder row, or returns false when a row
 * exists. A concurrent claim of the same key waits here until the first transaction ends, then
 * sees its committed row; so two requests with one key can never both run.
 */
export async function claimIdempotencyKey(db: Executor, scope: IdempotencyScope, fingerprint: string): Promise<boolean> {
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      key: scope.key,
      request_fingerprint: fingerprint,
      response_status: 0,
      response_body: '',
    })
    .onConflict((oc) => oc.columns(['merchant_id', 'livemode', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findIdempotencyKey(db: Executor, scope: IdempotencyScope): Promise<IdempotencyKey | undefined> {
  return db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('livemode', '=', scope.livemode)
    .where('key', '=', scope.key)
    .executeTakeFirst();
}

export async function deleteIdempotencyKeyIfExpired(db: Executor, scope: IdempotencyScope, ttlHours: number): Promise<boolean> {
  const deleted = await db
    .deleteFrom('idempotency_keys')
    .where('merchant_id', '=', scope.merchantId)
    .where('livemode', '=', scope.livemode)
    .where('key', '=', scope.key)
    .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${ttlHours})`)
    .executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

/** Deletes every key older than its time to live; how many were deleted. */
export async function deleteExpiredIdempotencyKeys(db: Executor, ttlHours: number): Promise<number> {
  const deleted = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${ttlHours})`)
    .executeTakeFirst();
  return Number(deleted.numDeletedRows);
}

export async function saveIdempotentResponse(db: Executor, scope: IdempotencyScope, status: number, body: string): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ response_status: status, response_body: body })
    .where('merchant_id', '=', scope.merchantId)
    .where('livemode', '=', scope.livemode)
    .where('key', '=', scope.key)
    .execute();
}
