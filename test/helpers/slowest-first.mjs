/**
 * The order jest starts test files in: the slowest first, so no long file starts last and holds the
 * run open alone. Jest's own sequencer knows a file's duration only from its cache of earlier runs,
 * and puts files without one first, by size: on a fresh clone (CI) every file, so the chaos run, a
 * small file that takes two to three minutes, started after 83 others and ran its last two minutes
 * alone (jest 792 s, of which 2245 s of files on three workers is 748 s). Here a file without a cached
 * duration takes the one below, measured on 2 cores (2026-12-08); files in neither start last, by size.
 * Files that failed last time still start first.
 */
import path from 'node:path';
import Sequencer from '@jest/test-sequencer';

/** Seconds each took in a full run on 2 cores with three workers, rounded; any file over 40 s belongs here. */
const EXPECTED_SECONDS = {
  'test/chaos/chaos.test.ts': 150,
  'test/integration/payouts.test.ts': 135,
  'test/integration/dev-stack.test.ts': 100,
  'test/chain-chaos/chain-chaos.test.ts': 90,
  'test/integration/sweeps.test.ts': 85,
  'test/integration/listen.test.ts': 80,
  'test/topology/topology.test.ts': 65,
  'test/fuzz/api-fuzz.test.ts': 65,
  'test/integration/checkout.test.ts': 65,
  'test/integration/chain-watcher.test.ts': 55,
  'test/integration/entry-points.test.ts': 55,
  'test/integration/trigger-payouts.test.ts': 55,
  'test/e2e/dashboard.test.ts': 55,
  'test/integration/tron-payouts.test.ts': 50,
  'test/e2e/checkout.test.ts': 50,
  'test/integration/orders.test.ts': 50,
  'test/hostile/receivers.test.ts': 50,
  'test/integration/tron-sweeps.test.ts': 45,
};

export default class SlowestFirst extends Sequencer {
  sort(tests) {
    const size = (test) => test.context.hasteFS.getSize(test.path) ?? 0;
    for (const test of tests) {
      const expected = EXPECTED_SECONDS[path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/')];
      test.duration = this.time(test) ?? (expected === undefined ? undefined : expected * 1000);
    }
    return tests.sort((a, b) => Number(this.hasFailed(b)) - Number(this.hasFailed(a)) || (b.duration ?? 0) - (a.duration ?? 0) || size(b) - size(a));
  }
}
