/**
 * The OpenAPI 3.1 document, generated from the operations the routes are registered from
 * (`operation.ts`) and their zod schemas: `GET /api/v1/openapi.json` serves it, `npm run docs`
 * writes it to docs/openapi.json, and a test fails when either drifts from the router.
 */
import Router from '@koa/router';
import { z } from 'zod';
import { eventCatalogue, type EventType } from '../domain/events';
import { EventObject } from '../events/events.schema';
import type { AppState } from './context';
import { apiModules } from './modules';
import { accessOf, type Operation } from './operation';
import { ErrorObject, idOf } from './schema';

export const operations: Operation[] = apiModules.flatMap((module) => Object.values(module.operations));

type JsonSchema = Record<string, unknown>;

const tags = apiModules.map((module) => module.tag);

/** The whole document; deterministic, so the committed copy can be compared byte for byte. */
export function openApiDocument(): JsonSchema {
  const components = new Components();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const operation of operations) {
    const path = operation.path.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[operation.method] = describeOperation(operation, components);
  }
  const webhooks = Object.fromEntries(
    (Object.keys(eventCatalogue) as EventType[]).map((type) => [
      type,
      {
        post: {
          summary: type,
          description: eventCatalogue[type].description,
          operationId: `webhook_${type.replace('.', '_')}`,
          parameters: webhookHeaders,
          requestBody: { required: true, content: { 'application/json': { schema: components.add(EventObject, 'output') } } },
          responses: { '2XX': { description: 'Any 2xx acknowledges the delivery; anything else is retried (a 410 disables the endpoint).' } },
        },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'inflow API',
      version: '1',
      summary: 'Self-hostable crypto payments: customers with permanent deposit addresses, deposits, orders, a ledger and signed webhooks.',
      description:
        'Authenticate with `Authorization: Bearer sk_test_…` (test mode) or `sk_live_…` (live mode); the key decides the mode. Every error answers with the `Error` shape. Lists are cursor-paginated, newest first. Amounts are exact decimal strings. Every id has its pattern: a malformed one is a 400 naming the field, a well-formed one that names nothing a 404. A method a path does not serve is a 405 `method_not_allowed` with `Allow`.',
    },
    servers: [{ url: 'http://localhost:3000/api/v1', description: 'A local inflow (`npm run dev`)' }],
    security: [{ apiKey: [] }],
    tags,
    paths,
    webhooks,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A secret key: `sk_test_…` or `sk_live_…`.' },
      },
      schemas: components.schemas,
      responses: errorResponses(components),
    },
  };
}

/** Serves the document, unauthenticated (it holds nothing secret), at /api/v1/openapi.json. */
export function openApiRoutes(): Router<AppState> {
  const router = new Router<AppState>();
  let document: string | undefined;
  router.get('/api/v1/openapi.json', (ctx) => {
    document ??= JSON.stringify(openApiDocument());
    ctx.type = 'application/json';
    ctx.body = document;
  });
  return router;
}

function describeOperation(operation: Operation, components: Components): JsonSchema {
  const access = accessOf(operation);
  const pathParameters = [...operation.path.matchAll(/:(\w+)/g)].map(([, name]) => {
    if (name !== 'id' || !operation.pathId) throw new Error(`OpenAPI: ${operation.operationId} has :${name} in its path but no pathId to say what it names`);
    return { name, in: 'path', required: true, schema: components.add(idOf(operation.pathId), 'input') };
  });
  const queryParameters = operation.query ? queryParametersOf(components.add(operation.query, 'input')) : [];
  const idempotencyHeader = operation.idempotent
    ? [
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'Retry safely: the same key with the same body answers the first answer again for 24 h (409 while the first is in flight).',
          // What an HTTP header can carry (visible ASCII, inner spaces), as the API reads it.
          schema: { type: 'string', maxLength: 255, pattern: '^[!-~]([ -~]*[!-~])?$' },
        },
      ]
    : [];
  // 404 names a missing object: the path's, or one the body refers to (a customer_id, an order_id).
  const errors = [
    '400',
    '401',
    '403',
    ...(pathParameters.length || operation.body || operation.streams ? ['404'] : []),
    ...(operation.idempotent || operation.conflicts ? ['409'] : []),
    ...(operation.body ? ['413'] : []),
    '429',
    '500',
    '503',
  ];
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    description: [
      operation.description,
      ...Object.entries(operation.conflicts ?? {}).map(([code, when]) => `409 \`${code}\`: ${when}`),
      operation.resource ? `Needs \`${access}\` permission on \`${operation.resource}\`.` : 'Any API key may call it, whatever its permissions.',
    ]
      .filter(Boolean)
      .join('\n\n'),
    tags: [operation.tag],
    ...(operation.resource ? { 'x-inflow-permission': { resource: operation.resource, access } } : {}),
    ...(operation.testModeOnly ? { 'x-inflow-test-mode-only': true } : {}),
    ...(operation.streams ? { 'x-inflow-item': components.add(operation.response, 'output') } : {}),
    parameters: [...pathParameters, ...queryParameters, ...idempotencyHeader, ...(operation.streams === 'text/event-stream' ? [lastEventIdHeader] : [])],
    ...(operation.body ? { requestBody: requestBodyOf(components.add(operation.body, 'input'), components) } : {}),
    responses: {
      '200': {
        description: 'OK',
        headers: rateLimitHeaders,
        content: operation.streams
          ? {
              [operation.streams]: {
                schema: {
                  type: 'string',
                  description:
                    operation.streams === 'text/csv'
                      ? "CSV (RFC 4180): a header row, then one line per object of this operation's `x-inflow-item`, its fields as the header names them."
                      : "Server-sent events; each `data:` line holds one object of this operation's `x-inflow-item`.",
                },
              },
            }
          : { 'application/json': { schema: components.add(operation.response, 'output') } },
      },
      ...Object.fromEntries(errors.map((status) => [status, { $ref: `#/components/responses/${errorResponseNames[status]}` }])),
    },
  };
}

