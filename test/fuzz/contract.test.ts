import fc from 'fast-check';
import { buildMerchant, testPayoutSettings } from '../../dev/fixtures';
import { openApiDocument } from '../../src/api/openapi';
import { completeDeposit } from '../../src/deposits/transitions';
import { idPattern, type IdKind } from '../../src/domain/ids';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import type { TestApi } from '../helpers/api';
import { startTestStack, type TestStack } from '../helpers/api-stack';
import type { TestDatabase } from '../helpers/database';
import { schemaArbitraries } from './schema-arbitrary';

/**
 * The contract from the client's side: for every operation of the OpenAPI document, requests
 * generated from nothing but the document (its parameters' and bodies' schemas) are accepted, or
 * refused with a 4xx the document gives for a reason a schema cannot (the state of the objects the
 * request names): a 404 for a well-formed id that names nothing, a 409 the operation documents,
 * a 400 whose code its description names. Every answer is also checked against the document
 * (test/helpers/api.ts), so the document and the API agree both ways.
 *
 * No worker polls the API's task queue, so nothing the requests start runs, and nothing is ever
 * delivered; URLs are generated on loopback all the same, and the operations that take a URL
 * (webhook endpoints) are left to the fuzz suite, which keeps its URLs local.
 *
 * Reproduce or explore: FUZZ_SEED=<seed> FUZZ_RUNS=<runs scale> npx jest test/fuzz/contract.
 */
const seed = Number(process.env.FUZZ_SEED ?? 20261207);
const runsScale = Number(process.env.FUZZ_RUNS ?? 1);
const runs = Math.max(1, Math.round(25 * runsScale));

type Json = Record<string, any>;

const document = openApiDocument() as Json;

interface DocumentedOperation {
  method: string;
  template: string;
  operation: Json;
}

const documented: DocumentedOperation[] = Object.entries(document.paths as Json).flatMap(([template, methods]) =>
  Object.entries(methods as Json).map(([method, operation]) => ({ method: method.toUpperCase(), template, operation: operation as Json })),
);

/** Operations whose input is a URL inflow would deliver to: the fuzz suite covers them with loopback URLs only. */
const takesUrl = (operation: Json) => JSON.stringify(operation.requestBody ?? {}).includes('"url"');
/** A stream answers forever (event-stream.test.ts covers it); an export answers a file, not JSON (lookups.test.ts covers it). */
const streams = (operation: Json) => Boolean(operation.responses['200']?.content?.['text/event-stream'] ?? operation.responses['200']?.content?.['text/csv']);
/** Cancelling a real order asks its workflow, which no worker runs here: only ids that name nothing are sent. */
const unknownIdsOnly = new Set(['cancelOrder']);

// Reads first, then writes, deletes last: an archived customer or a deleted key then meets fewer of the other operations.
const order = ['GET', 'POST', 'PATCH', 'DELETE'];
const operations = documented
  .filter(({ operation }) => !takesUrl(operation) && !streams(operation))
  .sort((a, b) => order.indexOf(a.method) - order.indexOf(b.method));

