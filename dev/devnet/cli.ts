/**
 * `npm run cli -- devnet <command>`: development commands for `npm run dev`'s devnet, run by the
 * operator CLI (src/cli.ts) as a program of its own, so production code never loads dev/.
 *
 *   send [--network ethereum|tron] --to ADDRESS --amount N [--currency ETH|TRX|USDT]   a transfer from a devnet's funded account
 *   receive [--port 4000] [--secret whsec_…]              a local receiver that prints and verifies callbacks and webhooks
 */
import { parseArgs } from 'node:util';
import { networks } from '../../src/domain/networks';
import { runMain, StartupError } from '../../src/startup';
import { devnetReceive } from './receive';
import { devnetSend, type SentTransfer } from './send';

const usage = [
  'usage: npm run cli -- devnet send [--network ethereum|tron] --to ADDRESS --amount 25 [--currency ETH|TRX|USDT]',
  '       npm run cli -- devnet receive [--port 4000] [--secret whsec_…]',
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
  let sent: SentTransfer;
  try {
    sent = await devnetSend({ network: values.network, to: values.to, amount: values.amount, currency: values.currency });
  } catch (error) {
    throw new StartupError((error as Error).message);
  }
  console.log(describeSent(sent, process.env).join('\n'));
}

/**
 * What was sent, to whom, in which block, and what inflow does next: its watcher finds the
 * transfer, and when the address is a customer's or an order's, a deposit follows it to its
 * confirmations.
 */
function describeSent(sent: SentTransfer, env: NodeJS.ProcessEnv): string[] {
  const suffix = `${sent.network.toUpperCase()}_TEST`;
  const confirmations = Number(env[`INFLOW_CONFIRMATIONS_${suffix}`]) || networks[sent.network].requiredConfirmations;
  const pace = sent.blockTimeSeconds
    ? `, about ${Math.round(confirmations * sent.blockTimeSeconds)} s at the devnet's block every ${sent.blockTimeSeconds} s`
    : '';
  return [
    `sent ${sent.amount} ${sent.currency} on the ${sent.network} devnet (test-mode ${sent.network})`,
    `  from:         ${sent.from} (the devnet's funded account)`,
    `  to:           ${sent.to}`,
    `  transaction:  ${sent.hash}`,
    `  block:        ${sent.block ?? 'not mined yet'}`,
    `next: inflow's watcher (workflow watcher:test:${sent.network}) finds it within a poll; if ${sent.to} is a customer's or an order's deposit address,`,
    `  a deposit starts (deposit.detected) and completes after ${confirmations} confirmations${pace} (deposit.completed).`,
    `  Follow it: GET /api/v1/deposits?network=${sent.network}, the dashboard, or the Temporal UI (DepositStatus = "confirming").`,
  ];
}

async function receive(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { port: { type: 'string', default: '4000' }, secret: { type: 'string', multiple: true } }, strict: true });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StartupError(`--port must be a port number, got "${values.port}"`);
  const secrets = values.secret ?? [];
  const bad = secrets.find((secret) => !/^whsec_[A-Za-z0-9+/=]+$/.test(secret));
  if (bad !== undefined) throw new StartupError(`--secret must be a webhook signing secret (whsec_…), got "${bad}"`);
  await devnetReceive({ port, secrets }).catch((error: Error) => {
    throw new StartupError(`cannot listen on 127.0.0.1:${port}: ${error.message}`);
  });
}
