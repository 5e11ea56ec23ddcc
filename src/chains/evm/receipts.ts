/**
 * Transfers read again from their receipts: the scan's last check of what it found, and the
 * confirmation checks' view of where a recorded transfer sits now and what it pays.
 */
import { getAddress, type JsonRpcProvider } from 'ethers';
import {
  internalTransferOrdinal,
  MalformedNodeAnswerError,
  NATIVE_LOG_INDEX,
  paysTheSame,
  type DetectedTransfer,
  type Inclusion,
  type RecordedTransfer,
} from '../chain-adapter';
import type { InternalTransfers } from './native-transfers';
import type { RawBlock, RawLog, RawReceipt } from './rpc';
import type { TokenTransfers } from './token-transfers';

/**
 * The transfers found this round that stand, each read again from its receipt: its status, its
 * log's place in the transaction (the transfer's number), and that it sits in the very block this
 * round read.
 */
export async function confirmedByReceipts(
  provider: JsonRpcProvider,
  hits: Array<{ transfer: DetectedTransfer; log?: RawLog | undefined }>,
  blocks: RawBlock[],
): Promise<DetectedTransfer[]> {
  const receipts = await readReceipts(provider, [...new Set(hits.map((hit) => hit.transfer.transactionHash))]);
  const byHash = new Map(receipts.map((receipt) => [receipt.transactionHash, receipt]));
  const hashAt = new Map(blocks.map((block) => [Number(block.number), block.hash]));
  return hits.flatMap(({ transfer, log }) => {
    const receipt = byHash.get(transfer.transactionHash)!;
    if (receipt.blockHash !== hashAt.get(transfer.blockNumber)) {
      throw new MalformedNodeAnswerError(
        `the receipt of ${transfer.transactionHash} is in block ${receipt.blockHash}, not ${transfer.blockHash} read this round`,
      );
    }
    if (!log) return receipt.status === '0x1' ? [transfer] : [];
    const position = receipt.logs.findIndex((candidate) => candidate.logIndex === log.logIndex);
    if (receipt.status !== '0x1' || position === -1) {
      throw new MalformedNodeAnswerError(`eth_getLogs gave a Transfer of ${transfer.transactionHash} that its receipt does not hold`);
    }
    return [{ ...transfer, logIndex: position }];
  });
}

async function readReceipts(provider: JsonRpcProvider, transactionHashes: string[]): Promise<RawReceipt[]> {
  const receipts = (await Promise.all(transactionHashes.map((hash) => provider.send('eth_getTransactionReceipt', [hash])))) as Array<RawReceipt | null>;
  return receipts.map((receipt, i) => {
    if (!receipt) throw new Error(`the node has no receipt for ${transactionHashes[i]} yet`);
    if ((receipt.status !== '0x1' && receipt.status !== '0x0') || !Array.isArray(receipt.logs)) {
      throw new MalformedNodeAnswerError(`the receipt of ${transactionHashes[i]} has no status or logs`);
    }
    return receipt;
  });
}

/** Where each recorded transfer's transaction sits now (null: in no block) and what it pays there (ChainAdapter.inclusions). */
export async function inclusionsOf(
  provider: JsonRpcProvider,
  transfers: RecordedTransfer[],
  chain: { nativeCurrency: string; tokens: TokenTransfers; internal: InternalTransfers },
): Promise<Array<Inclusion | null>> {
  const receipts = (await Promise.all(
    transfers.map((transfer) => provider.send('eth_getTransactionReceipt', [transfer.transactionHash])),
  )) as Array<RawReceipt | null>;
  // A native transfer's recipient and amount are the transaction's own, not its receipt's.
  const transactions = (await Promise.all(
    transfers.map((transfer, i) =>
      transfer.logIndex === NATIVE_LOG_INDEX && receipts[i] ? provider.send('eth_getTransactionByHash', [transfer.transactionHash]) : null,
    ),
  )) as Array<{ to: string | null; value: string } | null>;
  // An internal transfer's are its frame's, in the transaction's call trace as it ran there.
  const internalPayments = await Promise.all(
    transfers.map((transfer, i) => {
      const receipt = receipts[i];
      return internalTransferOrdinal(transfer.logIndex) !== undefined && receipt?.status === '0x1'
        ? chain.internal.ofTransaction(transfer.transactionHash, receipt.blockHash)
        : null;
    }),
  );
  return transfers.map((transfer, i) => {
    const receipt = receipts[i];
    if (!receipt) return null;
    const inclusion = { blockNumber: Number(receipt.blockNumber), blockHash: receipt.blockHash };
    if (receipt.status !== '0x1') return { ...inclusion, pays: null };
    const ordinal = internalTransferOrdinal(transfer.logIndex);
    if (ordinal !== undefined) {
      const payment = internalPayments[i]![ordinal];
      return { ...inclusion, pays: payment ? { to: getAddress(payment.to), amount: payment.amount.toString(), currency: chain.nativeCurrency } : null };
    }
    if (transfer.logIndex === NATIVE_LOG_INDEX) {
      const transaction = transactions[i];
      const paid = transaction?.to ? { to: getAddress(transaction.to), amount: BigInt(transaction.value).toString(), currency: chain.nativeCurrency } : null;
      return { ...inclusion, pays: paid };
    }
    const paid = receipt.logs.map((log) => {
      const found = chain.tokens.decode(log)?.transfer;
      return found ? { currency: found.currency, to: getAddress(found.to), amount: found.amount } : null;
    });
    if (transfer.legacyLogIndex) return { ...inclusion, pays: paid.find((candidate) => paysTheSame(transfer, candidate)) ?? null };
    return { ...inclusion, pays: paid[transfer.logIndex] ?? null };
  });
}
