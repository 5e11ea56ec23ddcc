/**
 * Two rules of the layout (docs/architecture.md) that the compiler cannot hold:
 *
 * - One emitter: event rows and webhook deliveries are written only by src/events/emitter.ts.
 *   The repository functions that insert them, and the outbox's delivery starts, are imported
 *   nowhere else in src/, and no raw SQL inserts into those tables.
 * - Temporal stays at the edges: the capabilities' services throw domain failures
 *   (domain/failures.ts) and never import @temporalio; only the workflows, the activity edge, the
 *   worker, the Temporal client's wiring and the HTTP frame's health and error mapping may.
 *
 * Fixtures in dev/ and tests may write rows directly to build a state; src/ may not.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { apiModules } from '../../src/api/modules';

const root = path.join(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

/** The code of a file without its comments (which may name what they do not do). */
function code(file: string): string {
  return readFileSync(path.join(root, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

/** Names of the exported functions of `file` whose body inserts into one of `tables`. */
function insertingFunctions(file: string, tables: string[]): string[] {
  const chunks = code(file).split(/(?=^export (?:async )?function )/m);
  return chunks.flatMap((chunk) => {
    const name = /^export (?:async )?function (\w+)/.exec(chunk)?.[1];
    return name && tables.some((table) => chunk.includes(`insertInto('${table}')`)) ? [name] : [];
  });
}

/** Files of src/ (other than `except`) that import any of `names` from a module whose path ends with `from`. */
function importersOf(names: string[], from: string, except: string[]): string[] {
  return sourceFiles('src').filter((file) => {
    if (except.includes(file)) return false;
    const imports = [...code(file).matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)];
    return imports.some(
      ([, list, source]) =>
        source!.endsWith(from) &&
        list!
          .split(',')
          .map(
            (item) =>
              item
                .trim()
                .replace(/^type\s+/, '')
                .split(/\s+as\s+/)[0],
          )
          .some((name) => names.includes(name!)),
    );
  });
}

describe('one emitter', () => {
  const emitter = 'src/events/emitter.ts';
  const eventWriters = insertingFunctions('src/events/events.repository.ts', ['events']);
  const deliveryWriters = insertingFunctions('src/webhooks/webhooks.repository.ts', ['webhook_deliveries']);
  const operatorEventWriters = insertingFunctions('src/events/operator-events.ts', ['operator_events']);

  it('finds the functions that write events and deliveries', () => {
    expect(eventWriters).toEqual(['insertEvent']);
    expect(operatorEventWriters).toEqual(['insertOperatorEvent']);
    expect(deliveryWriters.sort()).toEqual(['insertFirstCallbackDelivery', 'insertFirstDeliveries', 'insertRedelivery']);
  });

  it('only the emitter calls them, or queues a delivery', () => {
    expect(importersOf(eventWriters, '/events.repository', [emitter])).toEqual([]);
    expect(importersOf(deliveryWriters, '/webhooks.repository', [emitter])).toEqual([]);
    expect(importersOf(operatorEventWriters, '/operator-events', [emitter])).toEqual([]);
    expect(importersOf(['queueDelivery', 'queueRedelivery'], '/outbox/queue', [emitter])).toEqual([]);
  });

  it('no other code inserts into the events or webhook_deliveries tables', () => {
    const writers = sourceFiles('src').filter((file) =>
      /insertInto\('(events|webhook_deliveries|operator_events)'\)|insert\s+into\s+"?(events|webhook_deliveries|operator_events)\b/i.test(code(file)),
    );
    expect(writers.sort()).toEqual(['src/events/events.repository.ts', 'src/events/operator-events.ts', 'src/webhooks/webhooks.repository.ts']);
  });
});

describe('Temporal at the edges', () => {
  const edges = [
    /^src\/workflows\//,
    /^src\/activities\//,
    /^src\/worker\.ts$/,
    /^src\/startup\.ts$/,
    /^src\/api\/(app|health\.routes|middleware\/errors)\.ts$/,
  ];

  it('no capability imports @temporalio', () => {
    const importers = sourceFiles('src').filter((file) => !edges.some((edge) => edge.test(file)) && /from\s+'@temporalio\//.test(code(file)));
    expect(importers).toEqual([]);
  });
});

describe('one manifest per capability', () => {
  it("every operation sits in its capability's section of the reference", () => {
    const misplaced = apiModules.flatMap((module) =>
      Object.values(module.operations)
        .filter((operation) => operation.tag !== module.tag.name)
        .map((operation) => `${operation.operationId} (${operation.tag}) in ${module.tag.name}`),
    );
    expect(misplaced).toEqual([]);
    expect(new Set(apiModules.map((module) => module.tag.name)).size).toBe(apiModules.length);
  });
});

/** Every file of the repository that `entry` reaches through its imports (relative ones followed), and the packages it names. */
function reach(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, source] of code(file).matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      if (!source!.startsWith('.')) {
        packages.add(source!.startsWith('@') ? source!.split('/').slice(0, 2).join('/') : source!.split('/')[0]!);
        continue;
      }
      const base = path.posix.join(path.posix.dirname(file), source!);
      const resolved = [`${base}.ts`, `${base}/index.ts`, base].find((candidate) => candidate.endsWith('.ts') && existsSync(path.join(root, candidate)));
      if (resolved) visit(resolved);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('the signer stands alone', () => {
  it('reaches nothing of the API, the workflows, the activities or the database, nor Temporal, Postgres or Koa', () => {
    const { files, packages } = reach('src/signer/main.ts');
    expect([...files].filter((file) => /^src\/(api|workflows|activities|db|worker|startup)\b/.test(file))).toEqual([]);
    expect([...packages].filter((name) => /^(@temporalio\/.*|kysely|pg|koa|@koa\/.*)$/.test(name))).toEqual([]);
  });

  it("reaches of the chains' code only Tron's pure codec and addresses (no node client, no adapter)", () => {
    // The signer decodes what it signs itself (src/chains/tron/transaction.ts) and writes Tron
    // addresses (address.ts): both are pure functions of their bytes, with no I/O and no state.
    const { files } = reach('src/signer/main.ts');
    expect([...files].filter((file) => file.startsWith('src/chains/')).sort()).toEqual(['src/chains/tron/address.ts', 'src/chains/tron/transaction.ts']);
  });

  it('is imported by nothing else in src/, and the API never reaches the signer client', () => {
    expect(sourceFiles('src').filter((file) => !file.startsWith('src/signer/') && /from\s+'[^']*\/signer\/[^']*'/.test(code(file)))).toEqual([]);
    expect([...reach('src/api/server.ts').files].filter((file) => file.startsWith('src/signer/') || file === 'src/treasury/signer-client.ts')).toEqual([]);
  });
});
