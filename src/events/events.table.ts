import type { ColumnType, Insertable, Selectable } from 'kysely';

/** The event log: the outbox webhooks are delivered from, written in the same transaction as the change. */
export interface EventsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  type: string;
  data: ColumnType<Record<string, unknown>, string, never>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export type Event = Selectable<EventsTable>;
export type NewEvent = Insertable<EventsTable>;

/** The tables of events, as the `Database` type joins them (db/database.ts). */
export interface EventTables {
  events: EventsTable;
}
