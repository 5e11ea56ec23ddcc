/**
 * Finds or builds the Temporal CLI, for `npm run temporal` (docs/operations.md's commands):
 * `temporal` on PATH, else the cached binary in .tools/bin, else `go install` of a pinned version
 * (no replace directives in it, so the Go module proxy can build it), else undefined. Nothing
 * else needs it: development and tests run the server binary (dev/temporal.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { buildOnce } from './build-lock';
import { toolsDir } from './paths';
import { findOnPath, runWithProgress, stderrLog, type Log } from './progress';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const cachedBinary = path.join(toolsDir, 'bin', 'temporal');

export async function ensureTemporalCli(log: Log = stderrLog): Promise<string | undefined> {
  const onPath = findOnPath('temporal');
  if (onPath) return onPath;
  if (existsSync(cachedBinary)) return cachedBinary;

  const go = findOnPath('go');
  if (!go) {
    log('Temporal CLI: not on PATH and Go is not installed; the Temporal SDK will download it.');
    return undefined;
  }
  const built = async () => (existsSync(cachedBinary) ? cachedBinary : undefined);
  return buildOnce('temporal-cli', log, built, async () => {
    await mkdir(path.dirname(cachedBinary), { recursive: true });
    log(`Temporal CLI: building ${TEMPORAL_CLI_VERSION} with Go once (a minute or two after the server's build; cached in .tools/bin)`);
    await runWithProgress('go install temporal', go, ['install', '-v', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: path.dirname(cachedBinary) },
      log,
    });
    return cachedBinary;
  });
}
