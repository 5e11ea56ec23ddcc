/**
 * `tsx test/chain-chaos/run.ts -- [--rounds N] [--seed S] [--chains evm,tron] [--keep] …`: the
 * chain-fault suite. A real inflow (API, one worker) whose chain watchers read anvil (test-mode
 * ethereum) and the Tron stand-in (test-mode tron) through fault proxies, while the runner mines
 * every block itself, reorganises the chains and pays customers; then an oracle on the final
 * chains. `--chains` picks the chains attacked (default both). Prints the seed first and the table of faults and outcomes last, then
 * `chain-chaos: PASSED` or `chain-chaos: FAILED`; exits 1 when anything was lost, doubled, wrongly
 * credited or stuck, or the ledger is wrong.
 */
import { parseArgs } from 'node:util';
import { stderrLog } from '../../dev/tools/progress';
import { runCommand, UsageError, wholeNumber } from '../chaos/command-line';
import { newSeed } from '../chaos/prng';
import { defaultChainChaosOptions, runChainChaos, stopRunningChainChaos } from './chain-chaos';
import { paymentKinds, type PaymentKind } from './load';
import { chainNames, type ChainName } from './proxy-core';

const usage =
  'usage: tsx test/chain-chaos/run.ts -- [--rounds N] [--seed S] [--keep] [--block-ms MS] ' +
  '[--settle-timeout SECONDS] [--customers N] [--max-reorg-depth N] [--chains evm,tron] [--kinds usdt,eth,batch,conditional,dust,contract-eth]';

async function main(): Promise<number> {
  // `tsx run.ts -- --rounds 2` passes the `--` on; `npm run … -- --rounds 2` does not.
  const args = process.argv.slice(2);
  const { values } = parseArgs({
    args: args[0] === '--' ? args.slice(1) : args,
    options: {
      rounds: { type: 'string' },
      seed: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'block-ms': { type: 'string' },
      'settle-timeout': { type: 'string' },
      customers: { type: 'string' },
      'max-reorg-depth': { type: 'string' },
      kinds: { type: 'string' },
      chains: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const defaults = defaultChainChaosOptions;
  const seed = wholeNumber('--seed', values.seed, newSeed(), 0);
  if (seed > 0xffffffff) throw new UsageError('--seed must fit in 32 bits');
  const kinds = kindList('--kinds', values.kinds, defaults.paymentKinds);
  const chains = chainList(values.chains, defaults.chains);
  const options = {
    rounds: wholeNumber('--rounds', values.rounds, defaults.rounds, 1),
    seed,
    blockMs: wholeNumber('--block-ms', values['block-ms'], defaults.blockMs, 100),
    customers: wholeNumber('--customers', values.customers, defaults.customers, 2),
    maxReorgDepth: wholeNumber('--max-reorg-depth', values['max-reorg-depth'], defaults.maxReorgDepth, 5),
    settleTimeoutMs: wholeNumber('--settle-timeout', values['settle-timeout'], defaults.settleTimeoutMs / 1000, 10) * 1000,
    chains,
    paymentKinds: [...new Set(kinds)],
    keep: values.keep,
  };

  const started = Date.now();
  const log = (line: string) => stderrLog(`[chain-chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
  process.stdout.write(
    `chain-chaos: seed ${seed} (replay with --seed ${seed}), ${options.rounds} round(s), chains: ${chains.join(', ')}, EVM payments: ${options.paymentKinds.join(', ')}\n`,
  );
  log(`seed ${seed}`);
  const result = await runChainChaos({ ...options, log });
  process.stdout.write(`${result.report}\n`);
  return result.passed ? 0 : 1;
}

function kindList(flag: string, text: string | undefined, fallback: readonly PaymentKind[]): PaymentKind[] {
  if (text === undefined) return [...fallback];
  const kinds = text.split(',').map((kind) => kind.trim());
  for (const kind of kinds) if (!(paymentKinds as readonly string[]).includes(kind)) throw new UsageError(`${flag}: unknown payment kind "${kind}"`);
  return kinds as PaymentKind[];
}

/** --chains evm,tron (the default: both): which chains' watchers the run attacks. */
function chainList(text: string | undefined, fallback: readonly ChainName[]): ChainName[] {
  if (text === undefined) return [...fallback];
  const chains = [...new Set(text.split(',').map((chain) => chain.trim()))];
  for (const chain of chains) if (!(chainNames as readonly string[]).includes(chain)) throw new UsageError(`--chains: unknown chain "${chain}" (evm, tron)`);
  return chains as ChainName[];
}

runCommand({ name: 'chain-chaos', usage, main, stop: stopRunningChainChaos });
