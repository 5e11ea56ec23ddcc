import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { createApiRouter, type AppDeps } from '../../src/api/app';
import { openApiDocument } from '../../src/api/openapi';

/** Routes only close over their dependencies; building the router touches none of them. */
const unusedDeps = { rateLimits: { reads: 1, writes: 1, windowSeconds: 1, concurrentRequestsPerKey: 1 } } as unknown as AppDeps;

const document = openApiDocument() as { paths: Record<string, Record<string, { operationId: string }>> };

function documentedOperations(): string[] {
  return Object.entries(document.paths).flatMap(([template, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} /api/v1${template.replace(/\{(\w+)\}/g, ':$1')}`),
  );
}

function routedOperations(): string[] {
  const router = createApiRouter(unusedDeps);
  return router.stack
    .filter((layer) => layer.methods.length > 0 && !String(layer.path).includes('{*rest}'))
    .flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method} ${String(layer.path)}`));
}

describe('the OpenAPI document', () => {
  it('documents every route the router serves, and every operation it documents is routed', () => {
    const routed = routedOperations();
    expect(routed.length).toBeGreaterThan(15);
    expect(routed.filter((operation) => !documentedOperations().includes(operation))).toEqual([]);
    expect(documentedOperations().filter((operation) => !routed.includes(operation))).toEqual([]);
  });

  it('is committed as docs/openapi.json exactly as the code generates it (run `npm run docs` after changing the API)', () => {
    const committed = readFileSync(path.join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8');
    expect(committed).toBe(`${JSON.stringify(document, null, 2)}\n`);
  });

  it('is valid OpenAPI 3.1 by an independent validator (Redocly), with a unique operationId per operation', async () => {
    const config = await createConfig({ extends: ['minimal'], rules: { 'no-server-example.com': 'off' } });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: 'openapi.json', config });
    expect(problems.map((problem) => `${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer}`)).toEqual([]);
    const ids = Object.values(document.paths).flatMap((methods) => Object.values(methods).map((operation) => operation.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
