/** `npm run docs`: writes the OpenAPI document generated from the code to docs/openapi.json. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openApiDocument } from '../src/api/openapi';

const target = path.join(__dirname, '..', 'docs', 'openapi.json');
writeFileSync(target, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), target)}`);
