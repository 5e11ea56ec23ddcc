import { defaultChaosOptions, runChaos, stopRunningStacks } from './chaos';
import { newSeed } from './prng';
import { partNames } from './stack';

/**
 * The short chaos run `npm test` includes: two rounds, each killing -9 and restarting every part
 * (both workers, the API, Temporal, Postgres, anvil) under load. `npm run test:chaos -- --rounds N`
 * runs longer; INFLOW_CHAOS_SEED replays a seed here.
 */
describe('chaos: every part killed -9 and restarted under load', () => {
  afterAll(stopRunningStacks);

  it(
    'loses, doubles and strands nothing, and the API answers only 2xx, 4xx or 503 in time',
    async () => {
      const seed = process.env.INFLOW_CHAOS_SEED ? Number(process.env.INFLOW_CHAOS_SEED) : newSeed();
      const result = await runChaos({ ...defaultChaosOptions, rounds: 2, seed, log: (line) => process.stderr.write(`[chaos] ${line}\n`) });
      process.stderr.write(`${result.report}\n`);
      expect(new Set(result.faults.map((fault) => fault.part))).toEqual(new Set(partNames));
      expect(result.anomalies.map((anomaly) => `${anomaly.kind}: ${anomaly.what}`)).toEqual([]);
      expect(result.passed).toBe(true);
    },
    20 * 60_000,
  ); // two rounds with their settling, on a shared two-core machine; a stuck item alone waits out the 4 min quiescence timeout
});
