import type { Insertable, Selectable } from 'kysely';

/**
 * One authenticated API request, as the request log keeps it (`GET /requests/{id}`): who asked,
 * what (method, path without its query string, the operation it reached) and how it ended (status,
 * the error's type, code and message when it was refused). Never the body, the key or the query
 * string. Written in batches after the answer (request-log.ts), pruned after
 * INFLOW_REQUEST_LOG_RETENTION_DAYS.
 */
export interface ApiRequestsTable {
  /** The `Request-Id` the answer carried (`req_…`); ids sort by time, so the cursor and the prune use it. */
  id: string;
  merchant_id: string;
  livemode: boolean;
  api_key_id: string;
  method: string;
  path: string;
  /** The operation the request reached (`retrieveCustomer`); null when no route matched. */
  operation_id: string | null;
  status: number;
  error_type: string | null;
  error_code: string | null;
  error_message: string | null;
  error_param: string | null;
  idempotency_key: string | null;
  duration_ms: number;
  /** When the request arrived. */
  created_at: Date;
}

export type ApiRequest = Selectable<ApiRequestsTable>;
export type NewApiRequest = Insertable<ApiRequestsTable>;

/** The request log's table, as the `Database` type joins it (db/database.ts). */
export interface RequestTables {
  api_requests: ApiRequestsTable;
}
