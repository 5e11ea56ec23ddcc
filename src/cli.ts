/**
 * `npm run cli -- <command>`: the operator's command line.
 *
 *   merchant create --name NAME [--json]             makes a merchant with a test and a live key
 *   merchant payout-limit --merchant mch_… --mode live|test (--usd N | --default)   sets (or clears) one merchant's
 *                                                     daily payout limit, over INFLOW_PAYOUT_DAILY_LIMIT_USD_<MODE>
 *   keys xpub --mnemonic-file FILE [--mode live|test] prints the account xpubs to configure
 *   chain rescan --network N [--mode live|test] --from B --to B   finds deposits in a block range the watcher missed
 *   devnet send [--network tron] --to ADDRESS --amount N [--currency ETH|TRX|USDT]   development only: a transfer on
 *                                                     `npm run dev`'s devnet (run by dev/devnet/cli.ts)
 *   devnet receive [--port 4000] [--secret whsec_…]    development only: a local receiver that verifies callbacks and webhooks
 *   listen --forward-to URL [--events deposit.*] [--api-key sk_test_…] [--signature-format python_json_dumps] [--rotate-secret]   test mode: forwards the
 *                                                     event stream to a local URL, signed as webhooks with the merchant's kept listen secret
 *   trigger EVENT_TYPE [--network N] [--currency C] [--api-key sk_test_…]   test mode: makes the objects that fire that event
 *   sweep --now [--network N] [--mode test|live]      sweeps deposit addresses to the treasury now (docs/treasury.md)
 *   reconcile [--network N] [--mode test|live]         compares the holdings ledger with the chain; exits 1 on a difference
 *   operator-events [--limit N] [--json]             what the operator was told of (reconciliation differences), newest first
 *
 * Against a running `npm run dev` every command works with no setup: what the environment does not
 * set (DATABASE_URL, TEMPORAL_ADDRESS, INFLOW_API_URL) comes from its .data/dev-stack.json (docs/cli.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { xpubsFromMnemonic } from './chains/derivation';
import { createChainAdapters } from './chains/adapters';
import { chainTip } from './chains/confirmations';
import { chainKey } from './chains/chain-adapter';
import { scanRange } from './chains/scan';
import { loadConfig, requireSecretKey } from './config';
import { livemodeOf, modeOf } from './domain/mode';
import { networkNames, type Network } from './domain/networks';
import { createMerchant } from './merchants/merchants.service';
import { setPayoutDailyLimit } from './merchants/merchants.repository';
import { formatAmount, parseAmount } from './domain/money';
import { connectDatabase, connectTemporalClient, runMain, StartupError } from './startup';
import { cliEnvironment, type CliEnvironment } from './cli/dev-stack';
import { listen } from './cli/listen';
import { refuseFlagsNpmKept } from './cli/npm-kept-flags';
import { trigger } from './cli/trigger';
import { operatorEvents, reconcileNow, sweepNow } from './cli/treasury';

const usage = [
  'usage: npm run cli -- merchant create --name NAME [--json]',
  '       npm run cli -- merchant payout-limit --merchant mch_… --mode live|test (--usd 5000 | --default)',
  '       npm run cli -- keys xpub --mnemonic-file FILE [--mode live|test] [--json]',
  '       npm run cli -- chain rescan --network NETWORK [--mode live|test] --from BLOCK --to BLOCK',
  '       npm run cli -- devnet send [--network tron] --to ADDRESS --amount 25 [--currency ETH|TRX|USDT]   (development checkouts only)',
  '       npm run cli -- devnet receive [--port 4000] [--secret whsec_…]              (development checkouts only)',
  '       npm run cli -- listen --forward-to URL [--events deposit.*,order.completed] [--api-key sk_test_…] [--signature-format python_json_dumps] [--rotate-secret]   (test mode)',
  '       npm run cli -- trigger EVENT_TYPE [--network arbitrum] [--currency USDT] [--api-key sk_test_…]   (test mode, e.g. deposit.completed)',
  '       npm run cli -- sweep --now [--network NETWORK] [--mode live|test]',
  '       npm run cli -- reconcile [--network NETWORK] [--mode live|test]',
  '       npm run cli -- operator-events [--limit 20] [--json]',
].join('\n');

/** Every flag of every command: npm keeps one given before `--` for itself (as `npm_config_<name>`). */
const commandFlags = [
  'name',
  'json',
  'mnemonic-file',
  'mode',
  'network',
  'from',
  'to',
  'amount',
  'currency',
  'port',
  'secret',
  'forward-to',
  'events',
  'api-key',
  'signature-format',
  'rotate-secret',
  'now',
  'limit',
  'merchant',
  'usd',
  'default',
];

