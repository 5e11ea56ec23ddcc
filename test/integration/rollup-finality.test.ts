import { JsonRpcProvider, Wallet, type NonceManager } from 'ethers';
import { fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { freePort } from '../../dev/tools/ports';
import { NATIVE_LOG_INDEX } from '../../src/chains/chain-adapter';
import { chainTip, confirmationReports } from '../../src/chains/confirmations';
import { EvmAdapter } from '../../src/chains/evm/evm.adapter';
import { startRpcProxy } from '../helpers/rpc-proxy';

/**
 * On a rollup (arbitrum, base) the latest blocks are the sequencer's word until they are posted to
 * L1: a deposit there completes only once its block is at or below the node's `safe` block, however
 * many blocks follow it. A real anvil behind a node whose `safe` block trails as the test says.
 */
describe('rollup finality: deposits complete against the safe block', () => {
  let anvil: RunningAnvil;
  let signer: NonceManager;
  let safeLag = 0;
  let proxy: Awaited<ReturnType<typeof startRpcProxy>>;
  let provider: JsonRpcProvider;

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    signer = fundedSigner(anvil.provider);
    proxy = await startRpcProxy(anvil.rpcUrl, async (request, forward) => {
      if (request.method !== 'eth_getBlockByNumber' || request.params[0] !== 'safe') return undefined;
      const head = Number((await forward({ id: 0, method: 'eth_blockNumber', params: [] })).result);
      return (await forward({ id: 0, method: 'eth_getBlockByNumber', params: [`0x${Math.max(0, head - safeLag).toString(16)}`, false] })).result;
    });
    provider = new JsonRpcProvider(proxy.url, undefined, { staticNetwork: true });
  });

  afterAll(async () => {
    provider?.destroy();
    await proxy?.close();
    await anvil?.stop();
  });

  it('holds a deposit one short of final while its block is past the safe block, and completes it once posted', async () => {
    await anvil.provider.send('anvil_mine', ['0x1e']);
    const to = Wallet.createRandom().address;
    const sent = (await (await signer.sendTransaction({ to, value: 5n })).wait())!;
    await anvil.provider.send('anvil_mine', ['0xa']);
    const adapter = new EvmAdapter(provider, { nativeCurrency: 'ETH', tokens: [] });
    const pending = {
      transactionHash: sent.hash,
      logIndex: NATIVE_LOG_INDEX,
      currency: 'ETH',
      to,
      amount: '5',
      blockNumber: sent.blockNumber,
      blockHash: sent.blockHash,
      requiredConfirmations: 3,
    };

    safeLag = 20;
    const unposted = await chainTip(adapter, 'arbitrum');
    expect(unposted.safeHead).toBe(unposted.head - 20);
    expect(await confirmationReports(adapter, unposted, 40, [pending])).toEqual([
      { confirmations: 2, blockHash: sent.blockHash, blockNumber: sent.blockNumber, canonical: true },
    ]);

    safeLag = 0;
    const posted = await chainTip(adapter, 'arbitrum');
    expect(await confirmationReports(adapter, posted, 40, [pending])).toEqual([
      { confirmations: posted.head - sent.blockNumber + 1, blockHash: sent.blockHash, blockNumber: sent.blockNumber, canonical: true },
    ]);
    // Ethereum has no such tag to wait for: its head is its word.
    expect((await chainTip(adapter, 'ethereum')).safeHead).toBeUndefined();
  });
});
