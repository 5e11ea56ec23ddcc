/**
 * The signer's own environment, parsed once with zod (as src/config.ts does for the other
 * processes, and sharing none of their settings but the token contracts' names). See
 * docs/treasury.md for what each setting guards.
 */
import { isAddress, getAddress, ZeroAddress } from 'ethers';
import { z } from 'zod';
import { modes, type Mode } from '../domain/mode';
import { networkNames, networks, type Network, type NetworkDefinition } from '../domain/networks';

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
}

/** The EVM networks: Tron signing is a later part of the treasury (docs/treasury.md). */
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
      const chainIdVariable = `INFLOW_SIGNER_CHAIN_ID_${suffix}`;
      const chainId = wholeNumber(present, chainIdVariable, 1n, BigInt(Number.MAX_SAFE_INTEGER));
      policies[mode][network] = {
        treasury: treasury === undefined ? undefined : getAddress(treasury),
        tokens,
        gasTopupMaxWei: wholeNumber(present, `INFLOW_GAS_TOPUP_MAX_WEI_${suffix}`, 0n, 2n ** 256n - 1n) ?? DEFAULT_GAS_TOPUP_MAX_WEI,
        maxFeeWei: wholeNumber(present, `INFLOW_SIGNER_MAX_FEE_WEI_${suffix}`, 0n, 2n ** 256n - 1n) ?? DEFAULT_MAX_FEE_WEI[network],
        chainId: chainId !== undefined ? Number(chainId) : mode === 'live' ? MAINNET_CHAIN_IDS[network] : undefined,
      };
    }
  }
  if (present.INFLOW_TREASURY_TRON_TEST || present.INFLOW_TREASURY_TRON_LIVE)
    throw new SignerConfigError('inflow signer: INFLOW_TREASURY_TRON_* is not read yet: this signer signs for EVM networks only (docs/treasury.md)');
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
  };
}

function wholeNumber(env: NodeJS.ProcessEnv, variable: string, min: bigint, max: bigint): bigint | undefined {
  const text = env[variable]?.trim();
  if (text === undefined) return undefined;
  const value = /^\d{1,78}$/.test(text) ? BigInt(text) : undefined;
  if (value === undefined || value < min || value > max) throw new SignerConfigError(`inflow signer: ${variable} must be a whole number from ${min} to ${max}`);
  return value;
}
