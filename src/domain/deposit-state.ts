/**
 * A deposit's life: detected → confirming → completed, or failed (reorg or timeout) before it
 * completes; a completed deposit whose block is reorganised away is reversed (its status becomes
 * failed and the ledger books the reversal). Failure is not always the end. A deposit failed by
 * timeout is late money, not lost money: when the chain later shows it final, it completes. A
 * deposit failed or reversed by a reorg whose same transfer the chain mines again is re-opened:
 * detected once more, at its new block, and it confirms, completes and books anew. Pure: the
 * workflow drives it, activities persist it.
 */
/**
 * `dust`: a transfer to a customer below its currency's dust threshold, recorded as it is and
 * nothing more (no workflow, no event, no booking): sending a customer's address one token unit
 * costs an attacker a transaction fee and would otherwise cost inflow a workflow and its webhooks.
 */
export const depositStatuses = ['detected', 'confirming', 'completed', 'failed', 'dust'] as const;
export type DepositStatus = (typeof depositStatuses)[number];

export type FailureReason = 'reorg' | 'timeout';

const transitions: Record<DepositStatus, readonly DepositStatus[]> = {
  detected: ['confirming', 'completed', 'failed'],
  confirming: ['completed', 'failed'],
  completed: ['failed'],
  failed: [],
  dust: [],
};

export function canTransition(from: DepositStatus, to: DepositStatus, failureReason?: string | null): boolean {
  if (from === 'failed' && failureReason === 'timeout' && to === 'completed') return true;
  if (from === 'failed' && failureReason === 'reorg' && to === 'detected') return true;
  return transitions[from].includes(to);
}

/** A deposit that failed only for waiting too long: its money may still arrive. */
export function isLate(deposit: { status: DepositStatus; failureReason: string | null }): boolean {
  return deposit.status === 'failed' && deposit.failureReason === 'timeout';
}

/** A deposit a reorg failed or reversed: its transfer may yet be mined again, and then it is re-opened. */
export function isReorged(deposit: { status: DepositStatus; failureReason: string | null }): boolean {
  return deposit.status === 'failed' && deposit.failureReason === 'reorg';
}

/** What a confirmation report means for a deposit in `status`. */
export function nextStatus(status: DepositStatus, report: { confirmations: number; canonical: boolean }, requiredConfirmations: number): DepositStatus {
  if (status === 'failed') return status;
  if (!report.canonical) return 'failed';
  if (status === 'completed') return status;
  if (report.confirmations >= requiredConfirmations) return 'completed';
  if (report.confirmations >= 1) return 'confirming';
  return status;
}
