import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';

export interface MerchantsTable {
  id: string;
  name: string;
  /** What the hosted payment page calls the merchant; its name when null. */
  display_name: ColumnType<string | null, string | null | undefined, string | null>;
  /** The logo the payment page shows, served from inflow's own origin (PNG, JPEG, GIF or WebP). */
  logo: ColumnType<Buffer | null, Buffer | null | undefined, Buffer | null>;
  logo_type: ColumnType<string | null, string | null | undefined, string | null>;
  /** Its own daily payout limit in USD cents per mode (the operator's `merchant payout-limit`); null: INFLOW_PAYOUT_DAILY_LIMIT_USD_<MODE>. */
  payout_daily_limit_usd_cents_test: ColumnType<string | null, string | bigint | null | undefined, string | bigint | null>;
  payout_daily_limit_usd_cents_live: ColumnType<string | null, string | bigint | null | undefined, string | bigint | null>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export type Merchant = Selectable<MerchantsTable>;
export type NewMerchant = Insertable<MerchantsTable>;
export type MerchantUpdate = Updateable<MerchantsTable>;

/** The tables of merchants, as the `Database` type joins them (db/database.ts). */
export interface MerchantTables {
  merchants: MerchantsTable;
}
