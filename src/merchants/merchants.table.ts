import type { ColumnType, Insertable, Selectable } from 'kysely';

export interface MerchantsTable {
  id: string;
  name: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export type Merchant = Selectable<MerchantsTable>;
export type NewMerchant = Insertable<MerchantsTable>;

/** The tables of merchants, as the `Database` type joins them (db/database.ts). */
export interface MerchantTables {
  merchants: MerchantsTable;
}