runMain(async () => {
  const args = process.argv.slice(2);
  const command = (['merchant', 'keys', 'chain', 'devnet'].includes(args[0] ?? '') ? args.slice(0, 2) : args.slice(0, 1)).join(' ');
  refuseFlagsNpmKept(process.env, args, { script: 'cli', flags: commandFlags, command, example: 'listen' });
  const [group, action, ...rest] = args;
  if (group === 'merchant' && action === 'create') return merchantCreate(rest);
  if (group === 'merchant' && action === 'payout-limit') return merchantPayoutLimit(rest);
  if (group === 'keys' && action === 'xpub') return keysXpub(rest);
  if (group === 'chain' && action === 'rescan') return chainRescan(rest);
  if (group === 'devnet') return runDevelopmentCommand('dev/devnet/cli.ts', process.argv.slice(3));
  if (group === 'listen') return listen(process.argv.slice(3), process.env, usage);
  if (group === 'trigger') return trigger(process.argv.slice(3), process.env, usage);
  if (group === 'sweep') return sweepNow(process.argv.slice(3), process.env, usage);
  if (group === 'reconcile') return reconcileNow(process.argv.slice(3), process.env, usage);
  if (group === 'operator-events') return operatorEvents(process.argv.slice(3), process.env, usage);
  throw new StartupError(usage);
});

/**
 * Turns a mnemonic (kept offline, e.g. on an air-gapped machine) into the account-level xpubs the
 * API needs. Only public keys are printed; nothing is stored or sent anywhere.
 */
async function keysXpub(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { 'mnemonic-file': { type: 'string' }, mode: { type: 'string', default: 'live' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  const file = values['mnemonic-file'];
  if (!file) throw new StartupError(`keys xpub needs --mnemonic-file\n${usage}`);
  if (values.mode !== 'live' && values.mode !== 'test') throw new StartupError('--mode must be live or test');
  const phrase = await readFile(file, 'utf8').catch((error: Error) => {
    throw new StartupError(`cannot read ${file}: ${error.message}`);
  });
  let xpubs;
  try {
    xpubs = xpubsFromMnemonic(phrase);
  } catch {
    throw new StartupError(`${file} does not hold a valid BIP-39 mnemonic`);
  }
  const suffix = values.mode.toUpperCase();
  const variables = { [`INFLOW_XPUB_EVM_${suffix}`]: xpubs.evm, [`INFLOW_XPUB_TRON_${suffix}`]: xpubs.tron };
  if (values.json) {
    console.log(JSON.stringify(variables));
  } else {
    for (const [name, value] of Object.entries(variables)) console.log(`${name}=${value}`);
  }
}

/**
 * Scans a block range again, as the chain watcher does, through the same code (`chains/scan.ts`):
 * transfers it missed (a node that skipped blocks, a cursor set past them) start their deposit
 * workflows, late deposits now final complete, and what is recorded already is left alone, so a
 * range can be rescanned any number of times without booking anything twice.
 */
async function chainRescan(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { network: { type: 'string' }, mode: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
    strict: true,
  });
  const environment = await cliEnvironment(process.env, ['database', 'temporal']);
  const config = loadConfig(environment.env, ['DATABASE_URL', 'TEMPORAL_ADDRESS']);
  const network = values.network as Network;
  if (!networkNames.includes(network)) throw new StartupError(`chain rescan needs --network, one of ${networkNames.join(', ')}\n${usage}`);
  const configured = config.chains.filter((chain) => chain.network === network);
  const watched =
    config.chains.length > 0 ? `watched: ${config.chains.map((chain) => `${chain.network} (${modeOf(chain.livemode)})`).join(', ')}` : 'no network is watched';
  if (configured.length === 0) {
    const variables = ['TEST', 'LIVE'].map((suffix) => `INFLOW_RPC_URL_${network.toUpperCase()}_${suffix}`).join(' or ');
    throw new StartupError(`${network} is not watched: no node is configured for it (${variables}); ${watched}`);
  }
  const mode = values.mode ?? (configured.length === 1 ? modeOf(configured[0]!.livemode) : undefined);
  if (mode !== 'live' && mode !== 'test') throw new StartupError(`chain rescan needs --mode live or test: ${network} is watched in both modes`);
  const [fromBlock, toBlock] = [values.from, values.to].map((value) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : NaN)) as [number, number];
  if (!Number.isSafeInteger(fromBlock) || !Number.isSafeInteger(toBlock) || fromBlock > toBlock) {
    throw new StartupError(`chain rescan needs --from and --to, block numbers with from ≤ to\n${usage}`);
  }
  const livemode = livemodeOf(mode);
  const chain = createChainAdapters(config).get(chainKey({ network, livemode }));
  if (!chain)
    throw new StartupError(
      `no node is configured for ${network} in ${mode} mode: set INFLOW_RPC_URL_${network.toUpperCase()}_${mode.toUpperCase()}; ${watched}`,
    );
  announce(environment);
  const { head, safeHead } = await chainTip(chain.adapter, network);
  if (toBlock > head) throw new StartupError(`block ${toBlock} is past the node's head (${head})`);
  const db = await connectDatabase(config, { max: 2 });
  const temporal = await connectTemporalClient(config);
  try {
    const totals = { detected: 0, known: 0, dust: 0 };
    console.log(`rescanning ${network} (${mode}) blocks ${fromBlock}..${toBlock}, head ${head}`);
    for (let from = fromBlock; from <= toBlock; from += chain.adapter.maxBlockRange) {
      const to = Math.min(toBlock, from + chain.adapter.maxBlockRange - 1);
      const scan = await scanRange(
        { db, temporal, taskQueue: config.temporal.taskQueue },
        { ...chain, network, livemode },
        { fromBlock: from, toBlock: to, head, safeHead },
      );
      totals.detected += scan.detected;
      totals.known += scan.known;
      totals.dust += scan.dust;
      console.log(
        `  blocks ${from}..${to}: ${scan.detected} reported to their deposit workflows, ${scan.known} already recorded, ${scan.dust} recorded as dust`,
      );
    }
    console.log(`done: ${totals.detected} reported, ${totals.known} already recorded (left alone), ${totals.dust} recorded as dust`);
  } finally {
    await temporal.connection.close();
    await db.destroy();
  }
}

