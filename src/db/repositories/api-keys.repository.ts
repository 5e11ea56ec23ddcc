import type { Executor } from '../database';
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
