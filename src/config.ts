/**
 * The process environment, parsed once with zod and passed down. Nothing reads process.env
 * elsewhere, and nothing here runs at import time: entry points call loadConfig and print a
 * ConfigError's one-line message.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { livemodeOf, modes, type Mode } from './domain/mode';
import { isAddress } from 'ethers';
import { isTronAddress } from './chains/tron/address';
import { callTracers, type CallTracer } from './chains/evm/evm.adapter';
import { isNetwork, networkNames, networks, type Family, type Network, type NetworkDefinition } from './domain/networks';
import type { FeeBasis } from './domain/fees';
import { parseAmount } from './domain/money';
import { parseSecretKey } from './merchants/sealed-keys';
import { parseStaticPrices } from './prices/price-source';
import { parseDustThresholds } from './domain/dust';
import { DEFAULT_WEBHOOK_ENDPOINTS_PER_MODE, defaultRateLimits, type RateLimitSettings } from './domain/rate-limits';
import { DEFAULT_DNS_TIMEOUT_MS, type DnsSettings } from './webhooks/ssrf';
import type { WebhookPolicy } from './webhooks/deliveries';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A USD amount with at most cents, as the operator writes it: 25, 2.50. */
const usdAmount = z
  .string()
  .trim()
  .regex(/^(0|[1-9]\d{0,9})(\.\d{1,2})?$/, 'must be a USD amount such as 25 or 2.50');

const EnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// connection URL')
    .optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. localhost:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('inflow'),
  // How this worker signs its tasks in workflow histories (the Web UI's "identity"); the SDK's pid@host when unset.
  TEMPORAL_WORKER_IDENTITY: z.string().trim().min(1).optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  // Account-level extended public keys (m/44'/60'/0' and m/44'/195'/0') per mode.
  INFLOW_XPUB_EVM_TEST: z.string().trim().min(1).optional(),
  INFLOW_XPUB_TRON_TEST: z.string().trim().min(1).optional(),
  INFLOW_XPUB_EVM_LIVE: z.string().trim().min(1).optional(),
  INFLOW_XPUB_TRON_LIVE: z.string().trim().min(1).optional(),
  // Static USD prices over the built-in table, e.g. "ETH=3500.12,BNB=610" (see src/prices.ts).
  INFLOW_STATIC_PRICES: z.string().optional(),
  // Test mode: the simulator's block interval in ms instead of each network's real one.
  INFLOW_SIMULATED_BLOCK_TIME_MS: z.coerce.number<string>().int().min(1).max(600_000).optional(),
  // Live webhooks go only to https URLs on public addresses unless this is "true" (never on the internet).
  INFLOW_WEBHOOKS_LIVE_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  // Test webhooks go only to public addresses unless this is "true" (any address: a receiver on a private network).
  INFLOW_WEBHOOKS_TEST_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  // Test webhooks may also go to loopback (http://localhost) when this is "true": development stacks only, as on a
  // shared host any merchant's test key could otherwise make the worker POST to the host's own services.
  INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK: z.enum(['true', 'false']).default('false'),
  // Chain watching: how often each watcher polls its node, and the widest block range per call.
  INFLOW_CHAIN_POLL_MS: z.coerce.number<string>().int().min(10).max(600_000).default(2_000),
  INFLOW_CHAIN_MAX_BLOCK_RANGE: z.coerce.number<string>().int().min(1).max(100_000).default(2_000),
  // 32 random bytes (hex or base64) that seal the API keys order callbacks are signed with.
  INFLOW_SECRET_KEY: z.string().trim().min(1).optional(),
  // Which EVM network's node reads the price feeds (INFLOW_PRICE_FEEDS_<MODE>).
  INFLOW_PRICE_FEED_NETWORK: z.enum(networkNames).default('ethereum'),
  // Transfers to customers below these amounts are recorded as dust and nothing more, e.g. "USDT=0.5,ETH=0" (see src/domain/dust.ts).
  INFLOW_DUST_THRESHOLDS: z.string().optional(),
  // Live money is priced only by live feeds unless this is "true": then currencies without one use the static table.
  INFLOW_ALLOW_STATIC_PRICES_LIVE: z.enum(['true', 'false']).default('false'),
  // Per-API-key limits (docs/limits.md): reads and writes per window, and requests in progress at once in each API process.
  INFLOW_RATE_LIMIT_READS: wholeNumber(1, 1_000_000).default(defaultRateLimits.reads),
  INFLOW_RATE_LIMIT_WRITES: wholeNumber(1, 1_000_000).default(defaultRateLimits.writes),
  INFLOW_RATE_LIMIT_WINDOW_SECONDS: wholeNumber(1, 3_600).default(defaultRateLimits.windowSeconds),
  INFLOW_CONCURRENT_REQUESTS_PER_KEY: wholeNumber(1, 100_000).default(defaultRateLimits.concurrentRequestsPerKey),
  // Tenant limits (docs/limits.md): writes in progress per merchant, event streams per merchant, refused keys per address.
  INFLOW_CONCURRENT_WRITES_PER_MERCHANT: wholeNumber(1, 1_000).default(defaultRateLimits.concurrentWritesPerMerchant),
  INFLOW_EVENT_STREAMS_PER_MERCHANT: wholeNumber(1, 10_000).default(defaultRateLimits.eventStreamsPerMerchant),
  INFLOW_UNAUTHENTICATED_REQUESTS_PER_IP: wholeNumber(1, 1_000_000).default(defaultRateLimits.unauthenticatedPerIp),
  INFLOW_WEBHOOK_ENDPOINTS_PER_MODE: wholeNumber(1, 10_000).default(DEFAULT_WEBHOOK_ENDPOINTS_PER_MODE),
  // Nameservers for webhook and callback URLs (comma-separated; the system's when unset) and how long a lookup may take.
  INFLOW_DNS_SERVERS: z.string().optional(),
  // At most 5 s: c-ares waits no longer than that for one answer, and a request waits out the lookup.
  INFLOW_DNS_TIMEOUT_MS: wholeNumber(100, 5_000).default(DEFAULT_DNS_TIMEOUT_MS),
  // The origin browsers reach the dashboard at behind a TLS-terminating proxy, e.g. https://pay.example.com (docs/dashboard.md).
  INFLOW_PUBLIC_URL: z
    .string()
    .trim()
    .regex(/^https?:\/\/[^\s/?#]+\/?$/, 'must be an origin such as https://pay.example.com (scheme and host, no path)')
    .optional(),
  // Peer addresses whose X-Forwarded-Proto and X-Forwarded-Host the dashboard believes, comma-separated (docs/dashboard.md).
  INFLOW_TRUSTED_PROXIES: z.string().optional(),
  // Days the request log (GET /requests) keeps a request; the worker's hourly prune deletes older ones (docs/api.md).
  INFLOW_REQUEST_LOG_RETENTION_DAYS: wholeNumber(1, 3_650).default(30),
  // The treasury (docs/treasury.md): the signer the worker asks (its socket and shared secret) and how often sweeps run.
  INFLOW_SIGNER_SOCKET: z.string().trim().min(1).optional(),
  INFLOW_SIGNER_SECRET: z.string().trim().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
  INFLOW_SWEEP_INTERVAL_MINUTES: wholeNumber(1, 7 * 24 * 60).default(60),
  // The least worth sweeping in USD, for every network and currency without its own INFLOW_SWEEP_MIN_…; unset, their unit defaults.
  INFLOW_SWEEP_MIN_USD: usdAmount.optional(),
  // Where the worker delivers operator events (docs/operations.md#operator-events), and the Standard Webhooks secret it signs them with.
  INFLOW_OPERATOR_WEBHOOK_URL: z
    .string()
    .trim()
    .url('must be an http(s) URL, e.g. https://ops.example.com/inflow')
    .refine((value) => /^https?:\/\//.test(value), 'must be an http(s) URL, e.g. https://ops.example.com/inflow')
    .optional(),
  INFLOW_OPERATOR_WEBHOOK_SECRET: z
    .string()
    .trim()
    .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ and at least 24 random bytes in base64 (e.g. `echo whsec_$(openssl rand -base64 32)`)')
    .optional(),
  // Payouts (docs/payouts.md): the key the API authorises each payout's terms with (the signer holds it too, the worker never),
  // whether live keys may make them, and what the operator charges per payout in USD (INFLOW_PAYOUT_FEE_USD_<NETWORK> per network).
  INFLOW_PAYOUT_AUTHORIZATION_SECRET: z.string().trim().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
  INFLOW_PAYOUTS_LIVE: z.enum(['enabled', 'disabled']).default('disabled'),
  INFLOW_PAYOUT_FEE_USD: usdAmount.default('1.00'),
  INFLOW_PAYOUT_FEE_BASIS: z.enum(['fixed', 'measured']).default('fixed'),
  // What one merchant may pay out per mode in a day (USD, at the price when each payout is made), and above what a payout needs approval.
  INFLOW_PAYOUT_DAILY_LIMIT_USD_TEST: usdAmount.optional(),
  INFLOW_PAYOUT_DAILY_LIMIT_USD_LIVE: usdAmount.default('10000'),
  INFLOW_PAYOUT_APPROVAL_ABOVE_USD: usdAmount.optional(),
  // The bearer token GET /healthz?detail asks for (docs/operations.md); unset, only the minimal answer is served.
  INFLOW_HEALTH_TOKEN: z.string().trim().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
});

/** INFLOW_SWEEP_INTERVAL_MINUTES_<NETWORK>: each a whole number of minutes for a supported network. */
function sweepIntervals(env: NodeJS.ProcessEnv): Partial<Record<Network, number>> {
  const intervals: Partial<Record<Network, number>> = {};
  for (const [name, value] of Object.entries(env)) {
    const match = /^INFLOW_SWEEP_INTERVAL_MINUTES_([A-Z]+)$/.exec(name);
    if (!match || !value) continue;
    const network = match[1]!.toLowerCase();
    if (!isNetwork(network)) throw new ConfigError(`inflow: ${name} names no supported network (${networkNames.join(', ')})`);
    const minutes = Number(value.trim());
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 7 * 24 * 60)
      throw new ConfigError(`inflow: ${name} must be a whole number from 1 to ${7 * 24 * 60}`);
    intervals[network] = minutes;
  }
  return intervals;
}

