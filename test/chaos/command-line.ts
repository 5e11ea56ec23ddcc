/**
 * What the fault suites' command lines share (`npm run test:chaos`, `npm run test:chain-chaos`):
 * flag parsing errors that print the usage, and a run that Ctrl-C or a kill stops whole. One
 * request to stop often arrives twice (a terminal signals the whole group, and tsx relays it), so
 * later ones are ignored; a stop that takes too long ends in kill -9 of every part, from the exit
 * handler.
 */
import { killEveryGroupNow } from '../../dev/managed-process';
import { stderrLog } from '../../dev/tools/progress';

/** A flag the operator got wrong: the message and the usage are printed, and the exit code is 2. */
export class UsageError extends Error {}

export function wholeNumber(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`${flag} must be a whole number of at least ${min}, got "${text}"`);
  return Number(text);
}

/** Runs `main` (its result is the exit code); SIGINT and SIGTERM call `stop`, then exit 130. */
export function runCommand(options: { name: string; usage: string; main: () => Promise<number>; stop: () => Promise<unknown> }): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      stderrLog(`[${options.name}] ${signal}: stopping every part`);
      setTimeout(() => process.exit(130), 60_000).unref();
      void options.stop().finally(() => process.exit(130));
    });
  }
  process.on('exit', killEveryGroupNow);

  options.main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        error instanceof UsageError ? `${error.message}\n${options.usage}\n` : `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