async function merchantCreate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { name: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  const name = values.name?.trim();
  if (!name) throw new StartupError(`merchant create needs --name\n${usage}`);
  const environment = await cliEnvironment(process.env, ['database']);
  const config = loadConfig(environment.env, ['DATABASE_URL', 'INFLOW_SECRET_KEY']);
  requireSecretKey(config);
  announce(environment);
  const db = await connectDatabase(config, { max: 1 });
  try {
    const created = await createMerchant(db, name, requireSecretKey(config));
    if (values.json) {
      console.log(JSON.stringify(created));
    } else {
      console.log(`merchant ${created.merchant_id} (${name})`);
      console.log(`test key: ${created.test_key}`);
      console.log(`live key: ${created.live_key}`);
      console.log('Store the keys now: they are shown once; the database keeps their hashes and copies sealed under INFLOW_SECRET_KEY.');
    }
  } finally {
    await db.destroy();
  }
}

/**
 * One merchant's own daily payout limit in a mode (docs/payouts.md#approvals-and-limits): `--usd N`
 * over the operator's INFLOW_PAYOUT_DAILY_LIMIT_USD_<MODE> for every merchant, `--default` back to it.
 */
async function merchantPayoutLimit(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { merchant: { type: 'string' }, mode: { type: 'string' }, usd: { type: 'string' }, default: { type: 'boolean', default: false } },
    strict: true,
  });
  const { merchant, mode } = values;
  if (!merchant || (mode !== 'live' && mode !== 'test') || (values.usd === undefined) === !values.default)
    throw new StartupError(`merchant payout-limit needs --merchant, --mode live|test, and either --usd N or --default\n${usage}`);
  let usdCents: bigint | null = null;
  if (values.usd !== undefined) {
    if (!/^\d{1,15}(\.\d{1,2})?$/.test(values.usd)) throw new StartupError(`--usd must be a USD amount such as 5000 or 250.50, not "${values.usd}"`);
    usdCents = parseAmount(values.usd, 2);
  }
  const environment = await cliEnvironment(process.env, ['database']);
  const config = loadConfig(environment.env, ['DATABASE_URL']);
  announce(environment);
  const db = await connectDatabase(config, { max: 1 });
  try {
    const updated = await setPayoutDailyLimit(db, merchant, mode, usdCents);
    if (!updated) throw new StartupError(`no merchant ${merchant}`);
    const fallback = config.payouts.dailyLimitUsdCents?.[mode];
    console.log(
      usdCents === null
        ? `merchant ${merchant}: ${mode}-mode payouts follow INFLOW_PAYOUT_DAILY_LIMIT_USD_${mode.toUpperCase()} (${fallback === undefined ? 'no limit' : `USD ${formatAmount(fallback, 2)} a day`} in this environment)`
        : `merchant ${merchant}: ${mode}-mode payouts limited to USD ${formatAmount(usdCents, 2)} in any 24 hours`,
    );
  } finally {
    await db.destroy();
  }
}

/**
 * Names, on stderr, what the command talks to when any of it came from `npm run dev`'s stack file
 * rather than the environment; with everything from the environment (production) it stays quiet.
 */
function announce(environment: CliEnvironment): void {
  if (environment.devStack) process.stderr.write(`${environment.describe()}\n`);
}

/**
 * Development commands live in dev/, which production images do not ship: they run as a program
 * of their own, so this operator CLI never loads development code.
 */
function runDevelopmentCommand(script: string, args: string[]): void {
  const file = path.resolve(__dirname, '..', script);
  if (!existsSync(file)) throw new StartupError(`${script} is not here: devnet commands exist only in a development checkout (npm run dev).`);
  const { status } = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { stdio: 'inherit' });
  process.exitCode = status ?? 1;
}