/** What payouts need of the configuration (docs/payouts.md). */
export interface PayoutSettings {
  /** INFLOW_PAYOUT_AUTHORIZATION_SECRET: undefined, no payout can be made (the signer would refuse it). */
  authorizationSecret: string | undefined;
  /** INFLOW_PAYOUTS_LIVE=enabled: live keys may make payouts (test keys always may). */
  liveEnabled: boolean;
  /** The fee per payout in USD cents on each network: INFLOW_PAYOUT_FEE_USD_<NETWORK>, else INFLOW_PAYOUT_FEE_USD (1.00). */
  feeUsdCents: Record<Network, bigint>;
  /**
   * How the fee is charged on each network (INFLOW_PAYOUT_FEE_BASIS_<NETWORK>, else INFLOW_PAYOUT_FEE_BASIS): `fixed`
   * (the default), or `measured`, the transaction's network cost with feeUsdCents as the most held and charged.
   */
  feeBasis?: Partial<Record<Network, FeeBasis>>;
  /** INFLOW_PAYOUT_DAILY_LIMIT_USD_<MODE>: what one merchant may pay out in 24 hours, in USD cents; undefined, no limit (test mode's default). */
  dailyLimitUsdCents?: Partial<Record<Mode, bigint | undefined>>;
  /** INFLOW_PAYOUT_APPROVAL_ABOVE_USD: a payout worth more needs another key's approval; undefined, none does. */
  approvalAboveUsdCents?: bigint | undefined;
}

/** INFLOW_PAYOUT_FEE_USD_<NETWORK>: a network's own payout fee in USD, over the default. */
function payoutFees(env: NodeJS.ProcessEnv, defaultCents: bigint): Record<Network, bigint> {
  const fees = Object.fromEntries(networkNames.map((network) => [network, defaultCents])) as Record<Network, bigint>;
  for (const [name, value] of Object.entries(env)) {
    const match = /^INFLOW_PAYOUT_FEE_USD_([A-Z]+)$/.exec(name);
    if (!match || !value) continue;
    const network = match[1]!.toLowerCase();
    if (!isNetwork(network)) throw new ConfigError(`inflow: ${name} names no supported network (${networkNames.join(', ')})`);
    const parsed = usdAmount.safeParse(value);
    if (!parsed.success) throw new ConfigError(`inflow: ${name} must be a USD amount such as 25 or 2.50`);
    fees[network] = parseAmount(parsed.data, 2);
  }
  return fees;
}

