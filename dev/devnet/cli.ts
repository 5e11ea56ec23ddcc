/**
 * `npm run cli -- devnet <command>`: development commands for `npm run dev`'s devnet, run by the
 * operator CLI (src/cli.ts) as a program of its own, so production code never loads dev/.
 *
 *   send [--network ethereum|tron] --to ADDRESS --amount N [--currency ETH|TRX|USDT]   a transfer from a devnet's funded account
 *   receive [--port 4000]                                 a local receiver that prints and checks callbacks
 */
import { parseArgs } from 'node:util';
import { runMain, StartupError } from '../../src/startup';
import { devnetReceive } from './receive';
import { devnetSend } from './send';

const usage = [
  'usage: npm run cli -- devnet send [--network ethereum|tron] --to ADDRESS --amount 25 [--currency ETH|TRX|USDT]',
  '       npm run cli -- devnet receive [--port 4000]',
].join('\n');

runMain(async () => {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'send') return send(args);
  if (command === 'receive') return receive(args);
  throw new StartupError(usage);
});

async function send(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      network: { type: 'string', default: 'ethereum' },
      to: { type: 'string' },
      amount: { type: 'string' },
      currency: { type: 'string', default: 'USDT' },
    },
    strict: true,
  });
  if (!values.to || !values.amount) throw new StartupError(`send needs --to and --amount\n${usage}`);
  try {
    const hash = await devnetSend({ network: values.network, to: values.to, amount: values.amount, currency: values.currency });
    console.log(`sent ${values.amount} ${values.currency.toUpperCase()} to ${values.to}: ${hash}`);
  } catch (error) {
    throw new StartupError((error as Error).message);
  }
}

async function receive(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { port: { type: 'string', default: '4000' } }, strict: true });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StartupError(`--port must be a port number, got "${values.port}"`);
  await devnetReceive({ port }).catch((error: Error) => {
    throw new StartupError(`cannot listen on 127.0.0.1:${port}: ${error.message}`);
  });
}
