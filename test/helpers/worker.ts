import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const silent = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** inflow's workflows, bundled once per test file. */
export function bundleInflowWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: silent });
}
