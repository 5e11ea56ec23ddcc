import type { ColumnType, Insertable, Selectable } from 'kysely';

/** A POST's stored answer, replayed for the same Idempotency-Key; the body is the exact JSON text sent. */

export interface IdempotencyKeysTable {
  merchant_id: string;
  livemode: boolean;
  key: string;
  request_fingerprint: string;
  response_status: number;
  response_body: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export type IdempotencyKey = Selectable<IdempotencyKeysTable>;
export type NewIdempotencyKey = Insertable<IdempotencyKeysTable>;

/** The tables of the stored answers of Idempotency-Keys, as the `Database` type joins them (db/database.ts). */
export interface IdempotencyTables {
  idempotency_keys: IdempotencyKeysTable;
}
