/**
 * ERC-20 `Transfer` logs of the configured token contracts: read by range, checked against the
 * blocks the round read (a log from another fork, a block whose bloom says a log is missing), and
 * decoded into transfers.
 */
import { getBytes, id, keccak256, toQuantity, type JsonRpcProvider } from 'ethers';
import { MalformedNodeAnswerError, type DetectedTransfer, type TokenContract } from '../chain-adapter';
import { lowerCaseAddress } from './addresses';
import { nodeMessage, type RawBlock, type RawLog } from './rpc';

export const TRANSFER_TOPIC = id('Transfer(address,address,uint256)');

/** How providers say an `eth_getLogs` range holds too much (Infura, Alchemy, QuickNode, geth, erigon phrasings). */
const RANGE_TOO_LARGE =
  /more than \d+ results|too many (results|logs)|response size|(block )?range (is )?too (large|wide)|exceeds? (the )?max(imum)? (block )?range|limited to a? ?[\d,]+ (block )?range/i;

export class TokenTransfers {
  /** Currency by the contract's address in lower case, as logs carry it. */
  private readonly tokensByAddress: Map<string, string>;

  constructor(
    private readonly provider: JsonRpcProvider,
    tokens: TokenContract[],
  ) {
    this.tokensByAddress = new Map(tokens.map((token) => [lowerCaseAddress(token.address, () => `token ${token.currency}`), token.currency]));
  }

  /**
   * The configured tokens' Transfer logs; a range the node refuses as too large is split in two,
   * and `refused` is told the half's size so the next rounds ask for no more.
   */
  async logs(fromBlock: number, toBlock: number, refused: (blocks: number) => void): Promise<RawLog[]> {
    if (this.tokensByAddress.size === 0) return [];
    let logs: unknown;
    try {
      logs = await this.provider.send('eth_getLogs', [{ fromBlock: toQuantity(fromBlock), toBlock: toQuantity(toBlock), ...this.transferFilter() }]);
    } catch (error) {
      if (toBlock === fromBlock || !RANGE_TOO_LARGE.test(nodeMessage(error))) throw error;
      const half = Math.ceil((toBlock - fromBlock + 1) / 2);
      refused(half);
      return [...(await this.logs(fromBlock, fromBlock + half - 1, refused)), ...(await this.logs(fromBlock + half, toBlock, refused))];
    }
    if (!Array.isArray(logs)) throw new MalformedNodeAnswerError(`eth_getLogs answered ${JSON.stringify(logs)?.slice(0, 200)}, not a list of logs`);
    return logs as RawLog[];
  }

  /**
   * Every log must come from a block read this round, by number and hash: a backend on another
   * fork fails the round. A block whose bloom admits a watched token's Transfer but that yielded
   * no log may have met a backend that lags for logs: it is asked again by its hash (EIP-234), and
   * any log found then fails the round too.
   */
  async checkAgainstBlocks(blocks: RawBlock[], logs: RawLog[]): Promise<void> {
    const hashAt = new Map(blocks.map((block) => [Number(block.number), block.hash]));
    const withLogs = new Set<string>();
    for (const log of logs) {
      if (log.removed || hashAt.get(Number(log.blockNumber)) !== log.blockHash) {
        throw new MalformedNodeAnswerError(`eth_getLogs gave a log of block ${Number(log.blockNumber)} from another fork (hash ${log.blockHash})`);
      }
      withLogs.add(log.blockHash);
    }
    const suspects = blocks.filter((block) => !withLogs.has(block.hash) && this.bloomAdmitsTransfer(block.logsBloom));
    const recounted = (await Promise.all(
      suspects.map((block) => this.provider.send('eth_getLogs', [{ blockHash: block.hash, ...this.transferFilter() }])),
    )) as unknown[];
    recounted.forEach((found, i) => {
      if (!Array.isArray(found)) throw new MalformedNodeAnswerError(`eth_getLogs by hash answered ${JSON.stringify(found)?.slice(0, 200)}`);
      if (found.length > 0) {
        throw new MalformedNodeAnswerError(
          `eth_getLogs left out ${found.length} Transfer log(s) of block ${Number(suspects[i]!.number)} (a backend that lags for logs)`,
        );
      }
    });
  }

  /**
   * The transfer a log records, if it is a configured token's Transfer of a non-zero amount, its
   * addresses in lower case (addresses.ts: withEip55 writes the ones kept in EIP-55 form).
   */
  decode(log: RawLog): { transfer: DetectedTransfer; log: RawLog } | undefined {
    const currency = typeof log.address === 'string' ? this.tokensByAddress.get(log.address.toLowerCase()) : undefined;
    // A Transfer has two indexed addresses and the amount as data; anything else is not one.
    if (!currency || log.topics[0] !== TRANSFER_TOPIC || log.topics.length !== 3 || log.data.length !== 66) return undefined;
    const amount = BigInt(log.data);
    if (amount === 0n) return undefined;
    return {
      log,
      transfer: {
        transactionHash: log.transactionHash,
        // Numbered by the receipt once the transfer is kept (the scan reads it then).
        logIndex: 0,
        blockNumber: Number(log.blockNumber),
        blockHash: log.blockHash,
        from: lowerCaseAddress(`0x${log.topics[1]!.slice(26)}`, () => `the Transfer log ${log.transactionHash}:${log.logIndex}`),
        to: lowerCaseAddress(`0x${log.topics[2]!.slice(26)}`, () => `the Transfer log ${log.transactionHash}:${log.logIndex}`),
        amount: amount.toString(),
        currency,
      },
    };
  }

  private transferFilter() {
    return { address: [...this.tokensByAddress.keys()], topics: [TRANSFER_TOPIC] };
  }

  /** Whether a block's logs bloom may hold a Transfer of a configured token (no bloom: nothing to check). */
  private bloomAdmitsTransfer(bloom: string | undefined): boolean {
    if (!bloom || !/^0x[0-9a-fA-F]{512}$/.test(bloom)) return false;
    const bits = getBytes(bloom);
    const admits = (item: string) => bloomPositions(item).every(([byte, mask]) => (bits[byte]! & mask) !== 0);
    return admits(TRANSFER_TOPIC) && [...this.tokensByAddress.keys()].some(admits);
  }
}

/** The three bits (byte index, mask) an item sets in a 2048-bit logs bloom (the yellow paper's M3:2048). */
function bloomPositions(item: string): Array<[number, number]> {
  const hash = getBytes(keccak256(item));
  return [0, 2, 4].map((i) => {
    const bit = ((hash[i]! << 8) | hash[i + 1]!) & 2047;
    return [255 - (bit >> 3), 1 << (bit & 7)];
  });
}
