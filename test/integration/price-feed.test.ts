import { JsonRpcProvider, VoidSigner, Wallet, type Contract, type NonceManager, type TransactionRequest } from 'ethers';
import { deployTestAggregator } from '../../dev/devnet/aggregator';
import { fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { freePort } from '../../dev/tools/ports';
import { ChainlinkPriceSource } from '../../src/prices/chainlink';
import { PriceUnavailableError } from '../../src/prices/price-source';

/** A provider that counts the contract reads (eth_call) made through it. */
class CountingProvider extends JsonRpcProvider {
  calls = 0;

  override async call(tx: TransactionRequest): Promise<string> {
    this.calls += 1;
    return super.call(tx);
  }
}

const HEARTBEAT = 3600;

/** ChainlinkPriceSource reading TestAggregator feeds on a real local chain (anvil). */
describe('ChainlinkPriceSource on a real anvil chain', () => {
  let anvil: RunningAnvil;
  let signer: NonceManager;
  /** The source's clock, in ms; set from the chain's latest block so both agree on "now". */
  let clockMs = 0;
  const now = () => clockMs;

  async function syncClock(): Promise<number> {
    // A raw request: ethers' provider would answer getBlock('latest') from its 250 ms cache.
    const block = (await anvil.provider.send('eth_getBlockByNumber', ['latest', false])) as { timestamp: string };
    const seconds = Number(block.timestamp);
    clockMs = seconds * 1000;
    return seconds;
  }

  async function feed(decimals: number, answer: bigint, description = 'TEST / USD'): Promise<{ contract: Contract; address: string }> {
    const contract = await deployTestAggregator(signer, { decimals, description, answer });
    return { contract, address: await contract.getAddress() };
  }

  async function send(contract: Contract, method: string, ...args: unknown[]): Promise<void> {
    await (await contract.getFunction(method)(...args)).wait();
  }

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    signer = fundedSigner(anvil.provider);
  });

  afterAll(async () => {
    await anvil?.stop();
  });

  it('deploys a feed that answers like AggregatorV3Interface, and only its owner can set it', async () => {
    const { contract } = await feed(8, 3000_00000000n, 'ETH / USD');
    const deployedAt = await syncClock();
    await send(contract, 'updateAnswer', 3100_00000000n);

    expect(await contract.getFunction('decimals')()).toBe(8n);
    expect(await contract.getFunction('description')()).toBe('ETH / USD');
    expect(await contract.getFunction('version')()).toBe(1n);
    expect([...(await contract.getFunction('getRoundData')(1n))]).toEqual([1n, 3000_00000000n, BigInt(deployedAt), BigInt(deployedAt), 1n]);
    const latest = await contract.getFunction('latestRoundData')();
    expect([latest[0], latest[1], latest[4]]).toEqual([2n, 3100_00000000n, 2n]);
    await expect(contract.getFunction('getRoundData')(3n)).rejects.toThrow(/no such round/);

    const stranger = contract.connect(new VoidSigner(Wallet.createRandom().address, anvil.provider)) as Contract;
    await expect(stranger.getFunction('updateAnswer').staticCall(1n)).rejects.toThrow(/only owner/);
    await expect(stranger.getFunction('setRoundData').staticCall(1n, 1n)).rejects.toThrow(/only owner/);
  });

  it('reads a fresh price exactly, truncating a feed with more than 8 decimals', async () => {
    const eth = await feed(8, 3000_12345678n);
    const eur = await feed(18, 1_083456789123456789n);
    const small = await feed(6, 250_000n);
    await syncClock();
    const source = new ChainlinkPriceSource(
      anvil.provider,
      {
        ETH: { address: eth.address, heartbeatSeconds: HEARTBEAT },
        EUR: { address: eur.address, heartbeatSeconds: 86_400 },
        TRX: { address: small.address, heartbeatSeconds: HEARTBEAT },
      },
      { now },
    );

    expect(await source.priceUsd('ethereum', 'ETH')).toBe('3000.12345678');
    expect(await source.priceUsd('ethereum', 'EUR')).toBe('1.08345678');
    expect(await source.priceUsd('tron', 'TRX')).toBe('0.250000');
  });

  it('refuses a stale round, and accepts one exactly at the heartbeat', async () => {
    const { contract, address } = await feed(8, 3000_00000000n);
    const source = new ChainlinkPriceSource(anvil.provider, { ETH: { address, heartbeatSeconds: HEARTBEAT } }, { now, cacheMs: 0 });
    const at = await syncClock();

    await send(contract, 'setRoundData', 2900_00000000n, at - HEARTBEAT);
    expect(await source.priceUsd('ethereum', 'ETH')).toBe('2900.00000000');

    await send(contract, 'setRoundData', 2800_00000000n, at - HEARTBEAT - 1);
    const refusal = source.priceUsd('ethereum', 'ETH');
    await expect(refusal).rejects.toThrow(PriceUnavailableError);
    await expect(refusal).rejects.toThrow(`the ETH/USD feed at ${address} is stale: its latest round was updated 3601 s ago`);
    await expect(refusal).rejects.toThrow('more than its heartbeat of 3600 s');

    // A round never completed (updatedAt 0) is refused too.
    await send(contract, 'setRoundData', 2800_00000000n, 0n);
    await expect(source.priceUsd('ethereum', 'ETH')).rejects.toThrow(`the ETH/USD feed at ${address} has no completed round (updatedAt is 0)`);

    // Fresh again once the feed updates.
    await send(contract, 'updateAnswer', 2950_00000000n);
    await syncClock();
    expect(await source.priceUsd('ethereum', 'ETH')).toBe('2950.00000000');
  });

  it('refuses a round that goes stale as time passes on-chain, even one it has cached', async () => {
    const { contract, address } = await feed(8, 3000_00000000n);
    await send(contract, 'updateAnswer', 3050_00000000n);
    await syncClock();
    const provider = new CountingProvider(anvil.rpcUrl, 31337, { staticNetwork: true });
    const source = new ChainlinkPriceSource(provider, { ETH: { address, heartbeatSeconds: HEARTBEAT } }, { now, cacheMs: 86_400_000 });
    try {
      expect(await source.priceUsd('ethereum', 'ETH')).toBe('3050.00000000');
      const reads = provider.calls;

      await anvil.provider.send('evm_increaseTime', [HEARTBEAT + 1]);
      await anvil.provider.send('evm_mine', []);
      await syncClock();
      // 3601 s, or 3602 when a wall-clock second ticks between the mine and the clock sync (seen under CI load).
      await expect(source.priceUsd('ethereum', 'ETH')).rejects.toThrow(/is stale: its latest round was updated 360[12] s ago/);
      // The refusal came from the cached round: no new read, the heartbeat is checked anyway.
      expect(provider.calls).toBe(reads);
    } finally {
      provider.destroy();
    }
  });

  it('refuses a currency with no feed configured', async () => {
    const { address } = await feed(8, 1_00000000n);
    const source = new ChainlinkPriceSource(anvil.provider, { USDT: { address, heartbeatSeconds: 86_400 } }, { now });
    await expect(source.priceUsd('ethereum', 'BTC')).rejects.toThrow(PriceUnavailableError);
    await expect(source.priceUsd('ethereum', 'BTC')).rejects.toThrow('no Chainlink price feed is configured for BTC');
    await expect(source.priceUsd('ethereum', 'constructor')).rejects.toThrow('no Chainlink price feed is configured for constructor');
  });

  it('refuses an answer of zero or less, and one too small to keep at 8 decimals', async () => {
    const { contract, address } = await feed(8, 0n);
    const tiny = await feed(18, 9_999_999_999n);
    await syncClock();
    const source = new ChainlinkPriceSource(
      anvil.provider,
      { POL: { address, heartbeatSeconds: HEARTBEAT }, DUST: { address: tiny.address, heartbeatSeconds: HEARTBEAT } },
      { now, cacheMs: 0 },
    );

    await expect(source.priceUsd('polygon', 'POL')).rejects.toThrow(PriceUnavailableError);
    await expect(source.priceUsd('polygon', 'POL')).rejects.toThrow(`the POL/USD feed at ${address} answers 0, not a positive price`);
    await send(contract, 'updateAnswer', -5n);
    await syncClock();
    await expect(source.priceUsd('polygon', 'POL')).rejects.toThrow('answers -5, not a positive price');
    await expect(source.priceUsd('polygon', 'DUST')).rejects.toThrow(/answers 0\.000000009999999999, below the smallest price/);
  });

  it('reads a feed once per cacheMs, shares a read between concurrent calls, and reads decimals only once', async () => {
    const { contract, address } = await feed(8, 600_00000000n);
    await syncClock();
    const provider = new CountingProvider(anvil.rpcUrl, 31337, { staticNetwork: true });
    const source = new ChainlinkPriceSource(provider, { BNB: { address, heartbeatSeconds: HEARTBEAT } }, { now, cacheMs: 10_000 });
    try {
      // Two concurrent calls: one decimals() and one latestRoundData() between them.
      expect(await Promise.all([source.priceUsd('bsc', 'BNB'), source.priceUsd('bsc', 'BNB')])).toEqual(['600.00000000', '600.00000000']);
      expect(provider.calls).toBe(2);

      // The answer changes on-chain; within cacheMs the cached round is still served, unread.
      await send(contract, 'updateAnswer', 610_00000000n);
      clockMs += 9_999;
      expect(await source.priceUsd('bsc', 'BNB')).toBe('600.00000000');
      expect(provider.calls).toBe(2);

      // Once the cache expires the feed is read again: latestRoundData only, decimals are kept.
      clockMs += 1;
      expect(await source.priceUsd('bsc', 'BNB')).toBe('610.00000000');
      expect(provider.calls).toBe(3);
    } finally {
      provider.destroy();
    }
  });

  it('does not keep a failed read: a missing contract is refused, and the next call reads again', async () => {
    const address = Wallet.createRandom().address;
    const provider = new CountingProvider(anvil.rpcUrl, 31337, { staticNetwork: true });
    const source = new ChainlinkPriceSource(provider, { ETH: { address, heartbeatSeconds: HEARTBEAT } }, { now });
    try {
      await expect(source.priceUsd('ethereum', 'ETH')).rejects.toThrow(PriceUnavailableError);
      const reads = provider.calls;
      await expect(source.priceUsd('ethereum', 'ETH')).rejects.toThrow(`could not read the ETH/USD feed at ${address}`);
      expect(provider.calls).toBeGreaterThan(reads);
    } finally {
      provider.destroy();
    }
  });

  it('wraps an unreachable node in PriceUnavailableError', async () => {
    const { address } = await feed(8, 3000_00000000n);
    // A loopback port nothing listens on.
    const provider = new JsonRpcProvider(`http://127.0.0.1:${await freePort()}`, 31337, { staticNetwork: true });
    const source = new ChainlinkPriceSource(provider, { ETH: { address, heartbeatSeconds: HEARTBEAT } }, { now });
    try {
      const refusal = source.priceUsd('ethereum', 'ETH');
      await expect(refusal).rejects.toThrow(PriceUnavailableError);
      await expect(refusal).rejects.toThrow(`could not read the ETH/USD feed at ${address}`);
      await expect(refusal).rejects.toHaveProperty('cause');
    } finally {
      provider.destroy();
    }
  });

  it('refuses a malformed feed configuration up front', () => {
    expect(() => new ChainlinkPriceSource(anvil.provider, { ETH: { address: 'eth-usd.data.eth', heartbeatSeconds: HEARTBEAT } })).toThrow(RangeError);
    expect(() => new ChainlinkPriceSource(anvil.provider, { ETH: { address: Wallet.createRandom().address, heartbeatSeconds: 0 } })).toThrow(RangeError);
  });
});