/** INFLOW_PAYOUT_FEE_BASIS_<NETWORK>: a network's own fee basis, over the default. */
function payoutFeeBases(env: NodeJS.ProcessEnv, basis: FeeBasis): Record<Network, FeeBasis> {
  const bases = Object.fromEntries(networkNames.map((network) => [network, basis])) as Record<Network, FeeBasis>;
  for (const [name, value] of Object.entries(env)) {
    const match = /^INFLOW_PAYOUT_FEE_BASIS_([A-Z]+)$/.exec(name);
    if (!match || !value) continue;
    const network = match[1]!.toLowerCase();
    if (!isNetwork(network)) throw new ConfigError(`inflow: ${name} names no supported network (${networkNames.join(', ')})`);
    if (value !== 'fixed' && value !== 'measured') throw new ConfigError(`inflow: ${name} must be fixed or measured, not ${value}`);
    bases[network] = value;
  }
  return bases;
}

/** A whole number in [min, max], with one message for text, fractions and values out of range alike. */
function wholeNumber(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number<string>({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/**
 * A watched chain: a network in one mode with the nodes to read (INFLOW_RPC_URL_<NETWORK>_<MODE>,
 * one URL or several separated by commas, read in that order with failover, and
 * INFLOW_RPC_QUORUM_<NETWORK>_<MODE> nodes that must agree on the head and block hashes, 1 by
 * default; INFLOW_RPC_HEADERS_<NETWORK>_<MODE> such as a hosted provider's API key, sent to each), its token contracts
 * (the registry's, or INFLOW_TOKEN_<NETWORK>_<CURRENCY>_<MODE>), how often to poll it
 * (INFLOW_CHAIN_POLL_MS_<NETWORK>_<MODE>, else INFLOW_CHAIN_POLL_MS) and how many confirmations
 * make a deposit final (INFLOW_CONFIRMATIONS_<NETWORK>_<MODE>, else the network's default),
 * where its watcher's first start scans from (INFLOW_CHAIN_START_BLOCK_<NETWORK>_<MODE>, else the
 * block at the time the first address in that mode was made), and, on an EVM network, how its node
 * is asked for the call traces that show native coin sent by contracts
 * (INFLOW_TRACE_<NETWORK>_<MODE>=callTracer|parity|off, off when unset; see CallTracer).
 */
export interface WatchedChain {
  network: Network;
  family: Family;
  livemode: boolean;
  /** In order of preference: the first usable one is read from (chains/failover.ts). */
  rpcUrls: string[];
  /** How many nodes must agree on the head and on block hashes (1: no quorum). */
  quorum: number;
  headers: Record<string, string>;
  tokens: Array<{ currency: string; address: string }>;
  pollMs: number;
  requiredConfirmations: number;
  startBlock: number | undefined;
  /** Undefined: no call tracing (limitations() says what that leaves unseen). */
  callTracer: CallTracer | undefined;
}

function watchedChains(env: NodeJS.ProcessEnv, defaultPollMs: number): WatchedChain[] {
  const chains: WatchedChain[] = [];
  for (const network of networkNames) {
    const definition: NetworkDefinition = networks[network];
    for (const mode of modes) {
      const suffix = `${network.toUpperCase()}_${mode.toUpperCase()}`;
      const rpcUrls = (env[`INFLOW_RPC_URL_${suffix}`] ?? '')
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean);
      if (rpcUrls.length === 0) continue;
      for (const rpcUrl of rpcUrls) {
        if (!/^https?:\/\/\S+$/.test(rpcUrl)) throw new ConfigError(`inflow: INFLOW_RPC_URL_${suffix} must be an http(s) URL, or several separated by commas`);
      }
      const quorum = positiveInteger(env, `INFLOW_RPC_QUORUM_${suffix}`, 1, rpcUrls.length) ?? 1;
      const tokens = Object.entries(definition.currencies).flatMap(([currency, currencyDefinition]) => {
        const variable = `INFLOW_TOKEN_${network.toUpperCase()}_${currency}_${mode.toUpperCase()}`;
        const address = env[variable] || currencyDefinition.contracts?.[mode];
        if (!address) return [];
        if (definition.family === 'tron' ? !isTronAddress(address) : !isAddress(address)) {
          throw new ConfigError(`inflow: ${variable} must be a contract address (${definition.family === 'tron' ? 'T…, base58check' : '0x…'})`);
        }
        return [{ currency, address }];
      });
      chains.push({
        network,
        family: definition.family,
        livemode: livemodeOf(mode),
        rpcUrls,
        quorum,
        headers: rpcHeaders(env, `INFLOW_RPC_HEADERS_${suffix}`),
        tokens,
        pollMs: positiveInteger(env, `INFLOW_CHAIN_POLL_MS_${suffix}`, 10, 600_000) ?? defaultPollMs,
        requiredConfirmations: positiveInteger(env, `INFLOW_CONFIRMATIONS_${suffix}`, 1, 10_000) ?? definition.requiredConfirmations,
        startBlock: positiveInteger(env, `INFLOW_CHAIN_START_BLOCK_${suffix}`, 0, Number.MAX_SAFE_INTEGER),
        callTracer: callTracerSetting(env, `INFLOW_TRACE_${suffix}`, definition.family),
      });
    }
  }
  return chains;
}

/** "Name=value,Other=value": HTTP headers every request to that node carries (a provider's API key, say). */
function rpcHeaders(env: NodeJS.ProcessEnv, variable: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of (env[variable] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z0-9-]+)=(\S+)$/.exec(entry);
    if (!match) throw new ConfigError(`inflow: ${variable} entry "${entry.split('=')[0]}=…" is not Header-Name=value`);
    headers[match[1]!] = match[2]!;
  }
  return headers;
}

