import { startSuiteRun, type SuiteRun } from '../helpers/suite-run';
import { partNames } from './stack';

/**
 * The short chaos run `npm test` includes: `npm run test:chaos -- --rounds 1` as an operator runs
 * it, one round killing -9 and restarting every part (both workers, the API, Temporal,
 * Postgres, anvil, the signer) under load that sweeps and pays out too, then settling and checking
 * (the treasury's and the payouts' invariants among the checks). Progress goes straight to stderr;
 * INFLOW_CHAOS_SEED replays a seed.
 */
describe('npm run test:chaos (short)', () => {
  let run: SuiteRun | undefined;
  // A timed-out run still owns its processes: Ctrl-C makes it stop every one of them.
  afterAll(() => run?.stop());

  it(
    'kills every part -9 and loses, doubles and strands nothing; the API answers only 2xx, 4xx or 503 in time',
    async () => {
      // A fixed schedule (one that passed on this tree), so CI replays it rather than gambling on a new one
      // each run; `npm run test:chaos` explores new seeds. INFLOW_CHAOS_SEED picks another.
      const seed = ['--seed', process.env.INFLOW_CHAOS_SEED ?? '20261123'];
      // One round kills every part once, which is what the checks need; `npm run test:chaos` runs two and more.
      run = startSuiteRun('test:chaos', ['--rounds', '1', ...seed]);
      const { code, report } = await run.finished;

      expect({ code, report }).toEqual({ code: 0, report: expect.stringMatching(/: PASSED$/m) });
      for (const part of partNames) expect(report).toMatch(new RegExp(`^${part} +[1-9]`, 'm'));
      // Payouts ran under the faults, and each was paid once (or canceled as asked).
      expect(report).toMatch(/ [1-9]\d* payouts acknowledged/);
      expect(report).toMatch(/^ {2}paid once +OK$/m);
      // fault | injected | down | restart | failed starts | crashes | lost | doubled | stuck | other
      expect(report).toMatch(/^all \(distinct\) +\d+ +- +- +\d+ +\d+ +0 +0 +0 +0$/m);
    },
    20 * 60_000,
  ); // a round and its settling on a shared two-core machine; anything stuck waits out the 4 min quiescence timeout
});
