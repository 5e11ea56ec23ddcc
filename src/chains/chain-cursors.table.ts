import type { NodeStatus } from './failover';
import type { ColumnType } from 'kysely';

export interface ChainCursorsTable {
  livemode: boolean;
  network: string;
  next_block: ColumnType<string, string | bigint, string | bigint>;
  head: ColumnType<string, string | bigint, string | bigint>;
  last_block_hash: string | null;
  /** When block next_block − 1 was made, on the chain's clock: orders wait for the watcher to scan past their deadline. */
  last_block_time: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Each of the chain's nodes as the last round saw it (null with one node). */
  nodes: ColumnType<NodeStatus[] | null, string | null | undefined, string | null>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** The tables of the chain watchers' cursors, as the `Database` type joins them (db/database.ts). */
export interface ChainTables {
  chain_cursors: ChainCursorsTable;
}
