/**
 * `npm run test:chaos [-- --rounds N] [--seed S] [--parts worker-1,api,…] [--deadline S] [--keep]`: the fault-
 * injection suite on real processes. Prints the seed first and the table of faults and outcomes
 * last; exits 1 when anything was lost, doubled, stuck or answered out of contract.
 */
import { parseArgs } from 'node:util';
import { stderrLog } from '../../dev/tools/progress';
import { defaultChaosOptions, runChaos, stopRunningStacks } from './chaos';
import { killEveryGroupNow } from '../../dev/managed-process';
import { newSeed } from './prng';
import { partNames, type PartName } from './stack';

const usage =
  'usage: npm run test:chaos -- [--rounds N] [--seed S] [--parts worker-1,worker-2,api,temporal,postgres,anvil] [--quiescence-timeout SECONDS] [--keep]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      seed: { type: 'string' },
      parts: { type: 'string' },
      'quiescence-timeout': { type: 'string' },
      deadline: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const rounds = wholeNumber('--rounds', values.rounds, defaultChaosOptions.rounds, 1);
  const seed = wholeNumber('--seed', values.seed, newSeed(), 0);
  if (seed > 0xffffffff) throw new UsageError('--seed must fit in 32 bits');
  const parts = values.parts === undefined ? defaultChaosOptions.parts : values.parts.split(',').map((name) => name.trim());
  for (const part of parts) if (!(partNames as readonly string[]).includes(part)) throw new UsageError(`--parts: unknown part "${part}"`);
  const quiescenceSeconds = wholeNumber('--quiescence-timeout', values['quiescence-timeout'], defaultChaosOptions.quiescenceTimeoutMs / 1000, 1);
  const deadlineSeconds = wholeNumber('--deadline', values.deadline, defaultChaosOptions.deadlineMs / 1000, 1);

  const log = (line: string) => stderrLog(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
  const started = Date.now();
  const result = await runChaos({
    ...defaultChaosOptions,
    rounds,
    seed,
    parts: parts as PartName[],
    quiescenceTimeoutMs: quiescenceSeconds * 1000,
    deadlineMs: deadlineSeconds * 1000,
    keep: values.keep,
    log,
  });
  process.stdout.write(`${result.report}\n`);
  return result.passed ? 0 : 1;
}

class UsageError extends Error {}

function wholeNumber(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`${flag} must be a whole number of at least ${min}, got "${text}"`);
  return Number(text);
}

// Ctrl-C or a kill: stop every part, whatever the run was doing. One request to stop often arrives
// twice (a terminal signals the whole group, and tsx relays it), so later ones are ignored; a stop
// that takes too long ends in kill -9 of every part, from the exit handler.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    stderrLog(`[chaos] ${signal}: stopping every part`);
    setTimeout(() => process.exit(130), 60_000).unref();
    void stopRunningStacks().finally(() => process.exit(130));
  });
}
process.on('exit', killEveryGroupNow);

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      error instanceof UsageError ? `${error.message}\n${usage}\n` : `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
