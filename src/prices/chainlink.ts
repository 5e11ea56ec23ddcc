/**
 * USD prices from Chainlink-compatible on-chain feeds (AggregatorV3Interface), one per currency: a
 * crypto asset (ETH, BNB, …) or a fiat currency (EUR), each feed quoting that currency in USD.
 *
 * A price inflow books is kept forever (the fee of a deposit, the rate an order locks), so a feed
 * that has stopped updating is refused, never trusted: a round older than the feed's heartbeat
 * (the longest gap its operator promises between updates) may be hours away from the market, and
 * using it would be a guess. The same holds for a non-positive answer or an unreachable node.
 */
import { Contract, getAddress, isHexString, type Provider } from 'ethers';
import { PRICE_DECIMALS } from '../domain/fees';
import { formatAmount } from '../domain/money';
import type { Network } from '../domain/networks';
import { PriceUnavailableError, type PriceSource } from './price-source';

export interface ChainlinkFeed {
  /** The feed's contract (its proxy, for a real Chainlink feed). */
  address: string;
  /** The longest time, in seconds, the feed may go without a new round before it is stale. */
  heartbeatSeconds: number;
}

export interface ChainlinkPriceSourceOptions {
  /** How long a round read from a feed is reused before it is read again; 10 s by default. */
  cacheMs?: number;
  /** The clock, in milliseconds since the epoch (Date.now by default); tests inject their own. */
  now?: () => number;
}

/** The read side of AggregatorV3Interface that inflow uses. */
const aggregatorAbi = [
  'function decimals() view returns (uint8)',
  'function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)',
];

interface Round {
  answer: bigint;
  updatedAt: bigint;
  decimals: number;
}

interface ConfiguredFeed {
  address: string;
  heartbeatSeconds: bigint;
  contract: Contract;
}

export class ChainlinkPriceSource implements PriceSource {
  private readonly feeds = new Map<string, ConfiguredFeed>();
  private readonly cacheMs: number;
  private readonly now: () => number;
  /** Decimals never change for a deployed feed: read once per feed address. */
  private readonly decimals = new Map<string, number>();
  /** The last round read per currency, as a promise so concurrent callers share one read. */
  private readonly rounds = new Map<string, { readAt: number; round: Promise<Round> }>();

  constructor(provider: Provider, feeds: Record<string, ChainlinkFeed>, options: ChainlinkPriceSourceOptions = {}) {
    for (const [currency, feed] of Object.entries(feeds)) {
      if (!isHexString(feed.address, 20))
        throw new RangeError(`the ${currency} price feed address must be a 0x-prefixed 20-byte address, got "${feed.address}"`);
      if (!Number.isSafeInteger(feed.heartbeatSeconds) || feed.heartbeatSeconds <= 0) {
        throw new RangeError(`the ${currency} price feed heartbeat must be a positive whole number of seconds, got ${feed.heartbeatSeconds}`);
      }
      const address = getAddress(feed.address);
      this.feeds.set(currency, { address, heartbeatSeconds: BigInt(feed.heartbeatSeconds), contract: new Contract(address, aggregatorAbi, provider) });
    }
    this.cacheMs = options.cacheMs ?? 10_000;
    if (!Number.isFinite(this.cacheMs) || this.cacheMs < 0) throw new RangeError(`cacheMs must be a non-negative number, got ${this.cacheMs}`);
    this.now = options.now ?? Date.now;
  }

  async priceUsd(_network: Network, currency: string): Promise<string> {
    const feed = this.feeds.get(currency);
    if (!feed) throw new PriceUnavailableError(`no Chainlink price feed is configured for ${currency}`);
    const name = `the ${currency}/USD feed at ${feed.address}`;
    const { answer, updatedAt, decimals } = await this.round(currency, feed, name);

    // Checked at every call, cached round or not: the cache saves a read, never the heartbeat.
    if (answer <= 0n) throw new PriceUnavailableError(`${name} answers ${answer}, not a positive price`);
    if (updatedAt === 0n) throw new PriceUnavailableError(`${name} has no completed round (updatedAt is 0)`);
    const nowSeconds = BigInt(Math.floor(this.now() / 1000));
    // A round dated slightly ahead of this clock (clock skew with the chain) has a negative age: fresh.
    const age = nowSeconds - updatedAt;
    if (age > feed.heartbeatSeconds) {
      throw new PriceUnavailableError(
        `${name} is stale: its latest round was updated ${age} s ago (at ${isoSeconds(updatedAt)}), more than its heartbeat of ${feed.heartbeatSeconds} s`,
      );
    }

    // Exact: truncate to PRICE_DECIMALS places in bigint, never through a JS number.
    const places = Math.min(decimals, PRICE_DECIMALS);
    const units = answer / 10n ** BigInt(decimals - places);
    if (units === 0n)
      throw new PriceUnavailableError(`${name} answers ${formatAmount(answer, decimals)}, below the smallest price inflow keeps (1e-${PRICE_DECIMALS})`);
    return formatAmount(units, places);
  }

  private round(currency: string, feed: ConfiguredFeed, name: string): Promise<Round> {
    const now = this.now();
    const cached = this.rounds.get(currency);
    if (cached && now - cached.readAt < this.cacheMs) return cached.round;
    const entry = { readAt: now, round: this.read(feed, name) };
    this.rounds.set(currency, entry);
    // A failed read is not kept: the next call asks the node again.
    entry.round.catch(() => {
      if (this.rounds.get(currency) === entry) this.rounds.delete(currency);
    });
    return entry.round;
  }

  private async read(feed: ConfiguredFeed, name: string): Promise<Round> {
    try {
      const [decimals, round] = await Promise.all([this.readDecimals(feed), feed.contract.getFunction('latestRoundData').staticCall()]);
      return { answer: round[1] as bigint, updatedAt: round[3] as bigint, decimals };
    } catch (error) {
      throw new PriceUnavailableError(`could not read ${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  private async readDecimals(feed: ConfiguredFeed): Promise<number> {
    const known = this.decimals.get(feed.address);
    if (known !== undefined) return known;
    const decimals = Number((await feed.contract.getFunction('decimals').staticCall()) as bigint);
    this.decimals.set(feed.address, decimals);
    return decimals;
  }
}

function isoSeconds(seconds: bigint): string {
  // A timestamp beyond what Date can show is still reported, as a plain number of seconds.
  return seconds <= 8_640_000_000_000n ? new Date(Number(seconds) * 1000).toISOString() : `${seconds} s since the epoch`;
}
