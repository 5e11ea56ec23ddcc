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

/** What the operator is told of (docs/operations.md#operator-events): not a merchant's, delivered to INFLOW_OPERATOR_WEBHOOK_URL. */
export type OperatorEventType = 'reconciliation.mismatch' | 'payouts.queued';

/** The operator's events: each written with what it is about, listed by `npm run cli -- operator-events`, delivered when configured. */
export interface OperatorEventsTable {
  id: string;
  type: OperatorEventType;
  livemode: boolean;
  data: ColumnType<Record<string, unknown>, string, never>;
  created_at: ColumnType<Date, Date | undefined, never>;
  /** When INFLOW_OPERATOR_WEBHOOK_URL answered 2xx; null until then (or when none is configured). */
  delivered_at: Date | null;
  attempts: ColumnType<number, number | undefined, number>;
  /** The last attempt's failure, in one line. */
  last_error: string | null;
}

export type OperatorEvent = Selectable<OperatorEventsTable>;

/** The tables of events, as the `Database` type joins them (db/database.ts). */
export interface EventTables {
  events: EventsTable;
  operator_events: OperatorEventsTable;
}
