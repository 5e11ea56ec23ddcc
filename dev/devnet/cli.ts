/**
 * `npm run cli -- devnet <command>`: development commands for `npm run dev`'s devnet, run by the
 * operator CLI (src/cli.ts) as a program of its own, so production code never loads dev/.
 *
 *   send [--network ethereum|tron] --to ADDRESS --amount N [--currency ETH|TRX|USDT]   a transfer from a devnet's funded account
 *   receive [--port 4000] [--secret whsec_…]              a local receiver that prints and verifies callbacks and webhooks
 */
import { parseArgs } from 'node:util';
import { readDevStack, type DevStack } from '../../src/cli/dev-stack';
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
  // The running stack's own confirmations and modes (dev-stack.json); without it, this environment's and the network's defaults.
  const stack = await readDevStack(process.env).catch(() => undefined);
  console.log(describeSent(sent, process.env, stack?.stack.devnets ?? undefined).join('\n'));
}

/**
 * What was sent, to whom, in which block, how long until it completes (the confirmations a deposit
 * needs there, at the devnet's block time), and what inflow does next: its watcher finds the
 * transfer, and when the address is a customer's or an order's, a deposit follows it to its
 * confirmations. `devnets` is what the running `npm run dev` recorded: the modes it watches there
 * (live too with INFLOW_DEV_LIVE=on) and their confirmations.
 */
function describeSent(sent: SentTransfer, env: NodeJS.ProcessEnv, devnets?: DevStack['devnets']): string[] {
  const recorded = (devnets?.chains ?? []).filter((chain) => chain.network === sent.network);
  const watched =
    recorded.length > 0
      ? recorded.map((chain) => ({ mode: chain.mode, confirmations: chain.required_confirmations }))
      : [
          {
            mode: 'test' as const,
            confirmations: Number(env[`INFLOW_CONFIRMATIONS_${sent.network.toUpperCase()}_TEST`]) || networks[sent.network].requiredConfirmations,
          },
        ];
  const blockTimeSeconds = devnets?.block_time_seconds ?? sent.blockTimeSeconds;
  const needs = [...new Set(watched.map((chain) => chain.confirmations))].map((confirmations) => {
    const modes =
      watched.length > 1 && new Set(watched.map((chain) => chain.confirmations)).size > 1
        ? ` in ${watched
            .filter((chain) => chain.confirmations === confirmations)
            .map((chain) => chain.mode)
            .join(' and ')} mode`
        : '';
    const pace = blockTimeSeconds ? `: about ${seconds(confirmations * blockTimeSeconds)} at this devnet's ${blockTimeSeconds} s blocks` : '';
    return `${confirmations} confirmations${modes}${pace}`;
  });
  const live = watched.some((chain) => chain.mode === 'live');
  const watchers = watched.map((chain) => `watcher:${chain.mode}:${sent.network}`).join(' or ');
  return [
    `sent ${sent.amount} ${sent.currency} on the ${sent.network} devnet (${live ? `${sent.network} in test and live mode, devnet only` : `test-mode ${sent.network}`})`,
    `  from:         ${sent.from} (the devnet's funded account)`,
    `  to:           ${sent.to}`,
    `  transaction:  ${sent.hash}`,
    `  block:        ${sent.block ?? 'not mined yet'}`,
    `  needs:        ${needs.join('; ')}`,
    `next: inflow's watcher (workflow ${watchers}) finds it within a poll; if ${sent.to} is a customer's or an order's deposit address${live ? ' in either mode' : ''},`,
    `  a deposit starts (deposit.detected) and completes once it has those confirmations (deposit.completed).`,
    `  Follow it: GET /api/v1/deposits?network=${sent.network}, the dashboard, or the Temporal UI (ObjectStatus = "confirming").`,
  ];
}

/** `24 s`, `4 s`, `2 min 24 s`. */
function seconds(value: number): string {
  const rounded = Math.max(1, Math.round(value));
  return rounded < 120 ? `${rounded} s` : `${Math.floor(rounded / 60)} min${rounded % 60 ? ` ${rounded % 60} s` : ''}`;
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
