/**
 * The chains a worker watches: one adapter per network and mode, of the network's family, built
 * from the configuration. Adding a family is a folder under chains/ and a line here.
 */
import { FetchRequest, JsonRpcProvider } from 'ethers';
import type { Config, WatchedChain } from '../config';
import { networks } from '../domain/networks';
import { chainKey, type ChainAdapter, type WatchedChainAdapter } from './chain-adapter';
import { EvmAdapter } from './evm/evm.adapter';
import { TronAdapter } from './tron/tron.adapter';

export function createChainAdapters(config: Pick<Config, 'chains' | 'chainMaxBlockRange'>): Map<string, WatchedChainAdapter> {
  return new Map(
    config.chains.map((chain) => [
      chainKey(chain),
      { adapter: adapterFor(chain, config.chainMaxBlockRange), requiredConfirmations: chain.requiredConfirmations, startBlock: chain.startBlock },
    ]),
  );
}

function adapterFor(chain: WatchedChain, maxBlockRange: number): ChainAdapter {
  const { nativeCurrency } = networks[chain.network];
  // One getblockbylimitnext call at most: a Tron block carries hundreds of transactions.
  if (chain.family === 'tron') {
    return new TronAdapter({ rpcUrl: chain.rpcUrl, headers: chain.headers, nativeCurrency, tokens: chain.tokens, maxBlockRange: Math.min(maxBlockRange, 100) });
  }
  const request = new FetchRequest(chain.rpcUrl);
  for (const [name, value] of Object.entries(chain.headers)) request.setHeader(name, value);
  return new EvmAdapter(new JsonRpcProvider(request, undefined, { staticNetwork: true }), { nativeCurrency, tokens: chain.tokens, maxBlockRange });
}
