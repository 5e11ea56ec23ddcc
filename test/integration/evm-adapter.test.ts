import { parseEther, Wallet, type Contract, type NonceManager } from 'ethers';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { freePort } from '../../dev/tools/ports';
import { EvmAdapter, NATIVE_LOG_INDEX } from '../../src/chains/evm/evm.adapter';

/** The EVM adapter reading a real local chain (anvil), with the shipped test token deployed. */
describe('EvmAdapter on a real anvil chain', () => {
  let anvil: RunningAnvil;
  let usdt: Contract;
  let otherToken: Contract;
  let signer: NonceManager;
  let from: string;
  let adapter: EvmAdapter;
  const alice = Wallet.createRandom().address;
  const bob = Wallet.createRandom().address;
  const carol = Wallet.createRandom().address;

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    signer = fundedSigner(anvil.provider);
    from = await signer.getAddress();
    usdt = await deployTestUsdt(signer);
    otherToken = await deployTestUsdt(signer);
    adapter = new EvmAdapter(anvil.provider, { nativeCurrency: 'ETH', tokens: [{ currency: 'USDT', address: await usdt.getAddress() }], maxBlockRange: 50 });
  });

  afterAll(async () => {
    await anvil?.stop();
  });

  it('finds native and ERC-20 transfers, two in one transaction, and ignores zero amounts and unknown tokens', async () => {
    const start = (await adapter.head()) + 1;
    const native = await (await signer.sendTransaction({ to: alice, value: parseEther('0.5') })).wait();
    const single = await (await usdt.getFunction('transfer')(bob, 25_000_000n)).wait();
    const batch = await (await usdt.getFunction('batchTransfer')([alice, carol], [1_000_000n, 2_500_000n])).wait();
    await (await usdt.getFunction('transfer')(carol, 0n)).wait();
    await (await otherToken.getFunction('transfer')(bob, 7n)).wait();
    const end = await adapter.head();

    const transfers = await adapter.transfersIn(start, end);
    expect(transfers.map(({ to, amount, currency, logIndex }) => ({ to, amount, currency, native: logIndex === NATIVE_LOG_INDEX }))).toEqual([
      { to: alice, amount: parseEther('0.5').toString(), currency: 'ETH', native: true },
      { to: bob, amount: '25000000', currency: 'USDT', native: false },
      { to: alice, amount: '1000000', currency: 'USDT', native: false },
      { to: carol, amount: '2500000', currency: 'USDT', native: false },
    ]);
    expect(transfers[0]).toMatchObject({ transactionHash: native!.hash, blockNumber: native!.blockNumber, blockHash: native!.blockHash, from });
    expect(transfers[1]!.transactionHash).toBe(single!.hash);
    // Two transfers in one transaction are two deposits: same hash, different log indexes.
    expect(transfers[2]!.transactionHash).toBe(batch!.hash);
    expect(transfers[3]!.transactionHash).toBe(batch!.hash);
    // Numbered within their transaction, not the block, so a reorg that moves it keeps them.
    expect(transfers.map((transfer) => transfer.logIndex)).toEqual([NATIVE_LOG_INDEX, 0, 0, 1]);
  });

  it('refuses ranges over its limit', async () => {
    await expect(adapter.transfersIn(0, 50)).rejects.toThrow(RangeError);
    expect(await adapter.transfersIn(10, 9)).toEqual([]);
  });

  it('tells where a transaction is mined, and notices when a reorg removes its block', async () => {
    const receipt = await (await signer.sendTransaction({ to: bob, value: 1n })).wait();
    expect(await adapter.transactionBlock(receipt!.hash)).toEqual({ blockNumber: receipt!.blockNumber, blockHash: receipt!.blockHash });
    expect(await adapter.blockHash(receipt!.blockNumber)).toBe(receipt!.blockHash);

    // anvil_reorg replaces the last block with a new one that does not carry the transaction.
    await anvil.provider.send('anvil_reorg', [1, []]);
    expect(await adapter.blockHash(receipt!.blockNumber)).not.toBe(receipt!.blockHash);
    expect(await adapter.transactionBlock(receipt!.hash)).toBeNull();
  });
});
