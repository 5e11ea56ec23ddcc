import type { ColumnType, Insertable, Selectable } from 'kysely';

export interface IdempotencyKeysTable {
  merchant_id: string;
  livemode: boolean;
  key: string;
  request_fingerprint: string;
  response_status: number;
  response_body: ColumnType<unknown, string, string>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export type IdempotencyKey = Selectable<IdempotencyKeysTable>;
export type NewIdempotencyKey = Insertable<IdempotencyKeysTable>;
