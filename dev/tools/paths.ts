import path from 'node:path';

/** The repository root, whichever file asks. */
export const repoRoot = path.resolve(__dirname, '..', '..');
/** Downloaded and built tools (git-ignored, safe to delete: the next run rebuilds it). */
export const toolsDir = path.join(repoRoot, '.tools');
/** Local development state: Postgres cluster, Temporal SQLite file, dev keys (git-ignored). */
export const dataDir = path.join(repoRoot, '.data');
