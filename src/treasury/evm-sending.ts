/**
 * Sending one recorded transaction on an EVM network and following it until it is final, whoever
 * recorded it (a sweep's top-up or transfer, a payout). The row was written with its nonce and the
 * request it completes before anything is signed (sweeps.repository.ts, allocateSentTransaction);
 * from there:
 *
 * - sign once: the signer's answer is recorded before anything is broadcast, so a retry after a
 *   crash sends the same bytes (and a refusal gives the nonce back to its sender);
 * - broadcast to every node, the same bytes as often as needed ("already known" is success);
 * - follow: a receipt of any version at the required depth makes it final; a transaction the node
 *   forgot (a reorg, a dropped mempool) is sent again, the same bytes; one unmined `stuckAfterBlocks`
 *   after it was signed is replaced by a version with a higher fee and the same nonce, recorded
 *   before it is signed and kept with every earlier version: whichever is mined, only one can be.
 */
import { StepFailure, activityFailureTypes } from '../domain/failures';
import type { Receipt } from './evm-chain';
import { SignerRefusedError, type SignRequest } from './signer-client';
import { requireSigner, type TreasuryChain, type TreasuryDeps } from './sweep-context';
import {
  dropReplacementRequest,
  recordReplacementRequest,
  releaseRefusedNonce,
  replacedVersionsOf,
  replaceSentVersion,
  updateSentTransaction,
} from './sweeps.repository';
import type { SentTransaction } from './treasury.table';

/** The fields of a recorded EVM request that sending and replacing read. */
export interface TxRequest {
  tx: { value: string; data: string; gas_limit: string; max_fee_per_gas: string; max_priority_fee_per_gas: string };
}

/**
 * Signs the recorded transaction unless it was signed before, records the bytes, then broadcasts
 * them. A refusal is final (SignerRefused): the row is kept as `refused` and its nonce goes back.
 */
export async function signAndBroadcast(
  deps: TreasuryDeps,
  config: TreasuryChain,
  recorded: SentTransaction,
  workflowId: string,
): Promise<{ sent: SentTransaction; hash: string }> {
  let sent = recorded;
  if (sent.status === 'refused') throw new StepFailure(activityFailureTypes.signerRefused, `the signer refused ${sent.purpose} transaction ${sent.id} before`);
  if (!sent.signed_transaction) {
    try {
      const signed = await requireSigner(deps).sign({ ...(sent.request as unknown as SignRequest), request_id: sent.id, workflow_id: workflowId });
      const head = await config.chain.headNumber();
      sent = await updateSentTransaction(deps.db, sent.id, {
        signed_transaction: signed.signed_transaction,
        hash: signed.hash,
        status: 'signed',
        broadcast_block: head.toString(),
      });
    } catch (error) {
      if (!(error instanceof SignerRefusedError)) throw error;
      await releaseRefusedNonce(deps.db, sent);
      throw new StepFailure(activityFailureTypes.signerRefused, error.message);
    }
  }
  const hash = await config.chain.send(sent.signed_transaction!);
  if (sent.status === 'signed') sent = await updateSentTransaction(deps.db, sent.id, { status: 'broadcast' });
  return { sent, hash };
}

export type Progress =
  | { state: 'waiting'; confirmations: number; required?: number; replaced?: { hash: string; by: string }; stuck?: string }
  | { state: 'final'; receipt: Receipt; request: TxRequest; hash: string };

/**
 * Where the sent transaction stands: unmined (sent again, or replaced when stuck), mined but not yet
 * at `config.confirmations`, or final with the receipt of the version that was mined and its request.
 * `movesBalance`: the transaction sends its sender's whole balance less gas (a native sweep), so a
 * higher fee is paid out of what it moves rather than on top of it.
 */
export async function followTransaction(
  deps: TreasuryDeps,
  config: TreasuryChain,
  sent: SentTransaction,
  options: { workflowId: string; movesBalance: boolean },
): Promise<Progress> {
  const { chain, confirmations } = config;
  const versions = [{ hash: sent.hash!, request: sent.request }, ...(await replacedVersionsOf(deps.db, sent.id))];
  for (const version of versions) {
    const receipt = await chain.receipt(version.hash);
    if (!receipt) continue;
    const depth = Number((await chain.headNumber()) - receipt.blockNumber + 1n);
    if (depth < confirmations) return { state: 'waiting', confirmations: depth, required: confirmations };
    return { state: 'final', receipt, request: version.request as unknown as TxRequest, hash: version.hash };
  }
  const replacement = await replaceIfStuck(deps, config, sent, options);
  if (!replacement.replaced && !(await chain.isPending(sent.hash!))) await chain.send(sent.signed_transaction!);
  return { state: 'waiting', confirmations: 0, ...replacement };
}