/** callTracer, parity, or off (the default): EVM only, since Tron's internal transfers come in the transaction infos the adapter reads anyway. */
function callTracerSetting(env: NodeJS.ProcessEnv, variable: string, family: Family): CallTracer | undefined {
  const text = env[variable];
  if (!text || text === 'off') return undefined;
  if (family !== 'evm') throw new ConfigError(`inflow: ${variable} applies to EVM networks only (Tron's contract transfers are read from transaction infos)`);
  const tracer = callTracers.find((name) => name === text);
  if (!tracer) throw new ConfigError(`inflow: ${variable} must be callTracer, parity or off`);
  return tracer;
}

function positiveInteger(env: NodeJS.ProcessEnv, variable: string, min: number, max: number): number | undefined {
  const text = env[variable];
  if (!text) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new ConfigError(`inflow: ${variable} must be a whole number from ${min} to ${max}`);
  return value;
}

/**
 * Chainlink-compatible USD price feeds per mode, from INFLOW_PRICE_FEEDS_<MODE>, e.g.
 * "ETH=0x5f4e…:3600,EUR=0xb49f…:86400" (currency=aggregator:heartbeat seconds), read through the
 * node of INFLOW_PRICE_FEED_NETWORK in that mode. Currencies without a feed use the static table.
 */
export interface PriceFeeds {
  rpcUrl: string;
  feeds: Record<string, { address: string; heartbeatSeconds: number }>;
}

function priceFeeds(env: NodeJS.ProcessEnv, network: Network): Partial<Record<Mode, PriceFeeds>> {
  const configured: Partial<Record<Mode, PriceFeeds>> = {};
  for (const mode of modes) {
    const variable = `INFLOW_PRICE_FEEDS_${mode.toUpperCase()}`;
    const text = env[variable];
    if (!text) continue;
    const rpcVariable = `INFLOW_RPC_URL_${network.toUpperCase()}_${mode.toUpperCase()}`;
    // Feeds are read through the network's first node.
    const rpcUrl = env[rpcVariable]?.split(',')[0]?.trim();
    if (!rpcUrl) throw new ConfigError(`inflow: ${variable} needs ${rpcVariable}, the node its feeds are read through (INFLOW_PRICE_FEED_NETWORK=${network})`);
    const feeds: PriceFeeds['feeds'] = {};
    for (const entry of text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const match = /^([A-Za-z0-9]{1,16})=(0x[0-9a-fA-F]{40}):(\d{1,7})$/.exec(entry);
      if (!match || !isAddress(match[2]!)) throw new ConfigError(`inflow: ${variable} entry "${entry}" is not CURRENCY=0xAGGREGATOR:HEARTBEAT_SECONDS`);
      feeds[match[1]!.toUpperCase()] = { address: match[2]!, heartbeatSeconds: Number(match[3]) };
    }
    configured[mode] = { rpcUrl, feeds };
  }
  return configured;
}

