export { Inflow } from './inflow';
export { InflowClient, SDK_VERSION, type InflowOptions, type Method, type StreamMethod, type StreamOptions, type StreamRequest } from './client';
export { ListRequest, type List } from './list';
export type { ArgsOf, IdempotentRequestOptions, OperationId, RequestOptions, ResultOf, Schemas } from './operations';
export {
  APIError,
  AuthenticationError,
  ConnectionError,
  IdempotencyError,
  InflowError,
  InvalidRequestError,
  PermissionError,
  RateLimitError,
  type ApiErrorType,
} from './errors';
export {
  verify,
  webhooks,
  WebhookVerificationError,
  type CallbackAmount,
  type HeadersLike,
  type OrderCallback,
  type VerifyOptions,
  type WebhookEvent,
} from './webhooks';
export type { components, operations, paths } from './openapi';
