import { readFileSync } from 'node:fs';

/**
 * A compose env file: `NAME=value` lines and `#` comments. Values are taken as written, with no
 * quotes or interpolation (test/unit/docker-compose.test.ts checks the files need none, so
 * docker compose reads them the same way).
 */
export function readEnvFile(file: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    const equals = text.indexOf('=');
    if (equals <= 0) throw new Error(`${file}: not NAME=value: ${text}`);
    entries[text.slice(0, equals)] = text.slice(equals + 1);
  }
  return entries;
}
