import type { ColumnType, Insertable, Selectable } from 'kysely';

export interface MerchantsTable {
  id: string;
  name: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export type Merchant = Selectable<MerchantsTable>;
export type NewMerchant = Insertable<MerchantsTable>;