describe(`the contract: requests generated from docs/openapi.json (fast-check seed ${seed})`, () => {
  let database: TestDatabase;
  let stack: TestStack;
  let api: TestApi;
  let acme: CreatedMerchant;
  /** Ids of objects that exist, per id pattern: generated requests prefer them to random well-formed ids. */
  const known = new Map<string, string[]>();
  const remember = (kind: IdKind, id: string) => {
    const pattern = idPattern(kind).source;
    known.set(pattern, [...(known.get(pattern) ?? []), id]);
  };

  beforeAll(async () => {
    // Payouts enabled, as an operator would: their refusals are then the documented ones (no worker sends them).
    stack = await startTestStack('contract-unpolled', { worker: false, api: { payouts: testPayoutSettings } });
    ({ database, api } = stack);
    acme = await buildMerchant(database.db, 'Acme');
    const create = async (path: string, body: unknown) => {
      const response = await api.request(`/api/v1${path}`, { method: 'POST', key: acme.test_key, json: body });
      expect(response.status).toBe(200);
      return ((await response.json()) as { id: string }).id;
    };
    const customerId = await create('/customers', { email: 'contract@example.com' });
    remember('customer', customerId);
    const orderId = await create('/orders', { external_id: 'contract', network: 'ethereum', currency: 'USDT', amount: '10' });
    remember('order', orderId);
    const depositId = await create('/deposits/simulate', { customer_id: customerId, network: 'ethereum', currency: 'USDT', amount: '1' });
    remember('deposit', depositId);
    // Completed as the worker's activity would (none runs here), so the ledger has a transaction to name.
    await completeDeposit(database.db, depositId, { confirmations: 12, priceUsd: '1.00' });
    const ledger = await database.db.selectFrom('ledger_transactions').select('id').execute();
    for (const { id } of ledger) remember('ledgerTransaction', id);
    remember('webhookEndpoint', await create('/webhook-endpoints', { url: 'http://127.0.0.1:9/contract', events: ['*'] }));
    // Another key than the caller's: rolling or deleting the caller's own would lock the run out.
    remember('apiKey', await create('/api-keys', { name: 'Contract', permissions: 'read_only' }));
    const events = await database.db.selectFrom('events').select('id').execute();
    for (const { id } of events) remember('event', id);
  });

  afterAll(async () => {
    await stack?.stop();
    await database?.destroy();
  });

  it('covers every operation of the document but those that take a URL, stream or export', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    expect(documented.filter((candidate) => !operations.includes(candidate)).map(({ operation }) => operation.operationId)).toEqual([
      'exportDeposits',
      'exportBalanceTransactions',
      'streamEvents',
      'createWebhookEndpoint',
      'updateWebhookEndpoint',
    ]);
  });

  describe.each(operations)('$method $template', ({ method, template, operation }) => {
    it('accepts schema-valid requests, or refuses them for a documented reason that depends on state', async () => {
      const arbitraries = schemaArbitraries(document, (pattern) => (unknownIdsOnly.has(operation.operationId) ? [] : (known.get(pattern) ?? [])));
      const parameters = (operation.parameters ?? []) as Json[];
      // Path parameters are always required; query and header parameters when the document says so.
      const parametersIn = (place: string): fc.Arbitrary<Record<string, string>> => {
        const these = parameters.filter((parameter) => parameter.in === place);
        const values = Object.fromEntries(
          these.map((parameter) => [parameter.name as string, arbitraries.of(parameter.schema as Json) as fc.Arbitrary<string>]),
        );
        const requiredKeys = these.filter((parameter) => parameter.required).map((parameter) => parameter.name as string);
        return fc.record(values, { requiredKeys }) as fc.Arbitrary<Record<string, string>>;
      };
      const path = parametersIn('path');
      const query = parametersIn('query');
      const headers = parametersIn('header');
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema as Json | undefined;
      const body = bodySchema
        ? operation.requestBody.required
          ? arbitraries.of(bodySchema)
          : fc.option(arbitraries.of(bodySchema), { nil: undefined })
        : fc.constant(undefined);

      await fc.assert(
        fc.asyncProperty(path, query, headers, body, async (pathValues, queryValues, headerValues, generated) => {
          // A URL inflow would call back goes to this machine, where nothing listens (and no worker runs to call it).
          const bodyValue =
            generated && typeof generated === 'object' && 'callback_url' in generated
              ? { ...generated, callback_url: 'http://127.0.0.1:9/contract' }
              : generated;
          const url = `/api/v1${template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathValues[name] ?? ''))}`;
          const search = new URLSearchParams(queryValues).toString();
          const response = await api.request(`${url}${search ? `?${search}` : ''}`, {
            method,
            key: acme.test_key,
            headers: headerValues,
            ...(bodyValue !== undefined ? { json: bodyValue } : {}),
          });
          const answer = (await response.json()) as Json;
          const sent = `${method} ${url}${search ? `?${search}` : ''} ${bodyValue !== undefined ? JSON.stringify(bodyValue) : ''} ${JSON.stringify(headerValues)}`;
          if (response.status === 200) {
            if (operation.operationId === 'createApiKey') remember('apiKey', answer.id as string);
            if (operation.operationId === 'rollApiKey') remember('apiKey', answer.id as string);
            return;
          }
          expect({ sent, status: response.status, error: answer.error }).toEqual({ sent, status: response.status, error: expect.anything() });
          const { code, param } = answer.error as { code: string; param?: string };
          const documentedCode = (operation.description as string).includes(`\`${code}\``);
          const stateDependent =
            // A well-formed id that names nothing: in the path, the body or the query.
            (response.status === 404 && code === 'resource_missing') ||
            (response.status === 400 && code === 'resource_missing' && param === 'starting_after') ||
            (response.status === 409 && operation.responses['409'] !== undefined && (documentedCode || code === 'idempotency_key_in_use')) ||
            (response.status === 400 && documentedCode);
          if (!stateDependent) throw new Error(`${sent}\nanswered ${response.status} ${JSON.stringify(answer)}`);
        }),
        { seed, numRuns: runs, endOnFailure: true },
      );
    });
  });
});
