/**
 * One per watched network and mode (id `watcher:{mode}:{network}`): every poll interval, one
 * scan round (an activity that detects, signals and then advances the durable cursor). A node that
 * is down or answers garbage fails the round, which Temporal retries with backoff, losing nothing;
 * the lag (head − cursor) is queryable and logged. Continue-as-new keeps the history short.
 */
import { continueAsNew, log, proxyActivities, setCurrentDetails, setHandler, sleep } from '@temporalio/workflow';
import { watcherStateQuery, type Activities, type ChainWatcherInput, type ScanResult } from './definitions';
import { watcherDetails } from './metadata';
import { activityRetry } from './versions';

const { scanChain } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // The round heartbeats while it runs: a worker killed mid-round is noticed in seconds, and the
  // round runs again elsewhere, instead of the watcher stalling for the whole two minutes.
  heartbeatTimeout: '15 seconds',
  retry: activityRetry,
});

const ROUNDS_PER_RUN = 500;

export async function chainWatcherWorkflow(input: ChainWatcherInput): Promise<never> {
  let last: ScanResult | undefined;
  setHandler(watcherStateQuery, () => ({
    network: input.network,
    livemode: input.livemode,
    head: last?.head ?? null,
    nextBlock: last?.nextBlock ?? null,
    lag: last?.lag ?? null,
  }));
  // Set by every run: a run after continue-as-new has no static summary of its own, and these name the chain.
  setCurrentDetails(watcherDetails(input, last));
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    last = await scanChain({ network: input.network, livemode: input.livemode });
    setCurrentDetails(watcherDetails(input, last));
    if (last.detected > 0 || last.lag > 0) log.info('chain scan', { network: input.network, livemode: input.livemode, ...last });
    // Catching up: scan again at once; at the head: wait for new blocks.
    if (last.lag === 0) await sleep(input.pollIntervalMs, { summary: 'poll interval' });
  }
  return continueAsNew<typeof chainWatcherWorkflow>(input);
}
