import { ContractFactory, parseEther, toQuantity, Wallet, type Contract, type NonceManager } from 'ethers';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { freePort } from '../../dev/tools/ports';
import { JsonRpcProvider } from 'ethers';
import { MalformedNodeAnswerError, NATIVE_LOG_INDEX, type DetectedTransfer } from '../../src/chains/chain-adapter';
import multiPayArtifact from '../fixtures/contracts/multi-pay.json';
import nativeForwarderArtifact from '../fixtures/contracts/native-forwarder.json';
import { callTracers, EvmAdapter } from '../../src/chains/evm/evm.adapter';
import { startRpcProxy } from '../helpers/rpc-proxy';
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

  it('returns only transfers to watched addresses, asking in lower case and answering in EIP-55', async () => {
    const start = (await adapter.head()) + 1;
    await (await usdt.getFunction('batchTransfer')([alice, bob], [3n, 4n])).wait();
    const asked: string[] = [];
    const { transfers } = await adapter.transfersTo(start, await adapter.head(), async (recipients) => {
      asked.push(...recipients);
      return new Set(recipients.filter((address) => address === bob.toLowerCase()));
    });
    // No keccak per recipient (src/chains/evm/addresses.ts): the watcher matches them in lower case.
    expect(asked.sort()).toEqual([alice, bob].map((address) => address.toLowerCase()).sort());
    expect(transfers.map(({ to, from, amount }) => ({ to, from, amount }))).toEqual([{ to: bob, from, amount: '4' }]);
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

  it('numbers a token transfer by its log’s place in the receipt, whatever tokens are configured', async () => {
    const multiPay = (await new ContractFactory(multiPayArtifact.abi, multiPayArtifact.bytecode, signer).deploy()) as unknown as Contract;
    await multiPay.waitForDeployment();
    for (const token of [otherToken, usdt]) await (await token.getFunction('mint')(await multiPay.getAddress(), 100n)).wait();
    const start = (await adapter.head()) + 1;
    // One transaction: first a transfer of a token inflow may not watch, then a USDT transfer.
    const paid = await (await multiPay.getFunction('pay')([await otherToken.getAddress(), await usdt.getAddress()], [alice, bob], [5n, 7n])).wait();
    const end = await adapter.head();
    const summary = (transfers: DetectedTransfer[]) => transfers.map(({ currency, to, amount, logIndex }) => ({ currency, to, amount, logIndex }));

    expect(summary((await adapter.transfersTo(start, end, everyone)).transfers)).toEqual([{ currency: 'USDT', to: bob, amount: '7', logIndex: 1 }]);
    const bothTokens = new EvmAdapter(anvil.provider, {
      nativeCurrency: 'ETH',
      tokens: [
        { currency: 'USDC', address: await otherToken.getAddress() },
        { currency: 'USDT', address: await usdt.getAddress() },
      ],
      maxBlockRange: 50,
    });
    // Watching one more token adds its transfer and renumbers nothing.
    expect(summary((await bothTokens.transfersTo(start, end, everyone)).transfers)).toEqual([
      { currency: 'USDC', to: alice, amount: '5', logIndex: 0 },
      { currency: 'USDT', to: bob, amount: '7', logIndex: 1 },
    ]);
    expect(await adapter.inclusions([{ transactionHash: paid!.hash, logIndex: 1, currency: 'USDT', to: bob, amount: '7' }])).toEqual([
      { blockNumber: paid!.blockNumber, blockHash: paid!.blockHash, pays: { currency: 'USDT', to: bob, amount: '7' } },
    ]);
  });

  it('fails a round whose eth_getLogs leaves out a block’s Transfers (a backend that lags for logs), and finds them once it answers', async () => {
    const start = (await adapter.head()) + 1;
    await (await usdt.getFunction('transfer')(carol, 11n)).wait();
    const end = await adapter.head();
    // Range queries meet a backend with no logs yet; a query by block hash meets one that has them.
    const lagging = await startRpcProxy(anvil.rpcUrl, (request) =>
      request.method === 'eth_getLogs' && (request.params[0] as { fromBlock?: string }).fromBlock !== undefined ? [] : undefined,
    );
    const provider = new JsonRpcProvider(lagging.url, undefined, { staticNetwork: true });
    try {
      const behindLogs = new EvmAdapter(provider, {
        nativeCurrency: 'ETH',
        tokens: [{ currency: 'USDT', address: await usdt.getAddress() }],
        maxBlockRange: 50,
      });
      await expect(behindLogs.transfersTo(start, end, everyone)).rejects.toThrow(/left out 1 Transfer log\(s\) of block/);
      expect(behindLogs.maxBlockRange).toBe(25);
    } finally {
      provider.destroy();
      await lagging.close();
    }
    expect((await adapter.transfersTo(start, end, everyone)).transfers.map(({ to, amount }) => ({ to, amount }))).toEqual([{ to: carol, amount: '11' }]);
  });

  it('fails a round whose logs come from another fork than its blocks', async () => {
    const start = (await adapter.head()) + 1;
    await (await usdt.getFunction('transfer')(carol, 12n)).wait();
    const end = await adapter.head();
    const forked = await startRpcProxy(anvil.rpcUrl, async (request, forward) => {
      if (request.method !== 'eth_getLogs') return undefined;
      const answer = (await forward(request)) as { result: Array<{ blockHash: string }> };
      return answer.result.map((log) => ({ ...log, blockHash: `0x${'ab'.repeat(32)}` }));
    });
    const provider = new JsonRpcProvider(forked.url, undefined, { staticNetwork: true });
    try {
      const onTwoForks = new EvmAdapter(provider, {
        nativeCurrency: 'ETH',
        tokens: [{ currency: 'USDT', address: await usdt.getAddress() }],
        maxBlockRange: 50,
      });
      await expect(onTwoForks.transfersTo(start, end, everyone)).rejects.toThrow(/from another fork/);
    } finally {
      provider.destroy();
      await forked.close();
    }
  });

  it('grows its range a step after a full round that succeeds, and halves it after any failure', async () => {
    const aimd = new EvmAdapter(anvil.provider, {
      nativeCurrency: 'ETH',
      tokens: [{ currency: 'USDT', address: await usdt.getAddress() }],
      maxBlockRange: 200,
    });
    expect(aimd.maxBlockRange).toBe(50);
    await anvil.provider.send('anvil_mine', ['0x32']);
    const head = await aimd.head();
    await aimd.transfersTo(head - 49, head, everyone);
    expect(aimd.maxBlockRange).toBe(60);
    // Blocks past the head: the node has none yet, the round fails and the next asks for less.
    await expect(aimd.transfersTo(head + 1, head + 10, everyone)).rejects.toThrow();
    expect(aimd.maxBlockRange).toBe(30);
  });

  // anvil serves both kinds of call traces, so every assertion holds for each, with the same numbers.
  describe.each(callTracers)('native coin sent by contracts (internal transfers), traced with %s', (callTracer) => {
    let forwarder: Contract;
    let traced: EvmAdapter;
    const summary = (transfers: DetectedTransfer[]) =>
      transfers.map(({ transactionHash, logIndex, from, to, amount, currency }) => ({ transactionHash, logIndex, from, to, amount, currency }));

    beforeAll(async () => {
      forwarder = (await new ContractFactory(nativeForwarderArtifact.abi, nativeForwarderArtifact.bytecode, signer).deploy()) as unknown as Contract;
      await forwarder.waitForDeployment();
      traced = new EvmAdapter(anvil.provider, {
        nativeCurrency: 'ETH',
        tokens: [{ currency: 'USDT', address: await usdt.getAddress() }],
        maxBlockRange: 50,
        callTracer,
      });
    });

    const call = async (name: string, args: unknown[], value: bigint) => (await (await forwarder.getFunction(name)(...args, { value })).wait())!;

    it('finds them numbered -2, -3, … in call order, counts only frames that took effect, and never counts the transaction’s own value twice', async () => {
      const start = (await traced.head()) + 1;
      const forwarded = await call('forward', [alice], 10n);
      const split = await call('split', [bob, carol, 3n], 10n);
      // The call that paid alice reverted (undoing that payment); the transaction succeeded and paid bob.
      const throughRevert = await call('payThroughRevertedCall', [alice, bob], 7n);
      const closed = await call('closeTo', [carol], 5n);
      const end = await traced.head();
      const contract = await forwarder.getAddress();
      const eth = (transactionHash: string, logIndex: number, payer: string, to: string, amount: string) => ({
        transactionHash,
        logIndex,
        from: payer,
        to,
        amount,
        currency: 'ETH',
      });

      const found = (await traced.transfersTo(start, end, everyone)).transfers;
      expect(summary(found)).toEqual([
        eth(forwarded.hash, NATIVE_LOG_INDEX, from, contract, '10'),
        eth(forwarded.hash, -2, contract, alice, '10'),
        eth(split.hash, NATIVE_LOG_INDEX, from, contract, '10'),
        eth(split.hash, -2, contract, bob, '3'),
        eth(split.hash, -3, contract, carol, '7'),
        eth(throughRevert.hash, NATIVE_LOG_INDEX, from, contract, '7'),
        eth(throughRevert.hash, -2, contract, bob, '7'),
        // SELFDESTRUCT pays its beneficiary the contract's balance.
        eth(closed.hash, NATIVE_LOG_INDEX, from, contract, '5'),
        eth(closed.hash, -2, contract, carol, '5'),
      ]);
      expect(found[4]).toMatchObject({ blockNumber: split.blockNumber, blockHash: split.blockHash });

      // The chain alone numbers them: the same again, and the same whichever addresses are watched.
      expect((await traced.transfersTo(start, end, everyone)).transfers).toEqual(found);
      // Asked in lower case, as the watcher matches (src/chains/evm/addresses.ts).
      const carolOnly = async (recipients: string[]) => new Set(recipients.filter((address) => address === carol.toLowerCase()));
      expect(summary((await traced.transfersTo(start, end, carolOnly)).transfers)).toEqual([
        eth(split.hash, -3, contract, carol, '7'),
        eth(closed.hash, -2, contract, carol, '5'),
      ]);
      // Without traces, the transactions' own values alone, and the adapter says what it misses.
      expect((await adapter.transfersTo(start, end, everyone)).transfers).toEqual(found.filter((transfer) => transfer.logIndex === NATIVE_LOG_INDEX));
      expect(adapter.limitations()).toEqual([expect.stringMatching(/^native ETH that contracts send .* call tracing is off/)]);
      expect(traced.limitations()).toEqual([]);
    });

    it('finds nothing in a transaction that reverted, though its trace shows the calls it made', async () => {
      const start = (await traced.head()) + 1;
      const reverted = await forwarder.getFunction('payAndRevert')(alice, { value: 4n, gasLimit: 100_000 });
      await waitFor('the reverted transaction mined', async () => (await anvil.provider.send('eth_getTransactionReceipt', [reverted.hash])) !== null);
      const kept = await call('forward', [bob], 2n);
      const found = (await traced.transfersTo(start, await traced.head(), everyone)).transfers;
      expect(found.map(({ transactionHash, logIndex, to }) => ({ transactionHash, logIndex, to }))).toEqual([
        { transactionHash: kept.hash, logIndex: NATIVE_LOG_INDEX, to: await forwarder.getAddress() },
        { transactionHash: kept.hash, logIndex: -2, to: bob },
      ]);
      expect(await traced.inclusions([{ transactionHash: reverted.hash, logIndex: -2, currency: 'ETH', to: alice, amount: '4' }])).toEqual([
        { blockNumber: expect.any(Number), blockHash: expect.any(String), pays: null },
      ]);
    });

    it('reads a recorded internal transfer again from its transaction’s trace (inclusions)', async () => {
      const split = await call('split', [bob, carol, 1n], 3n);
      const recorded = (logIndex: number, to: string, amount: string) => ({ transactionHash: split.hash, logIndex, currency: 'ETH', to, amount });
      const at = { blockNumber: split.blockNumber, blockHash: split.blockHash };
      expect(await traced.inclusions([recorded(-2, bob, '1'), recorded(-3, carol, '2'), recorded(-4, carol, '2')])).toEqual([
        { ...at, pays: { currency: 'ETH', to: bob, amount: '1' } },
        { ...at, pays: { currency: 'ETH', to: carol, amount: '2' } },
        // No third internal transfer there: that place pays nothing.
        { ...at, pays: null },
      ]);
      // Without traces it cannot say, and says so rather than guess.
      await expect(adapter.inclusions([recorded(-2, bob, '1')])).rejects.toThrow(/call tracing is off/);
    });

    it('fails a round whose traces leave out the block’s transactions (a node that lags for traces)', async () => {
      const start = (await traced.head()) + 1;
      await call('forward', [alice], 1n);
      const end = await traced.head();
      const lagging = await startRpcProxy(anvil.rpcUrl, (request) =>
        request.method === 'debug_traceBlockByHash' || request.method === 'trace_block' ? [] : undefined,
      );
      const provider = new JsonRpcProvider(lagging.url, undefined, { staticNetwork: true });
      try {
        const behindTraces = new EvmAdapter(provider, { nativeCurrency: 'ETH', tokens: [], maxBlockRange: 50, callTracer });
        const failure = await behindTraces.transfersTo(start, end, everyone).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(MalformedNodeAnswerError);
        expect((failure as Error).message).toMatch(
          callTracer === 'parity' ? /trace_block left out transaction 0x/ : /debug_traceBlockByHash gave 0 traces for the 1 transactions/,
        );
      } finally {
        provider.destroy();
        await lagging.close();
      }
    });
  });

  it('scans a block whose state the node no longer keeps without its internal transfers, and says which; any other trace failure fails the round', async () => {
    const forwarder = (await new ContractFactory(nativeForwarderArtifact.abi, nativeForwarderArtifact.bytecode, signer).deploy()) as unknown as Contract;
    await forwarder.waitForDeployment();
    const start = (await adapter.head()) + 1;
    const forwarded = (await (await forwarder.getFunction('forward')(alice, { value: 9n })).wait())!;
    const end = await adapter.head();
    const pruned = (message: string) =>
      startRpcProxy(anvil.rpcUrl, (request) => (request.method === 'debug_traceBlockByHash' ? { error: { code: -32000, message } } : undefined));
    const untraced: number[] = [];
    const gone = await pruned('missing trie node 6a3f… (path ) state is not available');
    const provider = new JsonRpcProvider(gone.url, undefined, { staticNetwork: true });
    const broken = await pruned('internal error');
    const brokenProvider = new JsonRpcProvider(broken.url, undefined, { staticNetwork: true });
    try {
      const options = { nativeCurrency: 'ETH', tokens: [], maxBlockRange: 50, callTracer: 'callTracer' as const };
      const onPrunedNode = new EvmAdapter(provider, { ...options, onUntraceableBlock: (blockNumber) => untraced.push(blockNumber) });
      const found = (await onPrunedNode.transfersTo(start, end, everyone)).transfers;
      expect(found.map(({ transactionHash, logIndex }) => ({ transactionHash, logIndex }))).toEqual([
        { transactionHash: forwarded.hash, logIndex: NATIVE_LOG_INDEX },
      ]);
      expect(untraced).toContain(forwarded.blockNumber);
      await expect(new EvmAdapter(brokenProvider, options).transfersTo(start, end, everyone)).rejects.toThrow(/internal error/);
    } finally {
      provider.destroy();
      brokenProvider.destroy();
      await gone.close();
      await broken.close();
    }
  });

  it('fails a round whose parity traces come from another fork than its blocks', async () => {
    const start = (await adapter.head()) + 1;
    await (await signer.sendTransaction({ to: alice, value: 1n })).wait();
    const end = await adapter.head();
    const forked = await startRpcProxy(anvil.rpcUrl, async (request, forward) => {
      if (request.method !== 'trace_block') return undefined;
      const answer = (await forward(request)) as { result: Array<{ blockHash: string }> };
      return answer.result.map((trace) => ({ ...trace, blockHash: `0x${'ab'.repeat(32)}` }));
    });
    const provider = new JsonRpcProvider(forked.url, undefined, { staticNetwork: true });
    try {
      const onTwoForks = new EvmAdapter(provider, { nativeCurrency: 'ETH', tokens: [], maxBlockRange: 50, callTracer: 'parity' });
      await expect(onTwoForks.transfersTo(start, end, everyone)).rejects.toThrow(/trace_block gave a trace of block \d+ from another fork/);
    } finally {
      provider.destroy();
      await forked.close();
    }
  });

  // Last: the reorgs drop transactions the signer counted.
  it('tells where a transfer is now and what it pays there, and notices when a reorg removes its block', async () => {
    const receipt = await (await signer.sendTransaction({ to: bob, value: 1n })).wait();
    const recorded = { transactionHash: receipt!.hash, logIndex: NATIVE_LOG_INDEX, currency: 'ETH', to: bob, amount: '1' };
    expect(await adapter.inclusions([recorded])).toEqual([
      { blockNumber: receipt!.blockNumber, blockHash: receipt!.blockHash, pays: { currency: 'ETH', to: bob, amount: '1' } },
    ]);
    expect(await adapter.blockHashes([receipt!.blockNumber, (await adapter.head()) + 1000])).toEqual([receipt!.blockHash, null]);

    // anvil_reorg replaces the last block with a new one that does not carry the transaction.
    await anvil.provider.send('anvil_reorg', [1, []]);
    expect(await adapter.blockHashes([receipt!.blockNumber])).not.toEqual([receipt!.blockHash]);
    expect(await adapter.inclusions([recorded])).toEqual([null]);
  });

  it('says a re-inclusion that reverted pays nothing', async () => {
    // A payer sends all its 10 USDT; a reorg then mines a drain of those 10 (by a spender it had
    // approved) before the payment's same bytes, which now revert.
    const [payer, spender] = [0, 1].map(() => new Wallet(Wallet.createRandom().privateKey, anvil.provider)) as [Wallet, Wallet];
    for (const wallet of [payer, spender]) await anvil.provider.send('anvil_setBalance', [wallet.address, toQuantity(parseEther('1'))]);
    signer.reset(); // the reorg before this test dropped a transaction it had counted
    await (await usdt.getFunction('mint')(payer.address, 10n)).wait();
    const token = await usdt.getAddress();
    const fees = await anvil.provider.getFeeData();
    const sign = (wallet: Wallet, nonce: number, data: string) =>
      wallet.signTransaction({
        to: token,
        data,
        nonce,
        gasLimit: 100_000n,
        maxFeePerGas: fees.maxFeePerGas! * 2n,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 1n,
        chainId: 31337n,
        type: 2,
      });
    const mine = async (raw: string) => {
      const hash = (await anvil.provider.send('eth_sendRawTransaction', [raw])) as string;
      await waitFor('mined', async () => (await anvil.provider.send('eth_getTransactionReceipt', [hash])) !== null);
      return hash;
    };
    await mine(await sign(payer, 0, usdt.interface.encodeFunctionData('approve', [spender.address, 10n])));
    const pay = await sign(payer, 1, usdt.interface.encodeFunctionData('transfer', [carol, 10n]));
    const hash = await mine(pay);
    const recorded = { transactionHash: hash, logIndex: 0, currency: 'USDT', to: carol, amount: '10' };
    expect((await adapter.inclusions([recorded]))[0]!.pays).toEqual({ currency: 'USDT', to: carol, amount: '10' });

    const drain = await sign(spender, 0, usdt.interface.encodeFunctionData('transferFrom', [payer.address, spender.address, 10n]));
    await anvil.provider.send('anvil_reorg', [
      1,
      [
        [drain, 0],
        [pay, 0],
      ],
    ]);
    const [again] = await adapter.inclusions([recorded]);
    expect(again).toMatchObject({ blockNumber: expect.any(Number), pays: null });
    expect(((await anvil.provider.send('eth_getTransactionReceipt', [hash])) as { status: string }).status).toBe('0x0');
  });
});

/** A proxy that, like a hosted provider, refuses eth_getLogs over more than `maxRange` blocks with a "too many results" error. */
async function startCappingProxy(target: string, maxRange: number) {
  let refused = 0;
  const proxy = await startRpcProxy(target, (request) => {
    if (request.method !== 'eth_getLogs') return undefined;
    const filter = request.params[0] as { fromBlock?: string; toBlock?: string };
    if (filter.fromBlock === undefined || Number(filter.toBlock) - Number(filter.fromBlock) + 1 <= maxRange) return undefined;
    refused++;
    return { error: { code: -32005, message: 'query returned more than 10000 results' } };
  });
  return {
    ...proxy,
    get refused() {
      return refused;
    },
  };
}
