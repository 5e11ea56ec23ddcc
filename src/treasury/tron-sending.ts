/**
 * Sending one recorded Tron transaction, whoever recorded it (a sweep's top-up, delegation, transfer
 * or reclaim; a payout): the Tron counterpart of evm-sending.ts. The row holds the transaction's
 * bytes before anything is signed; from there:
 *
 * - sign once: the signer's answer is recorded before anything is broadcast, so a retry after a
 *   crash sends the same bytes; a refusal is final (SignerRefused) and the row is kept `refused`;
 * - broadcast the same bytes as often as needed (`DUP_TRANSACTION_ERROR` is success). A node's
 *   refusal (expired, lost its reference block to a reorg, a sender that cannot pay yet) is returned,
 *   not thrown: the confirm step resolves it.
 */
import type { SignedTronTransaction } from '../chains/tron/transaction';
import { StepFailure, activityFailureTypes } from '../domain/failures';
import { SignerRefusedError, type TronSignRequest } from './signer-client';
import { requireSigner, type TreasuryDeps } from './sweep-context';
import { updateSentTransaction } from './sweeps.repository';
import type { SentTransaction } from './treasury.table';
import { TronBroadcastError, type TronTreasuryChain } from './tron-chain';

/**
 * Signs the recorded transaction unless it was signed before, records the signature, then
 * broadcasts it. `max_cost`, which a payout's request keeps for the hot wallet's accounting
 * (tron-payouts.ts), is not the signer's to see.
 */
export async function signAndBroadcastTron(
  deps: TreasuryDeps,
  chain: TronTreasuryChain,
  recorded: SentTransaction,
  workflowId: string,
): Promise<SentTransaction> {
  let sent = recorded;
  if (sent.status === 'refused') throw new StepFailure(activityFailureTypes.signerRefused, `the signer refused ${sent.purpose} transaction ${sent.id} before`);
  if (!sent.signed_transaction) {
    const { max_cost: _maxCost, ...request } = sent.request;
    try {
      const signed = await requireSigner(deps).sign({ ...(request as unknown as TronSignRequest), request_id: sent.id, workflow_id: workflowId });
      sent = await updateSentTransaction(deps.db, sent.id, {
        signed_transaction: JSON.stringify(signed.signed_transaction),
        hash: signed.hash,
        status: 'signed',
        broadcast_block: (await chain.headNumber()).toString(),
      });
    } catch (error) {
      if (!(error instanceof SignerRefusedError)) throw error;
      await updateSentTransaction(deps.db, sent.id, { status: 'refused' });
      throw new StepFailure(activityFailureTypes.signerRefused, error.message);
    }
  }
  if (sent.status === 'signed' || sent.status === 'broadcast') {
    await broadcastTron(chain, sent);
    if (sent.status === 'signed') sent = await updateSentTransaction(deps.db, sent.id, { status: 'broadcast' });
  }
  return sent;
}

/** Sends the recorded bytes; a refusal is returned (why it waits), not thrown. */
export async function broadcastTron(chain: TronTreasuryChain, sent: SentTransaction): Promise<string | undefined> {
  try {
    await chain.send(JSON.parse(sent.signed_transaction!) as SignedTronTransaction);
    return undefined;
  } catch (error) {
    if (!(error instanceof TronBroadcastError)) throw error;
    return `the node refused ${sent.hash}: ${error.message}`;
  }
}
