import type { ColumnType, Selectable } from 'kysely';

/** One API key's request-rate state under one policy (GCRA), shared by every API process. */
export interface RateLimitsTable {
  api_key_id: string;
  policy: 'reads' | 'writes';
  /** When the key's next request would be "due" if it sent at exactly the policy's rate; at most a window ahead of now. */
  theoretical_arrival_at: Date;
  last_admitted: boolean;
  /** How many units the last statement granted (a lease may take several); 0 when it refused. */
  last_granted: ColumnType<number, number | undefined, number>;
}

export type RateLimitRow = Selectable<RateLimitsTable>;

/** The tables of the rate limiters' buckets, as the `Database` type joins them (db/database.ts). */
export interface RateLimitTables {
  rate_limits: RateLimitsTable;
}
