/** A logged request as the API shows it (`GET /requests/{id}`). */
import type { ApiRequest } from './api-requests.table';
import type { RequestObject } from './requests.schema';

export function requestObject(row: ApiRequest): RequestObject {
  return {
    id: row.id,
    object: 'request',
    livemode: row.livemode,
    api_key_id: row.api_key_id,
    method: row.method,
    path: row.path,
    operation_id: row.operation_id,
    status: row.status,
    error: row.error_type === null ? null : { type: row.error_type, code: row.error_code ?? '', message: row.error_message ?? '', param: row.error_param },
    idempotency_key: row.idempotency_key,
    duration_ms: row.duration_ms,
    created_at: row.created_at.toISOString(),
  };
}
