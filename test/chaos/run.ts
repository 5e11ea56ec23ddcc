/**
 * `npm run test:chaos [-- --rounds N] [--seed S] [--parts worker-1,api,…] [--deadline S] [--keep]`: the fault-
 * injection suite on real processes. Prints the seed first and the table of faults and outcomes
 * last; exits 1 when anything was lost, doubled, stuck or answered out of contract.
 */
import { parseArgs } from 'node:util';
import { stderrLog } from '../../dev/tools/progress';
import { defaultChaosOptions, runChaos, stopRunningStacks } from './chaos';
import { runCommand, UsageError, wholeNumber } from './command-line';
import { newSeed } from './prng';
import { partNames, type PartName } from './stack';

const usage =
  'usage: npm run test:chaos -- [--rounds N] [--seed S] [--parts worker-1,worker-2,api,temporal,postgres,anvil,signer] [--quiescence-timeout SECONDS] [--keep]';

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

runCommand({ name: 'chaos', usage, main, stop: stopRunningStacks });
