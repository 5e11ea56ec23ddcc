import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { Permissions } from '../domain/permissions';

/** API keys are stored only as SHA-256 hashes; `redacted` is what an operator may see. */
export interface ApiKeysTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  key_hash: string;
  redacted: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  revoked_at: Date | null;
  /** The key itself, sealed (AES-256-GCM under INFLOW_SECRET_KEY), to sign order callbacks; null for older keys. */
  sealed_key: string | null;
  name: ColumnType<string, string | undefined, string>;
  permissions: ColumnType<Permissions, string | undefined, string>;
  /** A rolled key works until then. */
  expires_at: Date | null;
  /** The key a roll replaced this one with. */
  rolled_to: string | null;
}

export type ApiKey = Selectable<ApiKeysTable>;
export type NewApiKey = Insertable<ApiKeysTable>;
export type ApiKeyUpdate = Updateable<ApiKeysTable>;

/** The tables of the API keys, as the `Database` type joins them (db/database.ts). */
export interface ApiKeyTables {
  api_keys: ApiKeysTable;
}
