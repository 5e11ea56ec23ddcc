import type { ListWindow } from '../api/pagination';
import { sql } from 'kysely';
import type { Executor, Tenant } from '../db/database';
import type { ApiKey, NewApiKey } from './api-keys.table';

export async function insertApiKey(db: Executor, key: NewApiKey): Promise<ApiKey> {
  return db.insertInto('api_keys').values(key).returningAll().executeTakeFirstOrThrow();
}

/** The key with this hash that works at `now` (not revoked, not past a roll's grace period): one indexed lookup whatever the input. */
export async function findActiveApiKeyByHash(db: Executor, keyHash: string, now: Date = new Date()): Promise<ApiKey | undefined> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
}

/** Whether the key still works at `now` (not deleted, not past a roll's grace period). */
export async function isApiKeyActive(db: Executor, id: string, now: Date = new Date()): Promise<boolean> {
  const key = await db
    .selectFrom('api_keys')
    .select('id')
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  return key !== undefined;
}

/** A key of the tenant's that works at `now`, or undefined (a deleted or expired key, or another merchant's or mode's, is as missing). */
export async function findApiKey(db: Executor, tenant: Tenant, id: string, now: Date): Promise<ApiKey | undefined> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
}

/** Locks the tenant's keys (in id order, so two deletions cannot deadlock) and returns the active ones at `now`. */
export async function lockActiveApiKeys(db: Executor, tenant: Tenant, now: Date): Promise<ApiKey[]> {
  const keys = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('revoked_at', 'is', null)
    .orderBy('id')
    // Not FOR UPDATE: that would also block inserts of rows that reference it (its foreign keys' KEY SHARE locks).
    .forNoKeyUpdate()
    .execute();
  return keys.filter((key) => key.expires_at === null || key.expires_at > now);
}

/** One page of the tenant's keys that work at `now`, newest first (rolled keys in their grace period included). */
export async function listApiKeys(db: Executor, tenant: Tenant, now: Date, page: ListWindow): Promise<ApiKey[]> {
  let query = db
    .selectFrom('api_keys')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (page.startingAfter) query = query.where('id', '<', page.startingAfter);
  if (page.createdFrom) query = query.where('created_at', '>=', page.createdFrom);
  if (page.createdBefore) query = query.where('created_at', '<', page.createdBefore);
  return query.execute();
}

export async function revokeApiKey(db: Executor, id: string, at: Date = new Date()): Promise<void> {
  await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).execute();
}

/** Marks a key rolled: it works until `expiresAt`, and names its successor. */
export async function setApiKeyRolled(db: Executor, id: string, rolledTo: string, expiresAt: Date): Promise<ApiKey> {
  return db.updateTable('api_keys').set({ rolled_to: rolledTo, expires_at: expiresAt }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/**
 * The key order callbacks are signed with: the merchant's oldest working full-access key of this
 * mode that has a sealed copy. Oldest, so that making another full key changes nothing for the
 * merchant's callback verification, and a rolled key keeps signing through its grace period (its
 * successor signs once it expires, or at once when rolled without one). Restricted keys never
 * sign: a merchant verifies callbacks with the key its integration holds, which is a full one.
 */
export async function findSigningKey(db: Executor, tenant: Tenant, now: Date = new Date()): Promise<(ApiKey & { sealed_key: string }) | undefined> {
  const key = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .where('sealed_key', 'is not', null)
    .where(sql<boolean>`permissions = '"full"'::jsonb`)
    .orderBy('created_at')
    .orderBy('id')
    .executeTakeFirst();
  return key as (ApiKey & { sealed_key: string }) | undefined;
}

export async function setSealedKey(db: Executor, id: string, sealedKey: string): Promise<void> {
  await db.updateTable('api_keys').set({ sealed_key: sealedKey }).where('id', '=', id).execute();
}
