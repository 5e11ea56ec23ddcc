/**
 * `npm run signer`: the only process that holds private keys (docs/treasury.md). It reads its own
 * settings (src/signer/config.ts), loads each mode's mnemonic file, checks its audit log's chain,
 * and answers the worker on a Unix socket (server.ts). It imports nothing of the API, the
 * workflows or the database, and needs neither Postgres nor Temporal to run.
 */
import { unlink } from 'node:fs/promises';
import { modes, type Mode } from '../domain/mode';
import { createLogger } from '../logger';
import { AuditLog, AuditLogError } from './audit-log';
import { loadSignerConfig, SignerConfigError, type SignerConfig } from './config';
import {
  GAS_WALLET_PATH,
  HOT_WALLET_PATH,
  KeySourceError,
  mnemonicKeySourceFromFile,
  TRON_GAS_WALLET_PATH,
  TRON_HOT_WALLET_PATH,
  tronAddressOfKey,
  type KeySource,
} from './keys';
import { createSignerServer, listenOnSocket, rememberSigned, type SignedPayout } from './server';

class StartError extends Error {}

async function main(): Promise<void> {
  const config = loadSignerConfig(process.env);
  const logger = createLogger(config.logLevel, { process: 'signer' });
  const keys = await loadKeys(config);
  const seen = new Map<string, string>();
  // Each payout signed so far, and the nonce (EVM) or txID (Tron) its first transaction fixed: `payout_once` holds across restarts.
  const signedPayouts = new Map<string, SignedPayout>();
  const audit = await AuditLog.open(
    config.auditLogPath,
    (line) => logger.warn(line),
    (entry) => rememberSigned(entry, seen, signedPayouts),
  );
  const server = createSignerServer({ config, keys, audit, seen, signedPayouts, logger });
  try {
    await listenOnSocket(server, config.socketPath);
  } catch (error) {
    throw new StartError(`inflow signer: ${(error as Error).message}`);
  }
  const withKeys = modes.filter((mode) => keys[mode]);
  for (const mode of withKeys) {
    const treasuries = Object.entries(config.policies[mode]).filter(([, policy]) => policy?.treasury);
    if (treasuries.length === 0 && !config.tron[mode].treasury)
      logger.warn(`${mode} mode has keys but no INFLOW_TREASURY_<NETWORK>_${mode.toUpperCase()}: nothing will be signed in it`);
  }
  logger.info(
    {
      socket: config.socketPath,
      audit_log: config.auditLogPath,
      signed_requests: seen.size,
      signed_payouts: signedPayouts.size,
      payouts: config.payoutAuthorizationSecret ? 'signed when the API authorised them' : 'none (INFLOW_PAYOUT_AUTHORIZATION_SECRET is unset)',
      modes: withKeys,
      gas_wallets: Object.fromEntries(withKeys.map((mode) => [mode, keys[mode]!.key(GAS_WALLET_PATH).address])),
      tron_gas_wallets: Object.fromEntries(withKeys.map((mode) => [mode, tronAddressOfKey(keys[mode]!.key(TRON_GAS_WALLET_PATH))])),
      hot_wallets: Object.fromEntries(withKeys.map((mode) => [mode, keys[mode]!.key(HOT_WALLET_PATH).address])),
      tron_hot_wallets: Object.fromEntries(withKeys.map((mode) => [mode, tronAddressOfKey(keys[mode]!.key(TRON_HOT_WALLET_PATH))])),
    },
    'signer started',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signer stopping');
    server.close(() => {
      void audit
        .close()
        .then(() => unlink(config.socketPath).catch(() => undefined))
        .finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function loadKeys(config: SignerConfig): Promise<Partial<Record<Mode, KeySource>>> {
  const keys: Partial<Record<Mode, KeySource>> = {};
  for (const mode of modes) {
    const file = config.mnemonicFiles[mode];
    if (!file) continue;
    try {
      keys[mode] = await mnemonicKeySourceFromFile(file);
    } catch (error) {
      if (error instanceof KeySourceError) throw new StartError(`inflow signer: INFLOW_SIGNER_MNEMONIC_FILE_${mode.toUpperCase()} (${file}) ${error.message}`);
      throw error;
    }
  }
  // As the xpubs (src/config.ts): one wallet for both modes would let a test sweep move live money.
  if (keys.test && keys.live && keys.test.key(GAS_WALLET_PATH).address === keys.live.key(GAS_WALLET_PATH).address)
    throw new StartError('inflow signer: the test and live mnemonic files hold the same wallet: test and live keys must differ');
  return keys;
}

main().catch((error: unknown) => {
  const known = error instanceof SignerConfigError || error instanceof StartError || error instanceof AuditLogError;
  process.stderr.write(`${known ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