/**
 * A transaction unmined `stuckAfterBlocks` after it was signed is replaced, whether the node still
 * holds it or has evicted it for a fee below the base fee (as nodes do): the same nonce, the
 * same transfer, fees raised by a quarter (at least the current quote; nodes take a replacement
 * only 10 % above). The request is recorded before the signer is asked, the signed replacement
 * before it is broadcast, so a crash anywhere asks for or sends the same bytes again. A native
 * sweep pays its higher gas out of what it moves; a sender that cannot pay more, or a signer whose
 * fee cap refuses it, leaves the transaction waiting, and stuck is counted again from now.
 */
async function replaceIfStuck(
  deps: TreasuryDeps,
  config: TreasuryChain,
  sent: SentTransaction,
  options: { workflowId: string; movesBalance: boolean },
): Promise<{ replaced?: { hash: string; by: string }; stuck?: string }> {
  const { chain } = config;
  const head = await chain.headNumber();
  if (sent.broadcast_block === null) {
    await updateSentTransaction(deps.db, sent.id, { broadcast_block: head.toString() });
    return {};
  }
  if (head - BigInt(sent.broadcast_block) < BigInt(config.stuckAfterBlocks)) return {};
  let pending = sent;
  if (!pending.replacement_request) {
    const next = await replacementOf(config, sent, options.movesBalance);
    if (typeof next === 'string') {
      await dropReplacementRequest(deps.db, sent.id, head);
      return { stuck: next };
    }
    pending = await recordReplacementRequest(deps.db, sent.id, next);
  }
  let signed: { signed_transaction: string; hash: string };
  try {
    signed = await requireSigner(deps).sign({
      ...(pending.replacement_request as unknown as SignRequest),
      request_id: `${sent.id}.v${sent.replacements + 1}`,
      workflow_id: options.workflowId,
    });
  } catch (error) {
    if (!(error instanceof SignerRefusedError)) throw error;
    await dropReplacementRequest(deps.db, sent.id, head);
    return { stuck: `the signer refused a higher fee: ${error.message}` };
  }
  const replaced = await replaceSentVersion(deps.db, pending, signed, head);
  await chain.send(replaced.signed_transaction!);
  return { replaced: { hash: sent.hash!, by: signed.hash } };
}

/** The next version's request, or why there can be none. */
async function replacementOf(config: TreasuryChain, sent: SentTransaction, movesBalance: boolean): Promise<Record<string, unknown> | string> {
  const { chain } = config;
  const request = sent.request as unknown as TxRequest & Record<string, unknown>;
  const gas = BigInt(request.tx.gas_limit);
  const raise = (fee: bigint, percent: bigint) => fee + (fee * percent + 99n) / 100n;
  const [quote, balance] = await Promise.all([chain.feeQuote(), chain.nativeBalance(sent.from_address)]);
  const fees = (percent: bigint) => {
    const tip = max(raise(BigInt(request.tx.max_priority_fee_per_gas), percent), quote.maxPriorityFeePerGas);
    return { tip, maxFee: max(raise(BigInt(request.tx.max_fee_per_gas), percent), quote.maxFeePerGas, tip) };
  };
  // What the sender has for gas: its whole balance when the transaction moves the rest, otherwise what the transfer leaves.
  const forGas = movesBalance ? balance : balance - BigInt(request.tx.value);
  const chosen = [fees(25n), fees(10n)].find((candidate) => gas * candidate.maxFee < forGas);
  if (!chosen) return `its sender ${sent.from_address} cannot pay a higher fee (it holds ${balance} wei)`;
  return {
    ...request,
    tx: {
      ...request.tx,
      // Never more than it moved before (what the ledger knows of), and never more than the higher gas leaves.
      ...(movesBalance ? { value: min(BigInt(request.tx.value), balance - gas * chosen.maxFee).toString() } : {}),
      max_fee_per_gas: chosen.maxFee.toString(),
      max_priority_fee_per_gas: chosen.tip.toString(),
    },
  };
}

export const max = (...values: bigint[]) => values.reduce((a, b) => (a > b ? a : b));
export const min = (a: bigint, b: bigint) => (a < b ? a : b);
