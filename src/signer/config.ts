/**
 * The signer's own environment, parsed once with zod (as src/config.ts does for the other
 * processes, and sharing none of their settings but the token contracts' names). See
 * docs/treasury.md for what each setting guards.
 */
import { isAddress, getAddress, ZeroAddress } from 'ethers';
import { z } from 'zod';
import { tronAddressToHex } from '../chains/tron/address';
import { modes, type Mode } from '../domain/mode';
import { AmountFormatError, parseAmount } from '../domain/money';
import { networkNames, networks, type Network, type NetworkDefinition } from '../domain/networks';
import { PAYOUT_AUTHORIZATION_SECRET_MIN_LENGTH } from '../treasury/payout-authorization';

export class SignerConfigError extends Error {
  override readonly name = 'SignerConfigError';
}

const Env = z.object({
  INFLOW_SIGNER_SOCKET: z
    .string()
    .trim()
    .min(1)
    // sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included.
    .max(100, 'must be at most 100 characters (a Unix socket path)'),
  INFLOW_SIGNER_SECRET: z.string().trim().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),
  INFLOW_SIGNER_AUDIT_LOG: z.string().trim().min(1),
  INFLOW_SIGNER_MNEMONIC_FILE_TEST: z.string().trim().min(1).optional(),
  INFLOW_SIGNER_MNEMONIC_FILE_LIVE: z.string().trim().min(1).optional(),
  INFLOW_PAYOUT_AUTHORIZATION_SECRET: z
    .string()
    .trim()
    .min(PAYOUT_AUTHORIZATION_SECRET_MIN_LENGTH, `must be at least ${PAYOUT_AUTHORIZATION_SECRET_MIN_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`)
    .optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

/** What one gas top-up may send by default: 10^16 wei (0.01 of the native coin). */
export const DEFAULT_GAS_TOPUP_MAX_WEI = 10n ** 16n;

/**
 * The most one transaction's fee may reach by default (gas_limit × max_fee_per_gas), per network:
 * a worker that asked for absurd fees would hand a deposit's coins to the block producer (the
 * priority fee is theirs). Roughly 65,000 gas (a token transfer) at the dearest prices each network has seen.
 */
export const DEFAULT_MAX_FEE_WEI: Record<Network, bigint> = {
  ethereum: 10n ** 16n,
  polygon: 10n ** 18n,
  bsc: 10n ** 16n,
  arbitrum: 10n ** 15n,
  base: 10n ** 15n,
  tron: 0n,
};

/** Live mode's chain ids unless INFLOW_SIGNER_CHAIN_ID_<NETWORK>_LIVE says otherwise (testnets vary: test mode has none). */
export const MAINNET_CHAIN_IDS: Partial<Record<Network, number>> = { ethereum: 1, polygon: 137, bsc: 56, arbitrum: 42161, base: 8453 };

export interface SignerNetworkPolicy {
  /** Where sweeps may pay; unset: the network is refused in that mode. */
  treasury: string | undefined;
  /** Token contracts a sweep may call, lower-cased address → currency. */
  tokens: Map<string, string>;
  gasTopupMaxWei: bigint;
  maxFeeWei: bigint;
  /** When set, a transaction for another chain id is refused. */
  chainId: number | undefined;
  /** The most one payout may pay, per currency, in base units (INFLOW_SIGNER_MAX_PAYOUT_…); a currency without one has no cap. */
  payoutCaps: Map<string, bigint>;
}

/**
 * Tron's caps by default, in sun (10^6 sun = 1 TRX). A TRC-20 transfer uses about 130,000 energy to
 * a new holder and 65,000 to one that holds the token already; at the dearest energy price Tron
 * has had (420 sun) the first burns about 55 TRX. 100 TRX covers it: the most one call's fee_limit
 * may let it burn, and the most one top-up may send to pay for it.
 */
export const DEFAULT_MAX_FEE_LIMIT_SUN_TRON = 100_000_000n;
export const DEFAULT_GAS_TOPUP_MAX_SUN_TRON = 100_000_000n;
/** The most staked TRX one delegation (or reclaim) of energy may name: 50,000 TRX, about 500,000 energy a day at mainnet's ratio (≈ 10 a TRX), several transfers. */
export const DEFAULT_ENERGY_DELEGATION_MAX_SUN_TRON = 50_000_000_000n;
/** A delegation's lock by default: none (lock_period ≤ 0 blocks: every lock refused). */
export const DEFAULT_ENERGY_DELEGATION_MAX_LOCK_BLOCKS_TRON = 0;
/** java-tron's own bound on a lock (maxDelegateLockPeriod may be raised by the committee; 864,000 blocks is 30 days). */
const MAX_LOCK_BLOCKS = 864_000;
/** How far past the signer's clock a transaction's expiration may be by default: 10 minutes (java-tron builds them 60 s past the head). */
export const DEFAULT_MAX_EXPIRATION_SECONDS_TRON = 600;

export interface SignerTronPolicy {
  /** Where sweeps may pay (T…); unset: Tron is refused in that mode. */
  treasury: string | undefined;
  /** TRC-20 contracts a sweep (or a payout of that currency) may call: 41… hex (lower case) → currency. */
  tokens: Map<string, string>;
  gasTopupMaxSun: bigint;
  maxFeeLimitSun: bigint;
  /** The most staked TRX (sun) one energy delegation or reclaim may name. */
  delegationMaxSun: bigint;
  /** The longest lock (blocks) a delegation may have; 0: no lock at all. */
  delegationMaxLockBlocks: number;
  /** How far past now (ms) a transaction's expiration may be. */
  maxExpirationMs: number;
  /** The most one payout may pay, per currency, in base units (INFLOW_SIGNER_MAX_PAYOUT_TRON_…); a currency without one has no cap. */
  payoutCaps: Map<string, bigint>;
}

export interface SignerConfig {
  socketPath: string;
  secret: string;
  auditLogPath: string;
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
  /** The mnemonic file of each mode that has one (a mode without is not signed for). */
  mnemonicFiles: Partial<Record<Mode, string>>;
  /** Per mode, per EVM network. */
  policies: Record<Mode, Partial<Record<Network, SignerNetworkPolicy>>>;
  /** Per mode, Tron's. */
  tron: Record<Mode, SignerTronPolicy>;
  /**
   * The key the API authorises each payout's terms with (INFLOW_PAYOUT_AUTHORIZATION_SECRET,
   * src/treasury/payout-authorization.ts); unset: no payout is signed.
   */
  payoutAuthorizationSecret: string | undefined;
}

/** The EVM networks (Tron's policy is apart: SignerConfig.tron). */
export const evmNetworks = networkNames.filter((network) => networks[network].family === 'evm');

export function loadSignerConfig(env: NodeJS.ProcessEnv): SignerConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = Env.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new SignerConfigError(
      issue.code === 'invalid_type' && present[name] === undefined
        ? `inflow signer: missing environment variable ${name}`
        : `inflow signer: ${name} ${issue.message}`,
    );
  }
  const data = parsed.data;
  const policies: SignerConfig['policies'] = { test: {}, live: {} };
  const payoutCapVariables = new Set<string>();
  for (const mode of modes) {
    for (const network of evmNetworks) {
      const suffix = `${network.toUpperCase()}_${mode.toUpperCase()}`;
      const treasuryVariable = `INFLOW_TREASURY_${suffix}`;
      const treasury = present[treasuryVariable]?.trim();
      if (treasury !== undefined && (!isAddress(treasury) || getAddress(treasury) === ZeroAddress))
        throw new SignerConfigError(`inflow signer: ${treasuryVariable} must be a 0x… address (not the zero address)`);
      const definition: NetworkDefinition = networks[network];
      const tokens = new Map<string, string>();
      for (const [currency, currencyDefinition] of Object.entries(definition.currencies)) {
        const variable = `INFLOW_TOKEN_${network.toUpperCase()}_${currency}_${mode.toUpperCase()}`;
        const configured = present[variable]?.trim();
        if (configured !== undefined && !isAddress(configured)) throw new SignerConfigError(`inflow signer: ${variable} must be a contract address (0x…)`);
        // The registry's contract and the configured one alike: the transfer must pay the treasury either way.
        for (const contract of [configured, currencyDefinition.contracts?.[mode]]) if (contract) tokens.set(contract.toLowerCase(), currency);
      }
      const payoutCaps = readPayoutCaps(present, network, mode, payoutCapVariables);
      const chainIdVariable = `INFLOW_SIGNER_CHAIN_ID_${suffix}`;
      const chainId = wholeNumber(present, chainIdVariable, 1n, BigInt(Number.MAX_SAFE_INTEGER));
      policies[mode][network] = {
        treasury: treasury === undefined ? undefined : getAddress(treasury),
        tokens,
        gasTopupMaxWei: wholeNumber(present, `INFLOW_GAS_TOPUP_MAX_WEI_${suffix}`, 0n, 2n ** 256n - 1n) ?? DEFAULT_GAS_TOPUP_MAX_WEI,
        maxFeeWei: wholeNumber(present, `INFLOW_SIGNER_MAX_FEE_WEI_${suffix}`, 0n, 2n ** 256n - 1n) ?? DEFAULT_MAX_FEE_WEI[network],
        chainId: chainId !== undefined ? Number(chainId) : mode === 'live' ? MAINNET_CHAIN_IDS[network] : undefined,
        payoutCaps,
      };
    }
  }
  const tron = { test: tronPolicy(present, 'test', payoutCapVariables), live: tronPolicy(present, 'live', payoutCapVariables) };
  // A cap that names no network, currency or mode would cap nothing: refused, rather than thought set.
  const strayCap = Object.keys(present).find((name) => name.startsWith('INFLOW_SIGNER_MAX_PAYOUT_') && !payoutCapVariables.has(name));
  if (strayCap)
    throw new SignerConfigError(
      `inflow signer: ${strayCap} names no network, currency and mode that payouts are signed for (INFLOW_SIGNER_MAX_PAYOUT_<NETWORK>_<CURRENCY>_<MODE>, e.g. INFLOW_SIGNER_MAX_PAYOUT_ETHEREUM_USDT_LIVE or INFLOW_SIGNER_MAX_PAYOUT_TRON_USDT_LIVE)`,
    );
  return {
    socketPath: data.INFLOW_SIGNER_SOCKET,
    secret: data.INFLOW_SIGNER_SECRET,
    auditLogPath: data.INFLOW_SIGNER_AUDIT_LOG,
    logLevel: data.LOG_LEVEL,
    mnemonicFiles: {
      ...(data.INFLOW_SIGNER_MNEMONIC_FILE_TEST && { test: data.INFLOW_SIGNER_MNEMONIC_FILE_TEST }),
      ...(data.INFLOW_SIGNER_MNEMONIC_FILE_LIVE && { live: data.INFLOW_SIGNER_MNEMONIC_FILE_LIVE }),
    },
    policies,
    tron,
    payoutAuthorizationSecret: data.INFLOW_PAYOUT_AUTHORIZATION_SECRET,
  };
}

