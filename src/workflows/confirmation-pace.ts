/**
 * When a sweep asks again whether its transaction is final (treasury.workflow.ts): pure, so the
 * workflow stays deterministic (its `now` is the workflow's clock) and it can be tested alone.
 */

/** How often to ask while the transaction is unmined (it may need sending again, or a higher fee), and the least wait once it is. */
export const CONFIRMATION_POLL_MS = 2_000;
/** The longest wait between two asks once it is mined. */
export const CONFIRMATION_POLL_MAX_MS = 60_000;

/**
 * The wait before the next ask, in ms: the blocks it still needs (`required` − `confirmations`) at
 * the pace seen since it was first seen mined, between 2 s and a minute; 2 s while no pace is known.
 */
export function nextAsk(
  firstMined: { at: number; depth: number } | undefined,
  confirmation: { confirmations: number; required?: number },
  now: number,
): number {
  if (!firstMined || confirmation.required === undefined || confirmation.confirmations <= firstMined.depth || now <= firstMined.at) return CONFIRMATION_POLL_MS;
  const blocksPerMs = (confirmation.confirmations - firstMined.depth) / (now - firstMined.at);
  const wait = (confirmation.required - confirmation.confirmations) / blocksPerMs;
  return Math.round(Math.min(CONFIRMATION_POLL_MAX_MS, Math.max(CONFIRMATION_POLL_MS, wait)));
}