export interface Config {
  databaseUrl: string;
  temporal: { address: string; namespace: string; taskQueue: string; workerIdentity: string | undefined };
  port: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** Extended public keys per mode and family; a mode without both is not configured. */
  xpubs: Record<Mode, Partial<Record<Family, string>>>;
  staticPrices: Record<string, string>;
  simulatedBlockTimeMs: number | undefined;
  webhookPolicy: WebhookPolicy;
  chains: WatchedChain[];
  chainPollMs: number;
  chainMaxBlockRange: number;
  /** INFLOW_SECRET_KEY: seals API keys for signing order callbacks (required by the worker and `merchant create`). */
  secretKey: Buffer | undefined;
  priceFeeds: Partial<Record<Mode, PriceFeeds>>;
  /** Per currency symbol, in whole units: transfers to customers below it are recorded as dust (INFLOW_DUST_THRESHOLDS). */
  dustThresholds: Record<string, string>;
  /** INFLOW_ALLOW_STATIC_PRICES_LIVE: live currencies without a feed are priced from the static table (else not at all). */
  allowStaticPricesLive: boolean;
  /** Per-API-key request rates and concurrency caps, streams per merchant, unauthenticated requests per address (docs/limits.md). */
  rateLimits: RateLimitSettings;
  /** INFLOW_WEBHOOK_ENDPOINTS_PER_MODE: a merchant's webhook endpoints per mode. */
  webhookEndpointsPerMode: number;
  /** INFLOW_DNS_SERVERS, INFLOW_DNS_TIMEOUT_MS: how webhook and callback hostnames are looked up. */
  dns: DnsSettings;
  /** INFLOW_PUBLIC_URL's origin: the only one the dashboard's forms are accepted from when set. */
  publicOrigin: string | undefined;
  /** INFLOW_TRUSTED_PROXIES: peers whose X-Forwarded-Proto/Host the dashboard believes (none by default). */
  trustedProxies: string[];
  /** INFLOW_HEALTH_TOKEN: opens /healthz's detailed answer; unset, it stays closed. */
  healthToken: string | undefined;
  /** INFLOW_REQUEST_LOG_RETENTION_DAYS: how long the request log keeps a request (the worker prunes). */
  requestLogRetentionDays: number;
  /** Payouts (docs/payouts.md): off without an authorization secret; live ones off unless INFLOW_PAYOUTS_LIVE=enabled. */
  payouts: PayoutSettings;
  /** INFLOW_OPERATOR_WEBHOOK_URL and _SECRET: where operator events are delivered; undefined, they are only listed. */
  operatorWebhook: { url: string; secret: string } | undefined;
  /** The signer the worker asks (both set, or the worker does no treasury work), how often sweeps run, and the least worth sweeping. */
  treasury: {
    signer: { socketPath: string; secret: string } | undefined;
    sweepIntervalMinutes: number;
    /** INFLOW_SWEEP_INTERVAL_MINUTES_<NETWORK>: a network's own interval, over sweepIntervalMinutes. */
    sweepIntervals: Partial<Record<Network, number>>;
    /** INFLOW_SWEEP_MIN_<NETWORK>_<CURRENCY>_<MODE>, whole units (decimal); a native coin's default 0.001, a token's anything. */
    sweepMinimums: Record<string, string>;
    /** INFLOW_SWEEP_MIN_USD in cents: the least worth sweeping where no INFLOW_SWEEP_MIN_… says otherwise. */
    sweepMinimumUsdCents: bigint | undefined;
  };
}

const examples = {
  DATABASE_URL: 'postgres://inflow:secret@localhost:5432/inflow',
  TEMPORAL_ADDRESS: 'localhost:7233',
  INFLOW_SECRET_KEY: 'the output of `openssl rand -hex 32`, kept secret and the same for every process',
} as const;

type Requirement = keyof typeof examples;

/**
 * Parses the settings a process needs. `required` names the variables that have no sensible
 * default for this process (the migrator needs no Temporal address, say).
 */