/** The zero account id as a Tron address: never a treasury. */
const TRON_ZERO_HEX = `41${'0'.repeat(40)}`;

/**
 * The payout caps of `network` in `mode`: INFLOW_SIGNER_MAX_PAYOUT_<NETWORK>_<CURRENCY>_<MODE> in
 * whole units, as base units. Each name it could read is added to `variables` (what a stray name is checked against).
 */
function readPayoutCaps(env: NodeJS.ProcessEnv, network: Network, mode: Mode, variables: Set<string>): Map<string, bigint> {
  const payoutCaps = new Map<string, bigint>();
  for (const [currency, currencyDefinition] of Object.entries(networks[network].currencies as NetworkDefinition['currencies'])) {
    const variable = `INFLOW_SIGNER_MAX_PAYOUT_${network.toUpperCase()}_${currency}_${mode.toUpperCase()}`;
    variables.add(variable);
    const text = env[variable]?.trim();
    if (text === undefined) continue;
    try {
      payoutCaps.set(currency, parseAmount(text, currencyDefinition.decimals));
    } catch (error) {
      if (!(error instanceof AmountFormatError)) throw error;
      throw new SignerConfigError(
        `inflow signer: ${variable} must be the most one payout may pay in whole ${currency} as decimal text, e.g. "1000" or "0.5" (at most ${currencyDefinition.decimals} decimal places): ${error.message}`,
      );
    }
  }
  return payoutCaps;
}

