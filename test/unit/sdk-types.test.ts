import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

describe("the SDK's generated types", () => {
  it('are committed as sdk/src/openapi.ts exactly as `npm run docs` generates them from the OpenAPI document', () => {
    // A process of its own: the generator loads an ES-module-only package that jest's module loader cannot (dev/docs.ts).
    const generated = execFileSync(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'dev', 'docs.ts'), '--print-sdk-types'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(readFileSync(path.join(root, 'sdk', 'src', 'openapi.ts'), 'utf8')).toBe(generated);
  });
});