export function loadConfig(env: NodeJS.ProcessEnv, required: readonly Requirement[] = ['DATABASE_URL', 'TEMPORAL_ADDRESS']): Config {
  // An empty variable (PORT= in a compose file, say) means unset, not zero or "".
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`inflow: ${String(issue.path[0])} ${issue.message}`);
  }
  const missing = required.filter((name) => !parsed.data[name]);
  if (missing.length > 0) {
    const hints = missing.map((name) => `${name} (e.g. ${examples[name]})`).join(', ');
    throw new ConfigError(`inflow: missing environment variable${missing.length > 1 ? 's' : ''} ${hints}`);
  }
  const data = parsed.data;
  if (Boolean(data.INFLOW_SIGNER_SOCKET) !== Boolean(data.INFLOW_SIGNER_SECRET)) {
    throw new ConfigError(
      `inflow: INFLOW_SIGNER_SOCKET and INFLOW_SIGNER_SECRET go together: ${data.INFLOW_SIGNER_SOCKET ? 'set the secret the signer was given' : 'set the socket the signer listens on'} (docs/treasury.md)`,
    );
  }
  if (Boolean(data.INFLOW_OPERATOR_WEBHOOK_URL) !== Boolean(data.INFLOW_OPERATOR_WEBHOOK_SECRET)) {
    throw new ConfigError(
      `inflow: INFLOW_OPERATOR_WEBHOOK_URL and INFLOW_OPERATOR_WEBHOOK_SECRET go together: ${data.INFLOW_OPERATOR_WEBHOOK_URL ? 'set the secret its receiver verifies with' : 'set the URL to deliver to'} (docs/operations.md#operator-events)`,
    );
  }
  let staticPrices: Record<string, string>;
  try {
    staticPrices = parseStaticPrices(data.INFLOW_STATIC_PRICES);
  } catch (error) {
    throw new ConfigError(`inflow: INFLOW_STATIC_PRICES ${(error as Error).message}`);
  }
  let dustThresholds: Record<string, string>;
  try {
    dustThresholds = parseDustThresholds(data.INFLOW_DUST_THRESHOLDS);
  } catch (error) {
    throw new ConfigError(`inflow: INFLOW_DUST_THRESHOLDS ${(error as Error).message}`);
  }
  let secretKey: Buffer | undefined;
  try {
    secretKey = data.INFLOW_SECRET_KEY === undefined ? undefined : parseSecretKey(data.INFLOW_SECRET_KEY);
  } catch (error) {
    throw new ConfigError(`inflow: INFLOW_SECRET_KEY ${(error as Error).message}`);
  }
  // Test and live addresses come from per-mode index sequences that both start at the same place:
  // one key for both would hand out a live customer's address to a test customer (and the second
  // to ask would be refused by the addresses' uniqueness).
  for (const family of ['EVM', 'TRON'] as const) {
    const test = data[`INFLOW_XPUB_${family}_TEST`];
    if (test !== undefined && test === data[`INFLOW_XPUB_${family}_LIVE`]) {
      throw new ConfigError(
        `inflow: INFLOW_XPUB_${family}_TEST and INFLOW_XPUB_${family}_LIVE are the same key: test and live addresses must come from different keys`,
      );
    }
  }
  return {
    databaseUrl: data.DATABASE_URL ?? '',
    temporal: {
      address: data.TEMPORAL_ADDRESS ?? '',
      namespace: data.TEMPORAL_NAMESPACE,
      taskQueue: data.TEMPORAL_TASK_QUEUE,
      workerIdentity: data.TEMPORAL_WORKER_IDENTITY,
    },
    port: data.PORT,
    logLevel: data.LOG_LEVEL,
    xpubs: {
      test: { evm: data.INFLOW_XPUB_EVM_TEST, tron: data.INFLOW_XPUB_TRON_TEST },
      live: { evm: data.INFLOW_XPUB_EVM_LIVE, tron: data.INFLOW_XPUB_TRON_LIVE },
    },
    staticPrices,
    simulatedBlockTimeMs: data.INFLOW_SIMULATED_BLOCK_TIME_MS,
    webhookPolicy: {
      allowPrivateNetworksInLive: data.INFLOW_WEBHOOKS_LIVE_ALLOW_PRIVATE === 'true',
      allowPrivateNetworksInTest: data.INFLOW_WEBHOOKS_TEST_ALLOW_PRIVATE === 'true',
      allowLoopbackInTest: data.INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK === 'true',
    },
    chains: watchedChains(env, data.INFLOW_CHAIN_POLL_MS),
    chainPollMs: data.INFLOW_CHAIN_POLL_MS,
    chainMaxBlockRange: data.INFLOW_CHAIN_MAX_BLOCK_RANGE,
    secretKey,
    priceFeeds: priceFeeds(env, data.INFLOW_PRICE_FEED_NETWORK),
    allowStaticPricesLive: data.INFLOW_ALLOW_STATIC_PRICES_LIVE === 'true',
    dustThresholds,
    rateLimits: {
      reads: data.INFLOW_RATE_LIMIT_READS,
      writes: data.INFLOW_RATE_LIMIT_WRITES,
      windowSeconds: data.INFLOW_RATE_LIMIT_WINDOW_SECONDS,
      concurrentRequestsPerKey: data.INFLOW_CONCURRENT_REQUESTS_PER_KEY,
      concurrentWritesPerMerchant: data.INFLOW_CONCURRENT_WRITES_PER_MERCHANT,
      eventStreamsPerMerchant: data.INFLOW_EVENT_STREAMS_PER_MERCHANT,
      unauthenticatedPerIp: data.INFLOW_UNAUTHENTICATED_REQUESTS_PER_IP,
    },
    webhookEndpointsPerMode: data.INFLOW_WEBHOOK_ENDPOINTS_PER_MODE,
    dns: {
      servers: (data.INFLOW_DNS_SERVERS ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
      timeoutMs: data.INFLOW_DNS_TIMEOUT_MS,
    },
    publicOrigin: data.INFLOW_PUBLIC_URL === undefined ? undefined : new URL(data.INFLOW_PUBLIC_URL).origin,
    trustedProxies: trustedProxies(data.INFLOW_TRUSTED_PROXIES),
    healthToken: data.INFLOW_HEALTH_TOKEN,
    requestLogRetentionDays: data.INFLOW_REQUEST_LOG_RETENTION_DAYS,
    payouts: {
      authorizationSecret: data.INFLOW_PAYOUT_AUTHORIZATION_SECRET,
      liveEnabled: data.INFLOW_PAYOUTS_LIVE === 'enabled',
      feeUsdCents: payoutFees(env, parseAmount(data.INFLOW_PAYOUT_FEE_USD, 2)),
      feeBasis: payoutFeeBases(env, data.INFLOW_PAYOUT_FEE_BASIS),
      dailyLimitUsdCents: {
        test: data.INFLOW_PAYOUT_DAILY_LIMIT_USD_TEST === undefined ? undefined : parseAmount(data.INFLOW_PAYOUT_DAILY_LIMIT_USD_TEST, 2),
        live: parseAmount(data.INFLOW_PAYOUT_DAILY_LIMIT_USD_LIVE, 2),
      },
      approvalAboveUsdCents: data.INFLOW_PAYOUT_APPROVAL_ABOVE_USD === undefined ? undefined : parseAmount(data.INFLOW_PAYOUT_APPROVAL_ABOVE_USD, 2),
    },
    operatorWebhook:
      data.INFLOW_OPERATOR_WEBHOOK_URL && data.INFLOW_OPERATOR_WEBHOOK_SECRET
        ? { url: data.INFLOW_OPERATOR_WEBHOOK_URL, secret: data.INFLOW_OPERATOR_WEBHOOK_SECRET }
        : undefined,
    treasury: {
      signer: data.INFLOW_SIGNER_SOCKET && data.INFLOW_SIGNER_SECRET ? { socketPath: data.INFLOW_SIGNER_SOCKET, secret: data.INFLOW_SIGNER_SECRET } : undefined,
      sweepIntervalMinutes: data.INFLOW_SWEEP_INTERVAL_MINUTES,
      sweepIntervals: sweepIntervals(env),
      sweepMinimumUsdCents: data.INFLOW_SWEEP_MIN_USD === undefined ? undefined : parseAmount(data.INFLOW_SWEEP_MIN_USD, 2),
      sweepMinimums: Object.fromEntries(
        Object.entries(env)
          .filter(([name, value]) => /^INFLOW_SWEEP_MIN_[A-Z]+_[A-Z]+_(TEST|LIVE)$/.test(name) && value)
          .map(([name, value]) => {
            if (!/^(0|[1-9]\d*)(\.\d+)?$/.test(value!.trim())) throw new ConfigError(`inflow: ${name} must be a decimal amount such as 0.5`);
            return [name.slice('INFLOW_SWEEP_MIN_'.length), value!.trim()];
          }),
      ),
    },
  };
}

/** "10.0.0.5, ::1": exact peer addresses (IPv4-mapped IPv6 peers match their IPv4 form). */
function trustedProxies(text: string | undefined): string[] {
  const addresses = (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const address of addresses) {
    if (isIP(address) === 0) throw new ConfigError(`inflow: INFLOW_TRUSTED_PROXIES entry "${address}" is not an IP address`);
  }
  return addresses;
}

/** INFLOW_SECRET_KEY, for the processes that seal or open API keys (the worker, `merchant create`, `npm run dev`). */
export function requireSecretKey(config: Config): Buffer {
  if (!config.secretKey) throw new ConfigError(`inflow: missing environment variable INFLOW_SECRET_KEY (e.g. ${examples.INFLOW_SECRET_KEY})`);
  return config.secretKey;
}
