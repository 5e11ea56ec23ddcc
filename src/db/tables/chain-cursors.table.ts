import type { ColumnType } from 'kysely';

export interface ChainCursorsTable {
  livemode: boolean;
  network: string;
  next_block: ColumnType<string, string | bigint, string | bigint>;
  head: ColumnType<string, string | bigint, string | bigint>;
  last_block_hash: string | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}
