/** The benchmark worker's workflows: inflow's own, plus the baseline they are measured against. */
import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import { confirmationSignal } from '../../src/workflows/definitions';

export * from '../../src/workflows';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '30 seconds' });

/**
 * What a deposit costs Temporal without inflow's own work: the same signals, and the same number
 * of activities (record, one per confirmation report, price, completion), each doing nothing.
 */
export async function baselineWorkflow(input: { requiredConfirmations: number }): Promise<void> {
  let reports = 0;
  let handled = 0;
  setHandler(confirmationSignal, () => void reports++);
  await noop();
  while (handled < input.requiredConfirmations) {
    await condition(() => reports > handled);
    handled = reports;
    await noop();
  }
  await noop();
  await noop();
}
