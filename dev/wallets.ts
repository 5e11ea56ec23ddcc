/**
 * Throw-away HD wallets for development: one mnemonic per mode, made on first start and kept in
 * .data/dev-wallets.json, from which `npm run dev` configures the xpubs the API needs. Anyone who
 * can read that file can spend what its addresses receive: never send real funds to them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateMnemonic, xpubsFromMnemonic } from '../src/chains/derivation';
import type { Mode } from '../src/domain/api-keys';
import type { Log } from './tools/progress';

type Wallets = Record<Mode, { mnemonic: string }>;

/** Environment variables with the development xpubs, for any mode the caller has not configured. */
export async function developmentXpubEnv(dataDir: string, env: NodeJS.ProcessEnv, log: Log): Promise<Record<string, string>> {
  const file = path.join(dataDir, 'dev-wallets.json');
  let wallets = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as Wallets)
    .catch(() => undefined);
  if (!wallets) {
    wallets = { test: { mnemonic: generateMnemonic() }, live: { mnemonic: generateMnemonic() } };
    await writeFile(file, `${JSON.stringify(wallets, null, 2)}\n`, { mode: 0o600 });
    log(`made throw-away development wallets in ${file}`);
  }
  const result: Record<string, string> = {};
  for (const mode of ['test', 'live'] as const) {
    const evmVar = `INFLOW_XPUB_EVM_${mode.toUpperCase()}`;
    const tronVar = `INFLOW_XPUB_TRON_${mode.toUpperCase()}`;
    if (env[evmVar] || env[tronVar]) continue;
    const xpubs = xpubsFromMnemonic(wallets[mode].mnemonic);
    result[evmVar] = xpubs.evm;
    result[tronVar] = xpubs.tron;
    log(`WARNING: ${mode}-mode deposit addresses come from a throw-away mnemonic in ${file}: development only, never send real funds to them`);
  }
  return result;
}
