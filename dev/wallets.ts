/**
 * A throw-away HD wallet for development's test mode, made on first start and kept in
 * .data/dev-wallets.json, from which `npm run dev` configures the test-mode xpubs. Anyone who can
 * read that file can spend what its addresses receive: never send real funds to them. Live mode
 * gets no throw-away wallet by default (its addresses would be valid on mainnet): it stays disabled
 * in development unless its xpubs are configured, or unless the operator asks for a devnet-only
 * live mode (`INFLOW_DEV_LIVE=on`): then a second throw-away mnemonic, the file's `live` branch,
 * gives live mode addresses that `npm run dev` watches on its local devnets only.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateMnemonic, xpubsFromMnemonic } from '../src/chains/derivation';
import { ConfigError } from '../src/config';
import { generateSecretKey } from '../src/merchants/sealed-keys';
import type { Log } from './tools/progress';

interface DevWallets {
  test?: { mnemonic?: string };
  /** Made only when a devnet-only live mode is asked for. */
  live?: { mnemonic?: string; note?: string };
}

const LIVE_NOTE = 'devnet only: npm run dev (INFLOW_DEV_LIVE=on) watches live mode on its local devnets; never send real funds to these addresses';

/**
 * Environment variables with the development test-mode xpubs, unless the caller configured its own;
 * with `live`, the devnet-only live-mode xpubs too (the caller may not have live xpubs of its own).
 */
export async function developmentXpubEnv(dataDir: string, env: NodeJS.ProcessEnv, log: Log, options: { live?: boolean } = {}): Promise<Record<string, string>> {
  const ownTest = Boolean(env.INFLOW_XPUB_EVM_TEST || env.INFLOW_XPUB_TRON_TEST);
  if (options.live && (env.INFLOW_XPUB_EVM_LIVE || env.INFLOW_XPUB_TRON_LIVE))
    throw new ConfigError(
      'inflow dev: INFLOW_DEV_LIVE=on makes a throw-away live wallet for the devnets, but INFLOW_XPUB_EVM_LIVE or INFLOW_XPUB_TRON_LIVE is set: unset them, or INFLOW_DEV_LIVE',
    );
  if (ownTest && !options.live) return {};
  const file = path.join(dataDir, 'dev-wallets.json');
  const saved = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as DevWallets)
    .catch((): DevWallets => ({}));
  const wallets: DevWallets = { ...saved };
  let changed = false;
  if (!ownTest && !wallets.test?.mnemonic) {
    wallets.test = { mnemonic: generateMnemonic() };
    changed = true;
    log(`made a throw-away development wallet in ${file}`);
  }
  if (options.live && !wallets.live?.mnemonic) {
    wallets.live = { mnemonic: generateMnemonic(), note: LIVE_NOTE };
    changed = true;
    log(`made a throw-away devnet-only live wallet in ${file}`);
  }
  if (changed) await writeFile(file, `${JSON.stringify(wallets, null, 2)}\n`, { mode: 0o600 });
  const result: Record<string, string> = {};
  if (!ownTest) {
    const xpubs = xpubsFromMnemonic(wallets.test!.mnemonic!);
    log(`WARNING: test-mode deposit addresses come from a throw-away mnemonic in ${file}: development only, never send real funds to them`);
    Object.assign(result, { INFLOW_XPUB_EVM_TEST: xpubs.evm, INFLOW_XPUB_TRON_TEST: xpubs.tron });
  }
  if (options.live) {
    const xpubs = xpubsFromMnemonic(wallets.live!.mnemonic!);
    log(
      `WARNING: live-mode deposit addresses come from a throw-away mnemonic in ${file} and are watched on the local devnets only (INFLOW_DEV_LIVE=on): never send real funds to them`,
    );
    Object.assign(result, { INFLOW_XPUB_EVM_LIVE: xpubs.evm, INFLOW_XPUB_TRON_LIVE: xpubs.tron });
  }
  return result;
}

/**
 * INFLOW_SECRET_KEY for development, unless the caller configured one: made on first start and
 * kept in .data/dev-secret-key, so API keys sealed in one start still open in the next.
 */
export async function developmentSecretKeyEnv(dataDir: string, env: NodeJS.ProcessEnv, log: Log): Promise<Record<string, string>> {
  if (env.INFLOW_SECRET_KEY) return {};
  const file = developmentSecretKeyFile(dataDir);
  let key = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (!key) {
    key = generateSecretKey();
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    log(`made a development INFLOW_SECRET_KEY in ${file}`);
  }
  return { INFLOW_SECRET_KEY: key };
}

/** Where developmentSecretKeyEnv keeps the key it made. */
export function developmentSecretKeyFile(dataDir: string): string {
  return path.join(dataDir, 'dev-secret-key');
}
