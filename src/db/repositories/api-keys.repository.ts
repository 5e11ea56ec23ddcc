import type { Executor, Tenant } from '../database';
import type { ApiKey, NewApiKey } from '../tables/api-keys.table';

export async function insertApiKey(db: Executor, key: NewApiKey): Promise<ApiKey> {
  return db.insertInto('api_keys').values(key).returningAll().executeTakeFirstOrThrow();
}

/** The active (not revoked) key with this hash: one indexed lookup whatever the input. */
export async function findActiveApiKeyByHash(db: Executor, keyHash: string): Promise<ApiKey | undefined> {
  return db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
}

export async function revokeApiKey(db: Executor, id: string, at: Date = new Date()): Promise<void> {
  await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).execute();
}

/** The merchant's newest active key of this mode that has a sealed copy: the one order callbacks are signed with. */
export async function findSigningKey(db: Executor, tenant: Tenant): Promise<(ApiKey & { sealed_key: string }) | undefined> {
  const key = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('revoked_at', 'is', null)
    .where('sealed_key', 'is not', null)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return key as (ApiKey & { sealed_key: string }) | undefined;
}

export async function setSealedKey(db: Executor, id: string, sealedKey: string): Promise<void> {
  await db.updateTable('api_keys').set({ sealed_key: sealedKey }).where('id', '=', id).execute();
}
