/**
 * The treasury's view of a chain with several nodes (src/treasury/node-pool.ts): one node down, one
 * lagging ten blocks (a loopback JSON-RPC proxy in front of anvil that answers as of ten blocks
 * ago), one at the head. Reads must come from the node at the head, or a reconciliation reports
 * differences that are not there and a sweep plans on an old balance; a broadcast must reach the
 * chain whichever node is down. The oracle is anvil itself (and the Tron stand-in), read directly.
 */
import { Wallet } from 'ethers';
import { startAnvil, FUNDED_PRIVATE_KEY, type RunningAnvil } from '../../dev/devnet/anvil';
import { startTronDevnet, TRON_FUNDED_PRIVATE_KEY, type RunningTronDevnet } from '../../dev/devnet/tron-devnet';
import { signTransaction } from '../../dev/devnet/tron-signing';
import { freePort } from '../../dev/tools/ports';
import { tronAddressOfKey } from '../../src/chains/tron/transaction';
import { EvmTreasuryChain } from '../../src/treasury/evm-chain';
import { buildTronTransaction, hex41, TronBroadcastError, TronTreasuryChain } from '../../src/treasury/tron-chain';
import { startRpcProxy } from '../helpers/rpc-proxy';

jest.setTimeout(60_000);

const LAG = 10;

describe('treasury reads and broadcasts with a node down and a node lagging', () => {
  let anvil: RunningAnvil;
  let lagging: Awaited<ReturnType<typeof startRpcProxy>>;
  let down: string;
  const raw = async (url: string, method: string, params: unknown[]) =>
    (
      (await (
        await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
      ).json()) as { result: any }
    ).result;

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    await anvil.provider.send('anvil_mine', ['0x20']);
    // As of LAG blocks ago: its head, and every balance, nonce and call at "latest" or "pending".
    lagging = await startRpcProxy(anvil.rpcUrl, async (request, forward) => {
      const head = BigInt((await forward({ id: 0, method: 'eth_blockNumber', params: [] })).result);
      const past = `0x${(head - BigInt(LAG)).toString(16)}`;
      if (request.method === 'eth_blockNumber') return past;
      if (['eth_getBalance', 'eth_getTransactionCount', 'eth_call'].includes(request.method))
        return (await forward({ ...request, params: request.params.map((param) => (param === 'latest' || param === 'pending' ? past : param)) })).result;
      return undefined;
    });
    down = `http://127.0.0.1:${await freePort()}`;
  });

  afterAll(async () => {
    await lagging?.close();
    await anvil?.stop();
  });

  it('reads the balance and the head of the node at the head, never the lagging one; broadcasts once whichever node is down', async () => {
    const chain = new EvmTreasuryChain([down, lagging.url, anvil.rpcUrl], {}, { maxLagBlocks: 3, refreshMs: 0 });
    const funder = new Wallet(FUNDED_PRIVATE_KEY);
    const to = Wallet.createRandom().address;
    const nonce = BigInt(await raw(anvil.rpcUrl, 'eth_getTransactionCount', [funder.address, 'latest']));
    const signed = await funder.signTransaction({
      chainId: 31337n,
      nonce: Number(nonce),
      to,
      value: 10n ** 16n,
      gasLimit: 21_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 10n ** 9n,
      type: 2,
    });
    const hash = await chain.send(signed);
    // Sent again (a retried step), through the same nodes: no error, one transaction.
    expect(await chain.send(signed)).toBe(hash);
    await anvil.provider.send('anvil_mine', ['0x1']);

    // The chain itself: paid once.
    expect(BigInt(await raw(anvil.rpcUrl, 'eth_getBalance', [to, 'latest']))).toBe(10n ** 16n);
    expect(BigInt(await raw(anvil.rpcUrl, 'eth_getTransactionCount', [funder.address, 'latest']))).toBe(nonce + 1n);
    // The lagging node does not see it yet; the treasury reads what the chain says.
    expect(BigInt(await raw(lagging.url, 'eth_getBalance', [to, 'latest']))).toBe(0n);
    expect(await chain.nativeBalance(to)).toBe(10n ** 16n);
    expect(await chain.pendingNonce(funder.address)).toBe(nonce + 1n);
    expect(await chain.headNumber()).toBe(BigInt(await raw(anvil.rpcUrl, 'eth_blockNumber', [])));
    expect(await chain.receipt(hash)).toMatchObject({ status: 'succeeded' });
    chain.destroy();
  });

  it('reads from the first node in the configured order when all are at the head, and fails only when none answers', async () => {
    const chain = new EvmTreasuryChain([down, anvil.rpcUrl, lagging.url], {}, { maxLagBlocks: LAG, refreshMs: 0 });
    // Within maxLagBlocks, the lagging node is usable; anvil comes first in the order.
    const address = Wallet.createRandom().address;
    await anvil.provider.send('anvil_setBalance', [address, '0x64']);
    expect(await chain.nativeBalance(address)).toBe(100n);
    chain.destroy();
    const none = new EvmTreasuryChain([down, `http://127.0.0.1:${await freePort()}`], {}, { maxLagBlocks: 3, refreshMs: 0 });
    await expect(none.headNumber()).rejects.toThrow("none of the chain's 2 nodes answered its head");
    none.destroy();
  });
});

describe('Tron treasury reads and broadcasts with a node down', () => {
  let tron: RunningTronDevnet;

  beforeAll(async () => {
    tron = await startTronDevnet({ port: await freePort() });
    tron.mine(2);
  });

  afterAll(async () => {
    await tron?.stop();
  });

  it("reads and broadcasts through the node that answers, and a refusal is the node's answer, not the dead node's silence", async () => {
    const chain = new TronTreasuryChain([`http://127.0.0.1:${await freePort()}`, tron.rpcUrl], {}, { maxLagBlocks: 3, refreshMs: 0 });
    const to = tronAddressOfKey(Wallet.createRandom().privateKey);
    const transfer = { type: 'TransferContract' as const, owner_address: hex41(tron.fundedAddress), to_address: hex41(to), amount: 5_000_000n };
    const signed = signTransaction(buildTronTransaction(transfer, await chain.referenceBlock(), { now: Date.now() }), TRON_FUNDED_PRIVATE_KEY);
    expect(await chain.send(signed)).toBe(signed.txID);
    expect(await chain.send(signed)).toBe(signed.txID);
    tron.mine();
    // The stand-in itself: paid once.
    const account = (await (
      await fetch(`${tron.rpcUrl}/wallet/getaccount`, { method: 'POST', body: JSON.stringify({ address: to, visible: true }) })
    ).json()) as {
      balance?: number;
    };
    expect(account.balance).toBe(5_000_000);
    expect(await chain.nativeBalance(to)).toBe(5_000_000n);
    // Signed by another key: the live node's SIGERROR, not the dead node's connection error.
    const forged = signTransaction(
      buildTronTransaction({ ...transfer, amount: 6_000_000n }, await chain.referenceBlock(), { now: Date.now() }),
      Wallet.createRandom().privateKey,
    );
    const refused = await chain.send(forged).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TronBroadcastError);
    expect(refused).toMatchObject({ code: 'SIGERROR' });
  });
});
