/**
 * `npm run temporal -- <temporal CLI arguments>`: the Temporal CLI (`temporal workflow list …`,
 * `temporal schedule describe …`, docs/operations.md) without putting it on the PATH. It runs the
 * binary `npm run dev` uses (on PATH, else .tools/bin/temporal, else built once with Go), pointed
 * at the running `npm run dev`'s Temporal (its .data/dev-stack.json) unless TEMPORAL_ADDRESS is
 * set; with neither, at the dev server's default address. The CLI reads TEMPORAL_ADDRESS and
 * TEMPORAL_NAMESPACE itself, and its own `--address` and `--namespace` win over both.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { ConfigError } from '../../src/config';
import { displayPath, readDevStack } from '../../src/cli/dev-stack';
import { refuseFlagsNpmKept } from '../../src/cli/npm-kept-flags';
import { runMain, StartupError } from '../../src/startup';
import { stderrLog } from './progress';
import { ensureTemporalCli } from './temporal-cli';

/**
 * The Temporal CLI's flags that docs/operations.md and the Web UI's habits reach for. Typed before
 * `--` (`npm run temporal workflow list --query …`), npm keeps them as its own settings
 * (`npm_config_query`) and hands the CLI only the words, which it would then misread.
 */
const temporalFlags = ['query', 'workflow-id', 'run-id', 'schedule-id', 'namespace', 'address', 'output', 'limit', 'reason', 'pause', 'unpause', 'task-queue'];

runMain(async () => {
  const args = process.argv.slice(2);
  refuseFlagsNpmKept(process.env, args, { script: 'temporal', flags: temporalFlags, command: args.slice(0, 2).join(' '), example: 'workflow list' });
  const env = { ...process.env };
  if (!env.TEMPORAL_ADDRESS) {
    const found = await readDevStack(env).catch((error: unknown) => {
      if (error instanceof ConfigError) return error;
      throw error;
    });
    if (found && !(found instanceof ConfigError)) {
      env.TEMPORAL_ADDRESS = found.stack.temporal.address;
      env.TEMPORAL_NAMESPACE ||= found.stack.temporal.namespace;
      stderrLog(`inflow: Temporal ${env.TEMPORAL_ADDRESS} namespace ${env.TEMPORAL_NAMESPACE} (${displayPath(found.file)})`);
    } else {
      // `npm run dev`'s dev server, where it listens by default.
      env.TEMPORAL_ADDRESS = `localhost:${env.INFLOW_DEV_TEMPORAL_PORT || 7233}`;
      const why = found ? found.message.replace(/^inflow: /, '') : 'no running `npm run dev` found';
      stderrLog(`inflow: Temporal ${env.TEMPORAL_ADDRESS}, npm run dev's default (${why}; set TEMPORAL_ADDRESS for another)`);
    }
  }
  const cli = await ensureTemporalCli();
  if (!cli) {
    throw new StartupError(
      'inflow: no Temporal CLI: `temporal` is not on the PATH, not in .tools/bin, and Go is not installed to build it (install Go, then `npm run tools`)',
    );
  }
  const child = spawn(cli, args, { env, stdio: 'inherit' });
  // Ctrl-C reaches the CLI from the terminal; this process waits for it to finish and exits as it did.
  process.on('SIGINT', () => undefined);
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status, signal) => resolve(status ?? 128 + (signal ? os.constants.signals[signal] : 0)));
  });
  process.exitCode = code;
});
