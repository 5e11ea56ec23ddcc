/**
 * A throw-away HD wallet for development's test mode, made on first start and kept in
 * .data/dev-wallets.json, from which `npm run dev` configures the test-mode xpubs. Anyone who can
 * read that file can spend what its addresses receive: never send real funds to them. Live mode
 * gets no throw-away wallet (its addresses would be valid on mainnet): it stays disabled in
 * development unless its xpubs are configured.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateMnemonic, xpubsFromMnemonic } from '../src/chains/derivation';
import { generateSecretKey } from '../src/merchants/sealed-keys';
import type { Log } from './tools/progress';

/** Environment variables with the development test-mode xpubs, unless the caller configured its own. */
export async function developmentXpubEnv(dataDir: string, env: NodeJS.ProcessEnv, log: Log): Promise<Record<string, string>> {
  if (env.INFLOW_XPUB_EVM_TEST || env.INFLOW_XPUB_TRON_TEST) return {};
  const file = path.join(dataDir, 'dev-wallets.json');
  let mnemonic = await readFile(file, 'utf8')
    .then((text) => (JSON.parse(text) as { test?: { mnemonic?: string } }).test?.mnemonic)
    .catch(() => undefined);
  if (!mnemonic) {
    mnemonic = generateMnemonic();
    await writeFile(file, `${JSON.stringify({ test: { mnemonic } }, null, 2)}\n`, { mode: 0o600 });
    log(`made a throw-away development wallet in ${file}`);
  }
  const xpubs = xpubsFromMnemonic(mnemonic);
  log(`WARNING: test-mode deposit addresses come from a throw-away mnemonic in ${file}: development only, never send real funds to them`);
  return { INFLOW_XPUB_EVM_TEST: xpubs.evm, INFLOW_XPUB_TRON_TEST: xpubs.tron };
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