/** A body whose every field is optional may be left out (`{}` is the same). */
function requestBodyOf(schema: JsonSchema, components: Components): JsonSchema {
  const resolved = components.resolve(schema);
  // A body whose every shape (`oneOf`) requires fields is required too, as one with required fields is.
  const requires = (shape: JsonSchema) => Array.isArray(shape.required) && shape.required.length > 0;
  const required = requires(resolved) || (Array.isArray(resolved.oneOf) && (resolved.oneOf as JsonSchema[]).every(requires));
  return { required, content: { 'application/json': { schema } } };
}

function queryParametersOf(schema: JsonSchema): JsonSchema[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: 'query', required: required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

const errorResponseNames: Record<string, string> = {
  '400': 'InvalidRequest',
  '401': 'Unauthenticated',
  '403': 'PermissionDenied',
  '404': 'NotFound',
  '409': 'Conflict',
  '413': 'BodyTooLarge',
  '429': 'RateLimited',
  '500': 'InternalError',
  '503': 'Unavailable',
};

function errorResponses(components: Components): JsonSchema {
  const content = { 'application/json': { schema: components.add(ErrorObject, 'output') } };
  const described = (description: string, headers?: JsonSchema) => ({ description, ...(headers ? { headers } : {}), content });
  return {
    InvalidRequest: described('The request is invalid: `param` names the field. Nothing was written.'),
    Unauthenticated: described('No valid API key.'),
    PermissionDenied: described("The key's permissions do not allow this, or the mode does not (e.g. a live key on a test-only route)."),
    NotFound: described("No such object for this key's merchant and mode."),
    Conflict: described(
      "An Idempotency-Key in use by a request still in flight, or reused with another body (`idempotency_error`); or the object exists already, or is in a state the action does not apply to (`invalid_request_error`, the operation's description says which code).",
    ),
    BodyTooLarge: described('The body is over the size limit.'),
    RateLimited: described("Over the key's request rate or concurrency limit: retry after `Retry-After` seconds.", {
      'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait.' },
      ...rateLimitHeaders,
    }),
    InternalError: described('A bug: nothing internal is said; the `Request-Id` header finds the request in the log.'),
    Unavailable: described('A dependency (Postgres, Temporal) is unavailable; nothing was changed. Retry later.'),
  };
}

const rateLimitHeaders = {
  'RateLimit-Policy': { schema: { type: 'string' }, description: 'The key\'s request-rate policies (IETF draft 11), e.g. `"reads";q=100;w=1`.' },
  RateLimit: { schema: { type: 'string' }, description: 'What is left of the policy this request counted against, e.g. `"reads";r=99;t=1`.' },
};

const lastEventIdHeader = {
  name: 'Last-Event-ID',
  in: 'header',
  required: false,
  description: "Resume after this event (one of the key's own; 404 otherwise): what was made after it, and in the 30 s before it, is sent.",
  schema: { type: 'string' },
};

const webhookHeaders = [
  { name: 'webhook-id', in: 'header', required: true, schema: { type: 'string' }, description: 'The event id: the same on every retry; deduplicate on it.' },
  { name: 'webhook-timestamp', in: 'header', required: true, schema: { type: 'string' }, description: 'Unix seconds when this attempt was signed.' },
  {
    name: 'webhook-signature',
    in: 'header',
    required: true,
    schema: { type: 'string' },
    description: '`v1,<base64 HMAC-SHA256 of "id.timestamp.body" under the endpoint secret>` (Standard Webhooks).',
  },
];

/**
 * The document's named schemas. zod writes a schema with a registered `id` (`.meta({ id })`) to
 * `$defs`; they move here and their references are rewritten. One name must mean one schema, in
 * requests and responses alike, or generation fails rather than publish two meanings.
 */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  add(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const {
      $schema: _,
      $defs,
      ...json
    } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any', reused: 'inline', override: portable }) as JsonSchema;
    for (const [name, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) this.define(name, rewriteRefs(definition) as JsonSchema);
    // A schema with an id of its own comes back as a reference to its definition.
    return rewriteRefs(json) as JsonSchema;
  }

  resolve(schema: JsonSchema): JsonSchema {
    const ref = typeof schema.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : undefined;
    return ref ? this.schemas[ref]! : schema;
  }

  private define(name: string, definition: JsonSchema): void {
    const { id: _id, ...body } = definition;
    const existing = this.schemas[name];
    if (existing && JSON.stringify(existing) !== JSON.stringify(body)) {
      throw new Error(
        `OpenAPI: the schema '${name}' differs between its uses (a default or transform makes input and output differ): give one of them another id`,
      );
    }
    this.schemas[name] = body;
  }
}

/**
 * What zod writes that generators stumble on, and that says nothing `format` and `type` do not:
 * the regular expression beside `format: date-time` (openapi-generator's Python client emits a
 * validator it forgot to import), and the ±2^53 bounds on every integer.
 */
function portable({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
  // An email is checked with zod's pattern, which the document carries; `format: email` is another
  // check (ajv's refuses `a@b-.com`, which the pattern allows), so publishing both said less than either.
  if (jsonSchema.format === 'email' && typeof jsonSchema.pattern === 'string') delete jsonSchema.format;
  if (jsonSchema.type === 'integer') {
    if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
    if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  }
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' ? inner.replace('#/$defs/', '#/components/schemas/') : rewriteRefs(inner),
    ]),
  );
}
