/**
 * The chains a worker watches: one adapter per network and mode, of the network's family, built
 * from the configuration; a chain with several nodes reads them through a FailoverChainAdapter.
 * Adding a family is a folder under chains/ and a line here.
 */
import { FetchRequest, JsonRpcProvider } from 'ethers';
import type { Config, WatchedChain } from '../config';
import { dustThreshold } from '../domain/dust';
import { currencyOn, networks } from '../domain/networks';
import { chainKey, type ChainAdapter, type WatchedChainAdapter } from './chain-adapter';
import { EvmAdapter } from './evm/evm.adapter';
import { FailoverChainAdapter } from './failover';
import { TronAdapter } from './tron/tron.adapter';

/** Where a chain's nodes' failures and disagreements are said (the worker's log). */
export type NodeWarning = (message: string, fields: Record<string, unknown>) => void;

export function createChainAdapters(
  config: Pick<Config, 'chains' | 'chainMaxBlockRange' | 'dustThresholds'>,
  warn?: NodeWarning,
): Map<string, WatchedChainAdapter> {
  return new Map(
    config.chains.map((chain) => [
      chainKey(chain),
      {
        adapter: chainAdapterFor(chain, config.chainMaxBlockRange, warn),
        requiredConfirmations: chain.requiredConfirmations,
        startBlock: chain.startBlock,
        dustThresholds: Object.fromEntries(
          Object.keys(networks[chain.network].currencies).map((currency) => [
            currency,
            dustThreshold(config.dustThresholds, currency, currencyOn(chain.network, currency)!.decimals),
          ]),
        ),
      },
    ]),
  );
}

function chainAdapterFor(chain: WatchedChain, maxBlockRange: number, warn: NodeWarning | undefined): ChainAdapter {
  if (chain.rpcUrls.length === 1) return nodeAdapterFor(chain, chain.rpcUrls[0]!, maxBlockRange, warn);
  const nodes = chain.rpcUrls.map((url, i) => ({ name: `node ${i + 1} (${new URL(url).host})`, adapter: nodeAdapterFor(chain, url, maxBlockRange, warn) }));
  // A node a quarter of the way to finality behind the others is not read from.
  const maxLagBlocks = Math.max(3, Math.ceil(chain.requiredConfirmations / 4));
  return new FailoverChainAdapter(nodes, {
    quorum: chain.quorum,
    maxLagBlocks,
    warn: (message, fields) => warn?.(message, { network: chain.network, livemode: chain.livemode, ...fields }),
  });
}

function nodeAdapterFor(chain: WatchedChain, rpcUrl: string, maxBlockRange: number, warn: NodeWarning | undefined): ChainAdapter {
  const { nativeCurrency } = networks[chain.network];
  // One getblockbylimitnext call at most: a Tron block carries hundreds of transactions.
  if (chain.family === 'tron') {
    return new TronAdapter({ rpcUrl, headers: chain.headers, nativeCurrency, tokens: chain.tokens, maxBlockRange: Math.min(maxBlockRange, 100) });
  }
  const request = new FetchRequest(rpcUrl);
  for (const [name, value] of Object.entries(chain.headers)) request.setHeader(name, value);
  return new EvmAdapter(new JsonRpcProvider(request, undefined, { staticNetwork: true }), {
    nativeCurrency,
    tokens: chain.tokens,
    maxBlockRange,
    callTracer: chain.callTracer,
    onUntraceableBlock: (blockNumber, reason) =>
      warn?.(`block ${blockNumber} was scanned without its internal transfers: the node no longer keeps its state (rescan it from an archive node)`, {
        network: chain.network,
        livemode: chain.livemode,
        blockNumber,
        reason: reason.slice(0, 300),
      }),
  });
}
