import type { ColumnType, Selectable } from 'kysely';

/** Workflow starts committed with the rows they read, waiting for a relay to hand them to Temporal. */
export interface WorkflowOutboxTable {
  workflow_id: string;
  workflow_type: string;
  args: ColumnType<unknown[], string, never>;
  created_at: ColumnType<Date, Date | undefined, never>;
  available_at: ColumnType<Date, Date | undefined, Date>;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
}

export type QueuedWorkflowStart = Selectable<WorkflowOutboxTable>;

/** The tables of the outbox of workflow starts, as the `Database` type joins them (db/database.ts). */
export interface OutboxTables {
  workflow_outbox: WorkflowOutboxTable;
}
