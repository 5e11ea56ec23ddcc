/**
 * A throw-away HD wallet for development's test mode, made on first start and kept in
 * .data/dev-wallets.json, from which `npm run dev` configures the test-mode xpubs. Anyone who can
 * read that file can spend what its addresses receive: never send real funds to them. Live mode
 * gets no throw-away wallet by default (its addresses would be valid on mainnet): it stays disabled
 * in development unless its xpubs are configured, or unless the operator asks for a devnet-only
 * live mode (`INFLOW_DEV_LIVE=on`): then a second throw-away mnemonic, the file's `live` branch,
 * gives live mode addresses that `npm run dev` watches on its local devnets only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HDNodeWallet } from 'ethers';
import { generateMnemonic, xpubsFromMnemonic } from '../src/chains/derivation';
import { tronAddressOfKey } from '../src/chains/tron/transaction';
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

/** The development treasury: m/44'/60'/2'/0/0 of the development wallet (sweeps on the devnet pay it). */
export const DEVELOPMENT_TREASURY_PATH = "m/44'/60'/2'/0/0";
/** The development Tron treasury: m/44'/195'/2'/0/0 of the development wallet. */
export const DEVELOPMENT_TRON_TREASURY_PATH = "m/44'/195'/2'/0/0";
/** The Tron gas wallet (as the signer derives it): the devnet stakes its TRX for energy, as an operator would by hand. */
const TRON_GAS_WALLET_PATH = "m/44'/195'/1'/0/0";

export interface DevelopmentSigner {
  /** What `npm run signer` reads: its socket, secret, audit log and each mode's mnemonic file (nothing else of the stack's environment). */
  env: Record<string, string>;
  /** What the worker gets to reach it (INFLOW_SIGNER_SOCKET, INFLOW_SIGNER_SECRET); never the API. */
  workerEnv: Record<string, string>;
  /** What the APIs get: the key they authorise payouts with (INFLOW_PAYOUT_AUTHORIZATION_SECRET); never a worker. */
  apiEnv: Record<string, string>;
  /** The development treasury of each mode signed for (ethereum). */
  treasuries: Partial<Record<'test' | 'live', string>>;
  /** The development Tron treasury (T…) of each mode signed for. */
  tronTreasuries: Partial<Record<'test' | 'live', string>>;
  /** The Tron gas wallet's key of each mode, for the devnet to stake its TRX (the operator's by-hand step; never given to inflow). */
  tronGasWalletKeys: Partial<Record<'test' | 'live', string>>;
  auditLog: string;
}

/**
 * The signer's files for development, in <dataDir>/signer (mode 0700): each development wallet's
 * mnemonic copied to a 0600 file for the signer (test, and live with `live`), a random
 * INFLOW_SIGNER_SECRET made once and kept, the audit log, and the socket (in the temp directory
 * when <dataDir> is too deep for a socket path). Undefined when the test wallet is the caller's
 * own (their xpubs): there is no development mnemonic to sign with.
 */
export async function developmentSigner(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  log: Log,
  options: { live?: boolean } = {},
): Promise<DevelopmentSigner | undefined> {
  if (env.INFLOW_XPUB_EVM_TEST || env.INFLOW_XPUB_TRON_TEST) return undefined;
  const wallets = JSON.parse(await readFile(path.join(dataDir, 'dev-wallets.json'), 'utf8')) as DevWallets;
  const dir = path.join(dataDir, 'signer');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const secretFile = path.join(dir, 'secret');
  let secret = (await readFile(secretFile, 'utf8').catch(() => '')).trim();
  if (secret.length < 32) {
    secret = randomBytes(32).toString('hex');
    await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
    log(`made a development INFLOW_SIGNER_SECRET in ${secretFile}`);
  }
  let socket = path.join(dir, 'signer.sock');
  // sun_path is 108 bytes: a deep data directory gets a socket in the temp directory, named after it.
  if (Buffer.byteLength(socket) > 100) socket = path.join(os.tmpdir(), `inflow-signer-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.sock`);
  const auditLog = path.join(dir, 'audit.log');
  // The key payouts are authorised with: the signer's and the APIs', never the workers' (docs/payouts.md).
  const payoutSecretFile = path.join(dir, 'payout-authorization-secret');
  let payoutSecret = (await readFile(payoutSecretFile, 'utf8').catch(() => '')).trim();
  if (payoutSecret.length < 32) {
    payoutSecret = randomBytes(32).toString('hex');
    await writeFile(payoutSecretFile, `${payoutSecret}\n`, { mode: 0o600 });
    log(`made a development INFLOW_PAYOUT_AUTHORIZATION_SECRET in ${payoutSecretFile}`);
  }
  const result: DevelopmentSigner = {
    env: { INFLOW_SIGNER_SOCKET: socket, INFLOW_SIGNER_SECRET: secret, INFLOW_SIGNER_AUDIT_LOG: auditLog, INFLOW_PAYOUT_AUTHORIZATION_SECRET: payoutSecret },
    apiEnv: { INFLOW_PAYOUT_AUTHORIZATION_SECRET: payoutSecret },
    workerEnv: { INFLOW_SIGNER_SOCKET: socket, INFLOW_SIGNER_SECRET: secret },
    treasuries: {},
    tronTreasuries: {},
    tronGasWalletKeys: {},
    auditLog,
  };
  for (const mode of options.live ? (['test', 'live'] as const) : (['test'] as const)) {
    const mnemonic = wallets[mode]?.mnemonic;
    if (!mnemonic) continue;
    const file = path.join(dir, `${mode}-mnemonic`);
    await writeFile(file, `${mnemonic}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    result.env[`INFLOW_SIGNER_MNEMONIC_FILE_${mode.toUpperCase()}`] = file;
    result.treasuries[mode] = HDNodeWallet.fromPhrase(mnemonic, undefined, DEVELOPMENT_TREASURY_PATH).address;
    result.tronTreasuries[mode] = tronAddressOfKey(HDNodeWallet.fromPhrase(mnemonic, undefined, DEVELOPMENT_TRON_TREASURY_PATH).privateKey);
    result.tronGasWalletKeys[mode] = HDNodeWallet.fromPhrase(mnemonic, undefined, TRON_GAS_WALLET_PATH).privateKey;
  }
  return result;
}
