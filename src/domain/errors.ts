/**
 * The error shape of the public contract (API.md): every error the API returns is an
 * InflowError, and the error middleware turns it into
 * `{"error":{"type","code","message","param"?}}` with its HTTP status.
 */
export type ErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'idempotency_error' | 'rate_limit_error' | 'api_error';

export abstract class InflowError extends Error {
  abstract readonly status: number;
  abstract readonly type: ErrorType;
  abstract readonly code: string;
  readonly param?: string;

  constructor(message: string, param?: string) {
    super(message);
    this.name = new.target.name;
    if (param !== undefined) this.param = param;
  }

  toJSON(): { error: { type: ErrorType; code: string; message: string; param?: string } } {
    return {
      error: {
        type: this.type,
        code: this.code,
        message: this.message,
        ...(this.param !== undefined ? { param: this.param } : {}),
      },
    };
  }
}

export class InvalidRequestError extends InflowError {
  readonly status = 400;
  readonly type = 'invalid_request_error';
  constructor(
    message: string,
    param?: string,
    readonly code: string = 'parameter_invalid',
  ) {
    super(message, param);
  }
}

export class AuthenticationError extends InflowError {
  readonly status = 401;
  readonly type = 'authentication_error';
  readonly code = 'api_key_invalid';
}

export class PermissionError extends InflowError {
  readonly status = 403;
  readonly type = 'permission_error';
  constructor(
    message: string,
    param?: string,
    readonly code: string = 'permission_denied',
  ) {
    super(message, param);
  }
}

export class ResourceMissingError extends InflowError {
  readonly status = 404;
  readonly type = 'invalid_request_error';
  readonly code = 'resource_missing';
}

/** A path the API serves, with a method it does not serve there: the `Allow` header names the ones it does. */
export class MethodNotAllowedError extends InflowError {
  readonly status = 405;
  readonly type = 'invalid_request_error';
  readonly code = 'method_not_allowed';
}

export class IdempotencyError extends InflowError {
  readonly status = 409;
  readonly type = 'idempotency_error';
  readonly code = 'idempotency_key_in_use';
}

/** The object is not in a state this action applies to (e.g. a key rolled already): it will not be, however often the request is retried. */
export class StateConflictError extends InflowError {
  readonly status = 409;
  readonly type = 'invalid_request_error';
  constructor(
    message: string,
    param: string | undefined,
    readonly code: string,
  ) {
    super(message, param);
  }
}

/** The object the request would create exists already (e.g. an order with the same external_id). */
export class ResourceExistsError extends InflowError {
  readonly status = 409;
  readonly type = 'invalid_request_error';
  readonly code = 'resource_already_exists';
}

export class BodyTooLargeError extends InflowError {
  readonly status = 413;
  readonly type = 'invalid_request_error';
  readonly code = 'body_too_large';
}

/** Too many requests for one API key: over its rate (`rate_limit_exceeded`) or too many at once (`concurrency_limit_exceeded`). */
export class RateLimitError extends InflowError {
  readonly status = 429;
  readonly type = 'rate_limit_error';
  constructor(
    message: string,
    readonly code: 'rate_limit_exceeded' | 'concurrency_limit_exceeded',
  ) {
    super(message);
  }
}

/** A dependency (Postgres, Temporal) is down: retry later; nothing was written. */
export class ServiceUnavailableError extends InflowError {
  readonly status = 503;
  readonly type = 'api_error';
  readonly code = 'service_unavailable';
}

export class InternalError extends InflowError {
  readonly status = 500;
  readonly type = 'api_error';
  readonly code = 'internal_error';
}
