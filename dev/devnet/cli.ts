/**
 * `npm run cli -- devnet <command>`: development commands for `npm run dev`'s devnet, run by the
 * operator CLI (src/cli.ts) as a program of its own, so production code never loads dev/.
 *
 *   send --to ADDRESS --amount N [--currency ETH|USDT]   a real transfer from the devnet's funded account
 */
import { parseArgs } from 'node:util';
import { runMain, StartupError } from '../../src/startup';
import { devnetSend } from './send';

const usage = 'usage: npm run cli -- devnet send --to ADDRESS --amount 25 [--currency ETH|USDT]';

runMain(async () => {
  const [command, ...args] = process.argv.slice(2);
  if (command !== 'send') throw new StartupError(usage);
  const { values } = parseArgs({
    args,
    options: { to: { type: 'string' }, amount: { type: 'string' }, currency: { type: 'string', default: 'USDT' } },
    strict: true,
  });
  if (!values.to || !values.amount) throw new StartupError(`send needs --to and --amount\n${usage}`);
  try {
    const hash = await devnetSend({ to: values.to, amount: values.amount, currency: values.currency });
    console.log(`sent ${values.amount} ${values.currency.toUpperCase()} to ${values.to}: ${hash}`);
  } catch (error) {
    throw new StartupError((error as Error).message);
  }
});
