/**
 * What a failed call throws: the API's error object (`{"error":{"type","code","message","param"?}}`)
 * as one class per `type`, so callers branch with `instanceof` and read `code` for the detail.
 * A request that never got an answer is a ConnectionError.
 */
import type { components } from './openapi';

export type ApiErrorType = components['schemas']['Error']['error']['type'];

interface ErrorFields {
  message: string;
  code: string;
  param?: string | undefined;
  statusCode?: number | undefined;
  requestId?: string | undefined;
  /** What failed underneath, for a ConnectionError. */
  cause?: unknown;
}

export abstract class InflowError extends Error {
  abstract readonly type: ApiErrorType | 'connection_error';
  /** What went wrong, for programs: `resource_missing`, `parameter_invalid`, `rate_limit_exceeded`… */
  readonly code: string;
  /** The request field at fault, when there is one. */
  readonly param: string | undefined;
  /** The HTTP status; undefined when no answer came. */
  readonly statusCode: number | undefined;
  /** The `Request-Id` the API answered with: quote it to support, it finds the request in the logs. */
  readonly requestId: string | undefined;

  constructor(fields: ErrorFields) {
    super(fields.message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.code = fields.code;
    this.param = fields.param;
    this.statusCode = fields.statusCode;
    this.requestId = fields.requestId;
  }
}

/** Bad parameters (400), an unknown object (404, code `resource_missing`), an object that exists already (409), a body too large (413). */
export class InvalidRequestError extends InflowError {
  readonly type = 'invalid_request_error';
}

/** No valid API key (401). */
export class AuthenticationError extends InflowError {
  readonly type = 'authentication_error';
}

/** The key may not do this, or not in this mode (403). */
export class PermissionError extends InflowError {
  readonly type = 'permission_error';
}

/** An Idempotency-Key reused with other parameters (409). */
export class IdempotencyError extends InflowError {
  readonly type = 'idempotency_error';
}

/** Over the key's rate or concurrency limit (429), after the SDK's own retries. */
export class RateLimitError extends InflowError {
  readonly type = 'rate_limit_error';
  /** The API's `Retry-After`, in seconds. */
  readonly retryAfterSeconds: number | undefined;

  constructor(fields: ErrorFields & { retryAfterSeconds?: number | undefined }) {
    super(fields);
    this.retryAfterSeconds = fields.retryAfterSeconds;
  }
}

/** The API failed (500), a dependency is down (503, after the SDK's own retries), or the answer was not the API's. */
export class APIError extends InflowError {
  readonly type = 'api_error';
}

/** No answer: the connection failed or the request timed out (code `connection_failed` or `timeout`). */
export class ConnectionError extends InflowError {
  readonly type = 'connection_error';
}

const classByType: Record<ApiErrorType, new (fields: ErrorFields) => InflowError> = {
  invalid_request_error: InvalidRequestError,
  authentication_error: AuthenticationError,
  permission_error: PermissionError,
  idempotency_error: IdempotencyError,
  rate_limit_error: RateLimitError,
  api_error: APIError,
};

/** The error an unsuccessful answer stands for; a body that is not the API's error shape (a proxy's page, say) is an APIError. */
export function errorFromResponse(statusCode: number, bodyText: string, headers: Headers): InflowError {
  const requestId = headers.get('request-id') ?? undefined;
  const error = parseErrorBody(bodyText);
  if (!error) {
    return new APIError({
      message: `HTTP ${statusCode} with a body that is not an inflow error: ${bodyText.slice(0, 200)}`,
      code: 'invalid_response',
      statusCode,
      requestId,
    });
  }
  const fields = { message: error.message, code: error.code, param: error.param, statusCode, requestId };
  if (error.type === 'rate_limit_error') return new RateLimitError({ ...fields, retryAfterSeconds: retryAfterSeconds(headers) });
  return new classByType[error.type](fields);
}

function parseErrorBody(text: string): components['schemas']['Error']['error'] | undefined {
  try {
    const error = (JSON.parse(text) as { error?: Record<string, unknown> } | null)?.error;
    if (typeof error?.message !== 'string' || typeof error.code !== 'string' || typeof error.type !== 'string' || !Object.hasOwn(classByType, error.type)) {
      return undefined;
    }
    return error as components['schemas']['Error']['error'];
  } catch {
    return undefined;
  }
}

/** `Retry-After` in seconds: a number of seconds or an HTTP date. */
export function retryAfterSeconds(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
