import { sql } from 'kysely';
import type { Executor } from '../db/database';
import type { IdempotencyKey } from './idempotency-keys.table';

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

/**
 * Stored answers that hold a webhook secret in plaintext: written before those answers were
 * sealed (webhooks/sealed-secrets.ts). Sealed answers start with `v1.`, so they never match.
 */
export async function plaintextSecretAnswers(db: Executor, limit: number): Promise<IdempotencyKey[]> {
  return db.selectFrom('idempotency_keys').selectAll().where('response_body', 'like', '%"secret":"whsec\\_%').limit(limit).execute();
}

/** Replaces a stored answer if it still is the one read (a request in between wins); whether it did. */
export async function replaceIdempotentResponse(db: Executor, row: IdempotencyKey, body: string): Promise<boolean> {
  const updated = await db
    .updateTable('idempotency_keys')
    .set({ response_body: body })
    .where('merchant_id', '=', row.merchant_id)
    .where('livemode', '=', row.livemode)
    .where('key', '=', row.key)
    .where('response_body', '=', row.response_body)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}
