import type { Middleware } from 'koa';
import type { z } from 'zod';
import { InvalidRequestError } from '../../domain/errors';
import type { AppContext, AppState } from '../context';

/**
 * Parses the request body (POST/PATCH) or query string (GET/DELETE) with a zod schema into
 * ctx.state.input; the first problem becomes a 400 naming the offending field in `param`.
 */
export function validate<Schema extends z.ZodType>(schema: Schema): Middleware<AppState> {
  return async (ctx, next) => {
    const source = ['POST', 'PATCH', 'PUT'].includes(ctx.method) ? ctx.state.body : ctx.query;
    const result = schema.safeParse(source ?? {});
    if (!result.success) throw toInvalidRequest(result.error, source);
    ctx.state.input = result.data;
    return next();
  };
}

/** The validated input of a route chained after validate(schema) (as `route()` chains an operation's `body` or `query`). */
export function inputOf<Schema extends z.ZodType>(ctx: AppContext, _schema: Schema | undefined): z.infer<Schema> {
  return ctx.state.input as z.infer<Schema>;
}

function toInvalidRequest(error: z.ZodError, source: unknown): InvalidRequestError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const param = paramName([...issue.path, key]);
    return new InvalidRequestError(`Received unknown parameter: ${param}`, param, 'parameter_unknown');
  }
  const param = paramName(issue.path);
  // A rule of the schema's own that names its code (refusingReadOnly's `parameter_read_only`).
  if (issue.code === 'custom' && typeof issue.params?.code === 'string') return new InvalidRequestError(`${param} ${issue.message}`, param, issue.params.code);
  // A field that is absent, whether its type or a rule across fields asks for it.
  if ((issue.code === 'invalid_type' || issue.code === 'custom') && valueAt(source, issue.path) === undefined) {
    return new InvalidRequestError(`Missing required param: ${param}.`, param, 'parameter_missing');
  }
  return new InvalidRequestError(`Invalid ${param}: ${plainMessage(issue)}`, param);
}

/**
 * What was wrong, in the API's words rather than the validation library's ("Too small: expected
 * string to have >=1 characters"). A message a schema wrote itself (a pattern's) is kept.
 */
function plainMessage(issue: z.core.$ZodIssue): string {
  const quoted = (values: readonly unknown[]) => values.map((value) => JSON.stringify(value)).join(', ');
  switch (issue.code) {
    case 'too_small':
    case 'too_big': {
      const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const most = issue.code === 'too_small' ? 'at least' : 'at most';
      if (issue.origin === 'string') return issue.code === 'too_small' && bound === 1 ? 'must not be empty' : `must be ${most} ${bound} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have ${most} ${bound} item${bound === 1 ? '' : 's'}`;
      return `must be ${most} ${bound}`;
    }
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${quoted(issue.values)}` : `must be one of ${quoted(issue.values)}`;
    case 'invalid_type':
      return `must be ${article(issue.expected === 'int' ? 'whole number' : issue.expected)}`;
    case 'invalid_format':
      if (issue.message.startsWith('Invalid string: must match pattern')) return `must match the pattern ${'pattern' in issue ? issue.pattern : ''}`.trim();
      if (issue.format === 'datetime') return 'must be an ISO 8601 time with its offset, e.g. 2026-12-01T00:00:00Z';
      return issue.message.startsWith('Invalid') ? `must be a valid ${issue.format}` : issue.message;
    default:
      return issue.message;
  }
}

function article(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

function valueAt(source: unknown, path: PropertyKey[]): unknown {
  let value = source;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/** Stripe's spelling of a nested field: metadata[order_id]. */
function paramName(path: PropertyKey[]): string {
  return path.map((part, i) => (i === 0 ? String(part) : `[${String(part)}]`)).join('');
}