function tronPolicy(env: NodeJS.ProcessEnv, mode: Mode, payoutCapVariables: Set<string>): SignerTronPolicy {
  const suffix = `TRON_${mode.toUpperCase()}`;
  const treasuryVariable = `INFLOW_TREASURY_${suffix}`;
  const treasury = env[treasuryVariable]?.trim();
  if (treasury !== undefined) {
    const hex = tronAddressToHex(treasury);
    if (!hex || hex === TRON_ZERO_HEX)
      throw new SignerConfigError(`inflow signer: ${treasuryVariable} must be a Tron address (T…, base58check; not the zero address)`);
  }
  const tokens = new Map<string, string>();
  for (const [currency, currencyDefinition] of Object.entries(networks.tron.currencies as NetworkDefinition['currencies'])) {
    const variable = `INFLOW_TOKEN_TRON_${currency}_${mode.toUpperCase()}`;
    const configured = env[variable]?.trim();
    if (configured !== undefined && !tronAddressToHex(configured))
      throw new SignerConfigError(`inflow signer: ${variable} must be a Tron contract address (T…, base58check)`);
    // The registry's contract and the configured one alike: the transfer must pay the treasury either way.
    for (const contract of [configured, currencyDefinition.contracts?.[mode]]) if (contract) tokens.set(tronAddressToHex(contract)!, currency);
  }
  const sun = (name: string, fallback: bigint) => wholeNumber(env, `${name}_${suffix}`, 0n, (1n << 63n) - 1n) ?? fallback;
  return {
    treasury,
    tokens,
    gasTopupMaxSun: sun('INFLOW_GAS_TOPUP_MAX_SUN', DEFAULT_GAS_TOPUP_MAX_SUN_TRON),
    maxFeeLimitSun: sun('INFLOW_SIGNER_MAX_FEE_LIMIT_SUN', DEFAULT_MAX_FEE_LIMIT_SUN_TRON),
    delegationMaxSun: sun('INFLOW_ENERGY_DELEGATION_MAX_SUN', DEFAULT_ENERGY_DELEGATION_MAX_SUN_TRON),
    delegationMaxLockBlocks: Number(
      wholeNumber(env, `INFLOW_ENERGY_DELEGATION_MAX_LOCK_BLOCKS_${suffix}`, 0n, BigInt(MAX_LOCK_BLOCKS)) ?? DEFAULT_ENERGY_DELEGATION_MAX_LOCK_BLOCKS_TRON,
    ),
    maxExpirationMs:
      Number(wholeNumber(env, `INFLOW_SIGNER_MAX_EXPIRATION_SECONDS_${suffix}`, 1n, 86_400n) ?? BigInt(DEFAULT_MAX_EXPIRATION_SECONDS_TRON)) * 1000,
    payoutCaps: readPayoutCaps(env, 'tron', mode, payoutCapVariables),
  };
}

function wholeNumber(env: NodeJS.ProcessEnv, variable: string, min: bigint, max: bigint): bigint | undefined {
  const text = env[variable]?.trim();
  if (text === undefined) return undefined;
  const value = /^\d{1,78}$/.test(text) ? BigInt(text) : undefined;
  if (value === undefined || value < min || value > max) throw new SignerConfigError(`inflow signer: ${variable} must be a whole number from ${min} to ${max}`);
  return value;
}
