import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { idOf, listOf, Timestamp } from '../api/schema';

export const requestMethods = ['GET', 'POST', 'PATCH', 'DELETE'] as const;

export const ListRequestsQuery = z.strictObject({
  ...paginationParams('request'),
  status: z
    .string()
    .regex(/^[1-5]\d\d$/, 'must be an HTTP status code from 100 to 599')
    .transform(Number)
    .meta({ description: 'Only requests answered with exactly this HTTP status, e.g. `404`.' })
    .optional(),
  failed: z
    .enum(['true', 'false'])
    .meta({ description: '`true`: only requests answered with a status of 400 or more; `false`: only those answered below 400.' })
    .optional()
    .transform((failed) => (failed === undefined ? undefined : failed === 'true')),
  method: z.enum(requestMethods).meta({ description: 'Only requests with this HTTP method.' }).optional(),
  api_key_id: idOf('apiKey').meta({ description: 'Only requests made with this API key.' }).optional(),
});

export const RequestObject = z
  .object({
    id: idOf('request').meta({ description: 'The `Request-Id` header of the answer.' }),
    object: z.literal('request'),
    livemode: z.boolean(),
    api_key_id: idOf('apiKey').meta({ description: 'The key that made the request (never the key itself).' }),
    method: z.string(),
    path: z.string().meta({ description: 'The path as requested, under `/api/v1`, without its query string (which is never kept).' }),
    operation_id: z
      .string()
      .nullable()
      .meta({ description: 'The operation the request reached, as the OpenAPI document names it (`retrieveCustomer`); null when no route matched.' }),
    status: z.number().int().meta({ description: 'The HTTP status of the answer.' }),
    error: z
      .object({
        type: z.string(),
        code: z.string(),
        message: z.string(),
        param: z.string().nullable(),
      })
      .nullable()
      .meta({ description: 'The error the answer gave (as `{"error": …}` said it), or null for a success.' }),
    idempotency_key: z.string().nullable().meta({ description: 'The `Idempotency-Key` header the request sent, if any.' }),
    duration_ms: z.number().int().meta({ description: 'How long the answer took, in whole milliseconds.' }),
    created_at: Timestamp.meta({ description: 'When the request arrived.' }),
  })
  .meta({ id: 'Request' });
export type RequestObject = z.infer<typeof RequestObject>;

const tag = 'Requests';

export const requestOperations = {
  list: defineOperation({
    operationId: 'listRequests',
    method: 'get',
    path: '/requests',
    tag,
    resource: 'requests',
    summary: 'List requests',
    description:
      "The mode's logged API requests, newest first, filtered by `status`, `failed`, `method` or `api_key_id`. Requests are written to the log in batches a fraction of a second after their answer (by the API process that served them), so the newest may not be listed yet.",
    query: ListRequestsQuery,
    response: listOf(RequestObject),
  }),
  retrieve: defineOperation({
    operationId: 'retrieveRequest',
    method: 'get',
    path: '/requests/:id',
    pathId: 'request',
    tag,
    resource: 'requests',
    summary: 'Retrieve a request',
    description:
      "A request by the `Request-Id` its answer carried: method, path (never the query string), the operation it reached, status, the error it was answered with, `Idempotency-Key` and duration. Only requests whose key authenticated are logged; another merchant's or mode's request is a 404. A request served by another API process may take a few hundred milliseconds to be found.",
    response: RequestObject,
  }),
};
