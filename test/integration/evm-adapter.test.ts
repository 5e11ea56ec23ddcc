import { parseEther, Wallet, type Contract, type NonceManager } from 'ethers';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { freePort } from '../../dev/tools/ports';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { JsonRpcProvider } from 'ethers';
import { NATIVE_LOG_INDEX } from '../../src/chains/chain-adapter';
import { EvmAdapter } from '../../src/chains/evm/evm.adapter';
import { waitFor } from '../helpers/wait';

/** Every recipient is watched. */
const everyone = async (recipients: string[]) => new Set(recipients);

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

    const transfers = (await adapter.transfersTo(start, end, everyone)).transfers;
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
    await expect(adapter.transfersTo(0, 50, everyone)).rejects.toThrow(RangeError);
    await expect(adapter.transfersTo(10, 9, everyone)).rejects.toThrow(RangeError);
  });

  it('returns only transfers to watched addresses', async () => {
    const start = (await adapter.head()) + 1;
    await (await usdt.getFunction('batchTransfer')([alice, bob], [3n, 4n])).wait();
    const { transfers } = await adapter.transfersTo(
      start,
      await adapter.head(),
      async (recipients) => new Set(recipients.filter((address) => address === bob)),
    );
    expect(transfers.map(({ to, amount }) => ({ to, amount }))).toEqual([{ to: bob, amount: '4' }]);
  });

  it('skips a native transfer whose transaction reverted (it moved no coin)', async () => {
    const start = (await adapter.head()) + 1;
    // The test token has no receive function: ETH sent to it reverts, and is mined as failed.
    const token = await usdt.getAddress();
    const reverted = await signer.sendTransaction({ to: token, value: parseEther('1'), gasLimit: 100_000 });
    // Its receipt, asked for directly (ethers' wait() rejects a failed transaction).
    const receipt = async () => (await anvil.provider.send('eth_getTransactionReceipt', [reverted.hash])) as { status: string } | null;
    await waitFor('the reverted transaction mined', async () => (await receipt()) !== null);
    expect((await receipt())!.status).toBe('0x0');
    await (await signer.sendTransaction({ to: alice, value: 5n })).wait();
    const transfers = (await adapter.transfersTo(start, await adapter.head(), everyone)).transfers;
    expect(transfers.map(({ to, amount }) => ({ to, amount }))).toEqual([{ to: alice, amount: '5' }]);
  });

  it('shrinks its block range when the node caps eth_getLogs answers, and finds the same transfers', async () => {
    const start = (await adapter.head()) + 1;
    for (let i = 0; i < 10; i++) await (await usdt.getFunction('transfer')(carol, BigInt(i + 1))).wait();
    const end = await adapter.head();
    // A real HTTP node in front of anvil that, like a hosted provider, refuses wide log queries.
    const capping = await startCappingProxy(anvil.rpcUrl, 3);
    const provider = new JsonRpcProvider(capping.url, undefined, { staticNetwork: true });
    try {
      const capped = new EvmAdapter(provider, { nativeCurrency: 'ETH', tokens: [{ currency: 'USDT', address: await usdt.getAddress() }], maxBlockRange: 50 });
      const found = (await capped.transfersTo(start, end, everyone)).transfers;
      expect(found.map((transfer) => transfer.amount)).toEqual(Array.from({ length: 10 }, (_, i) => String(i + 1)));
      expect(found).toEqual((await adapter.transfersTo(start, end, everyone)).transfers);
      expect(capped.maxBlockRange).toBeLessThanOrEqual(3);
      expect(capping.refused).toBeGreaterThan(0);
    } finally {
      provider.destroy();
      await capping.close();
    }
  });

  // Last: the reorg drops a transaction the signer counted.
  it('tells where a transaction is mined, and notices when a reorg removes its block', async () => {
    const receipt = await (await signer.sendTransaction({ to: bob, value: 1n })).wait();
    expect(await adapter.transactionBlocks([receipt!.hash])).toEqual([{ blockNumber: receipt!.blockNumber, blockHash: receipt!.blockHash }]);
    expect(await adapter.blockHashes([receipt!.blockNumber, (await adapter.head()) + 1000])).toEqual([receipt!.blockHash, null]);

    // anvil_reorg replaces the last block with a new one that does not carry the transaction.
    await anvil.provider.send('anvil_reorg', [1, []]);
    expect(await adapter.blockHashes([receipt!.blockNumber])).not.toEqual([receipt!.blockHash]);
    expect(await adapter.transactionBlocks([receipt!.hash])).toEqual([null]);
  });
});

/** A JSON-RPC proxy to `target` that answers eth_getLogs over more than `maxRange` blocks with a provider's "too many results" error. */
async function startCappingProxy(target: string, maxRange: number) {
  let refused = 0;
  const answer = async (request: { id: unknown; method: string; params: unknown[] }) => {
    if (request.method === 'eth_getLogs') {
      const filter = request.params[0] as { fromBlock: string; toBlock: string };
      if (Number(filter.toBlock) - Number(filter.fromBlock) + 1 > maxRange) {
        refused++;
        return { jsonrpc: '2.0', id: request.id, error: { code: -32005, message: 'query returned more than 10000 results' } };
      }
    }
    const response = await fetch(target, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
    return response.json();
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const result = Array.isArray(body) ? await Promise.all(body.map(answer)) : await answer(body);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get refused() {
      return refused;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
