/**
 * Test mode's stand-in for a chain: reports a simulated deposit's confirmations one block at a
 * time, at the network's block interval, through the same signal a chain watcher sends. With
 * outcome "failed" the deposit's block is reorganised away halfway to finality.
 */
import { getExternalWorkflowHandle, setCurrentDetails, sleep } from '@temporalio/workflow';
import { confirmationSignal, type SimulatedConfirmationsInput } from './definitions';
import { simulationDetails } from './metadata';

export async function simulatedConfirmationsWorkflow(input: SimulatedConfirmationsInput): Promise<void> {
  const deposit = getExternalWorkflowHandle(input.depositWorkflowId);
  const reorgAt = input.outcome === 'failed' ? Math.max(1, Math.ceil(input.requiredConfirmations / 2)) : Infinity;
  for (let confirmations = 1; confirmations <= input.requiredConfirmations; confirmations++) {
    await sleep(input.blockTimeMs, { summary: `block ${confirmations}` });
    const canonical = confirmations < reorgAt;
    await deposit.signal(confirmationSignal, { confirmations, blockHash: input.blockHash, canonical });
    setCurrentDetails(simulationDetails(input, { confirmations, canonical }));
    if (!canonical) return;
  }
}
