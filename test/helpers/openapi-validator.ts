/**
 * Checks every answer an integration test receives against the OpenAPI document, with a real
 * JSON Schema 2020-12 validator (ajv): the operation must exist, the status must be one it
 * documents, and the body must match that status's schema. A response the spec does not describe
 * fails the test that received it, so the contract cannot drift from what the code answers.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/api/openapi';

type Json = Record<string, any>;

const document = openApiDocument() as Json;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(document, 'openapi.json');

const operations = Object.entries(document.paths as Json).map(([template, methods]) => ({
  template,
  pattern: new RegExp(`^/api/v1${template.replace(/\{\w+\}/g, '[^/]+')}$`),
  methods: methods as Json,
}));

const compiled = new Map<string, ValidateFunction>();
function validatorFor(pointer: string): ValidateFunction {
  let validate = compiled.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi.json#${pointer}` });
    compiled.set(pointer, validate);
  }
  return validate;
}

const escape = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/** Throws, naming what differs, when the answer to `method url` is not what the spec documents. */
export async function assertMatchesSpec(method: string, url: string, response: Response): Promise<void> {
  const { pathname } = new URL(url);
  if (!pathname.startsWith('/api/v1/') || pathname === '/api/v1/openapi.json') return;
  const type = response.headers.get('content-type') ?? '';
  // A stream of events, or a CSV file: not a JSON answer (their own tests read them).
  if (type.startsWith('text/event-stream') || (type.startsWith('text/csv') && response.ok)) return;
  const body: unknown = JSON.parse(await response.clone().text());
  const operation = operations.find((candidate) => candidate.pattern.test(pathname) && candidate.methods[method.toLowerCase()]);
  const where = `${method} ${pathname} answered ${response.status}`;
  if (!operation) {
    // No route: the catch-all's 401, 404, or 405 (a path the spec has, with another method), in the error shape.
    if (response.status === 405 && !operations.some((candidate) => candidate.pattern.test(pathname)))
      throw new Error(`${where}, but the spec has no such path`);
    if (![401, 404, 405].includes(response.status)) throw new Error(`${where}, but the spec has no such operation`);
    return check(validatorFor('/components/schemas/Error'), body, where);
  }
  const responses = operation.methods[method.toLowerCase()].responses as Json;
  const documented = responses[String(response.status)];
  if (!documented) throw new Error(`${where}, a status the spec does not document for it (documented: ${Object.keys(responses).join(', ')})`);
  const pointer = documented.$ref
    ? `${(documented.$ref as string).slice(1)}/content/application~1json/schema`
    : `/paths/${escape(operation.template)}/${method.toLowerCase()}/responses/${response.status}/content/application~1json/schema`;
  check(validatorFor(pointer), body, where);
}

function check(validate: ValidateFunction, body: unknown, where: string): void {
  if (!validate(body)) {
    throw new Error(
      `${where} with a body the spec does not allow:\n${ajv.errorsText(validate.errors, { separator: '\n' })}\n${JSON.stringify(body).slice(0, 2000)}`,
    );
  }
}
