/**
 * src/workflows/versions.ts is the one list of what keeps earlier runs alive: every `patched()`
 * in the workflows must use an id from it, every id must say what it keeps alive, and every
 * history named as proof must be one the replay test replays.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { keptAlive, patches } from '../../src/workflows/versions';

const workflowsDir = path.join(__dirname, '../../src/workflows');
const historiesDir = path.join(__dirname, '../workflows/fixtures/histories');

/** The argument text of every patched(…) and deprecatePatch(…) call in the workflow sources. */
function patchCalls(): Array<{ file: string; argument: string }> {
  return readdirSync(workflowsDir)
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) => {
      // Code only: comments (versions.ts's own among them) may name the calls.
      const code = readFileSync(path.join(workflowsDir, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      return [...code.matchAll(/\b(?:patched|deprecatePatch)\(([^)]*)\)/g)].map((match) => ({ file, argument: match[1]!.trim() }));
    });
}

describe('versions.ts: versioning in one place', () => {
  it('every patched() in the workflows names an id from `patches`', () => {
    const calls = patchCalls();
    expect(calls.length).toBeGreaterThanOrEqual(Object.keys(patches).length);
    expect(calls.filter(({ argument }) => !/^patches\.\w+$/.test(argument) || !(argument.slice('patches.'.length) in patches))).toEqual([]);
  });

  it('every patch is used, and says what it keeps alive and when it may go', () => {
    const used = new Set(patchCalls().map(({ argument }) => argument.slice('patches.'.length)));
    expect(Object.keys(patches).filter((key) => !used.has(key))).toEqual([]);
    const described = new Set(keptAlive.filter((entry) => entry.kind === 'patch').map((entry) => entry.name));
    expect(Object.values(patches).filter((id) => !described.has(id))).toEqual([]);
    expect(new Set(Object.values(patches)).size).toBe(Object.values(patches).length);
  });

  it('every history named as proof is one the replay test replays', () => {
    const missing = keptAlive.filter((entry) => entry.provenBy !== null && !existsSync(path.join(historiesDir, entry.provenBy)));
    expect(missing).toEqual([]);
  });
});
