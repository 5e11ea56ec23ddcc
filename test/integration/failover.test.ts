import { JsonRpcProvider, Wallet, type Contract, type NonceManager } from 'ethers';
import { deployTestUsdt, fundedSigner, startAnvil, type RunningAnvil } from '../../dev/devnet/anvil';
import { freePort } from '../../dev/tools/ports';
import { EvmAdapter } from '../../src/chains/evm/evm.adapter';
import { FailoverChainAdapter, type ChainNode } from '../../src/chains/failover';
import { startRpcProxy, type RpcRequest } from '../helpers/rpc-proxy';

const everyone = async (recipients: string[]) => new Set(recipients);
const OTHER_FORK = `0x${'ee'.repeat(32)}`;

/** Several nodes for one chain, each a real HTTP node in front of one anvil that errs, lags or answers from another fork as told. */
describe('several nodes per chain: failover, lag and quorum', () => {
  let anvil: RunningAnvil;
  let signer: NonceManager;
  let usdt: Contract;
  const closers: Array<() => Promise<unknown>> = [];
  const alice = Wallet.createRandom().address;

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    signer = fundedSigner(anvil.provider);
    usdt = await deployTestUsdt(signer);
    await anvil.provider.send('anvil_mine', ['0x14']);
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await anvil?.stop();
  });

  /** A node named `name` behind a proxy that behaves as `intercept` says. */
  async function node(name: string, intercept?: (request: RpcRequest, forward: (request: RpcRequest) => Promise<any>) => unknown): Promise<ChainNode> {
    const proxy = await startRpcProxy(anvil.rpcUrl, intercept);
    const provider = new JsonRpcProvider(proxy.url, undefined, { staticNetwork: true });
    closers.push(async () => provider.destroy(), proxy.close);
    return {
      name,
      adapter: new EvmAdapter(provider, { nativeCurrency: 'ETH', tokens: [{ currency: 'USDT', address: await usdt.getAddress() }], maxBlockRange: 50 }),
    };
  }
  const healthy = (name: string) => node(name);
  /** Answers every block (and the head's hash) as another fork's. */
  const forked = (name: string) =>
    node(name, async (request, forward) => {
      if (request.method !== 'eth_getBlockByNumber') return undefined;
      const answer = await forward(request);
      return answer.result ? { ...answer.result, hash: OTHER_FORK } : null;
    });
  /** `blocks` behind: its head is lower, and it has nothing past it. */
  const lagging = (name: string, blocks: number) =>
    node(name, async (request, forward) => {
      const head = Number((await forward({ id: 0, method: 'eth_blockNumber', params: [] })).result) - blocks;
      if (request.method === 'eth_blockNumber') return `0x${head.toString(16)}`;
      if (request.method === 'eth_getBlockByNumber' && Number(request.params[0]) > head) return null;
      return undefined;
    });

  it('reads from the first node, and from the next when it fails, naming the one that failed', async () => {
    const failing = await node('flaky.example', (request) =>
      request.method === 'eth_getLogs' ? { error: { code: -32000, message: 'upstream connect error' } } : undefined,
    );
    const warnings: string[] = [];
    const chain = new FailoverChainAdapter([failing, await healthy('steady.example')], {
      quorum: 1,
      maxLagBlocks: 5,
      warn: (message) => warnings.push(message),
    });
    const head = await chain.head();
    await (await usdt.getFunction('transfer')(alice, 3n)).wait();
    const { transfers } = await chain.transfersTo(head + 1, await chain.head(), everyone);
    expect(transfers.map(({ to, amount }) => ({ to, amount }))).toEqual([{ to: alice, amount: '3' }]);
    expect(chain.nodeStatuses()).toEqual([
      { name: 'flaky.example', state: 'down', head: expect.any(Number), detail: expect.stringContaining('upstream connect error') },
      { name: 'steady.example', state: 'ok', head: expect.any(Number) },
    ]);
    expect(warnings).toEqual(['chain node flaky.example is down']);
  });

  it('passes over a node that lags more than allowed', async () => {
    const chain = new FailoverChainAdapter([await lagging('behind.example', 10), await healthy('current.example')], { quorum: 1, maxLagBlocks: 3 });
    const head = await chain.head();
    expect(head).toBe(Number(await anvil.provider.send('eth_blockNumber', [])));
    expect(await chain.blockHashes([head])).toEqual([(await anvil.provider.getBlock(head))!.hash]);
    expect(chain.nodeStatuses()[0]).toEqual({ name: 'behind.example', state: 'lagging', head: head - 10, detail: '10 blocks behind the highest head' });
  });

  it('with a quorum, takes the block hash most nodes agree on and names the node on another fork', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const chain = new FailoverChainAdapter([await forked('odd.example'), await healthy('a.example'), await healthy('b.example')], {
      quorum: 2,
      maxLagBlocks: 3,
      warn: (_message, fields) => warnings.push(fields),
    });
    const head = await chain.head();
    expect(await chain.blockHashes([head])).toEqual([(await anvil.provider.getBlock(head))!.hash]);
    expect(chain.nodeStatuses().map((status) => status.state)).toEqual(['disagrees', 'ok', 'ok']);
    expect(warnings).toEqual([{ node: 'odd.example', state: 'disagrees', detail: expect.stringContaining(OTHER_FORK) }]);
  });

  it('with a quorum, fails a check the nodes do not agree on, and a head only one node claims', async () => {
    const split = new FailoverChainAdapter([await forked('odd.example'), await healthy('a.example')], { quorum: 2, maxLagBlocks: 3 });
    const head = await split.head();
    await expect(split.blockHashes([head])).rejects.toThrow(`block ${head}: no 2 nodes agree on its hash (1 / 1)`);

    // A node that runs ahead alone does not lead the watcher past what a second node has.
    const chain = new FailoverChainAdapter([await lagging('a.example', 2), await healthy('ahead.example')], { quorum: 2, maxLagBlocks: 3 });
    expect(await chain.head()).toBe(Number(await anvil.provider.send('eth_blockNumber', [])) - 2);
  });
});
