import type { ColumnType, Selectable } from 'kysely';

/** One signed-in dashboard browser, bound to one merchant: each mode's API key sealed with INFLOW_SECRET_KEY. */
export interface DashboardSessionsTable {
  /** SHA-256 (hex) of the cookie's random token. */
  id: string;
  csrf_token: string;
  mode: 'test' | 'live';
  test_key_sealed: string | null;
  live_key_sealed: string | null;
  /** The merchant both keys belong to (GET /api/v1/account at sign-in): a key of another is refused. */
  merchant_id: string;
  /** Its name at sign-in, shown in the layout. */
  merchant_name: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  expires_at: Date;
}

export type DashboardSessionRow = Selectable<DashboardSessionsTable>;

/** The tables of the dashboard's sessions, as the `Database` type joins them (db/database.ts). */
export interface DashboardTables {
  dashboard_sessions: DashboardSessionsTable;
}
