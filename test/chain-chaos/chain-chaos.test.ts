import { startSuiteRun, type SuiteRun } from '../helpers/suite-run';

/**
 * The short chain-fault run `npm test` includes: `npm run test:chain-chaos -- --rounds 1` on a
 * fixed seed, as an operator runs it (its own stack, beside jest's), on both chains at once (anvil
 * and the Tron stand-in, in the same ticks): one round of every proxy fault and three reorgs per
 * chain (past the confirmation depth, their payments re-mined, re-mined failing, re-mined paying
 * less, or never), then the oracle on the final chains. Progress goes straight to stderr; INFLOW_CHAIN_CHAOS_SEED replays another seed.
 */
describe('chain-chaos (short)', () => {
  let run: SuiteRun | undefined;
  // A timed-out run still owns its processes: Ctrl-C makes it stop every one of them.
  afterAll(() => run?.stop());

  it(
    'credits every transfer of the final chain exactly once, and nothing else, through node faults and reorgs',
    async () => {
      // A fixed schedule, so CI replays it rather than gambling on a new one each run (this seed's
      // one round drops payments of every fate on both chains, which seed 7's first round did not);
      // `npm run test:chain-chaos` explores new seeds and more rounds.
      const seed = ['--seed', process.env.INFLOW_CHAIN_CHAOS_SEED ?? '2'];
      run = startSuiteRun('test:chain-chaos', ['--rounds', '1', ...seed]);
      const { code, report } = await run.finished;

      expect({ code, report }).toEqual({ code: 0, report: expect.stringMatching(/^chain-chaos: PASSED$/m) });
      // The seed fixes every reorg and the fate of each payment it drops: each fate occurred, and
      // nothing went wrong near it. How often a proxy fault met a request depends on the watcher's
      // timing; together they must have been met often (this seed's round met 23 on anvil and 11 on Tron).
      // fault | injected | lost | doubled | wrongly credited | stuck | ledger; rows per chain.
      for (const chain of ['evm', 'tron']) {
        for (const fault of ['reorg→re-mined', 'reorg→failed', 'reorg→pays-less', 'reorg→never']) {
          expect(report).toMatch(new RegExp(`^${chain} ${fault} +[1-9]\\d* +0 +0 +0 +0 +0$`, 'm'));
        }
      }
      const proxyFaults = (chain: string, kinds: string[]) =>
        kinds
          .map((fault) => Number(new RegExp(`^${chain} ${fault} +(\\d+) +0 +0 +0 +0 +0$`, 'm').exec(report)?.[1] ?? NaN))
          .reduce((sum, count) => sum + count, 0);
      expect(proxyFaults('evm', ['logs-lag', 'other-fork', 'capped', 'truncated', 'html-error', 'dropped', 'node-behind'])).toBeGreaterThanOrEqual(5);
      expect(proxyFaults('tron', ['logs-lag', 'other-fork', 'truncated', 'html-error', 'dropped', 'node-behind'])).toBeGreaterThanOrEqual(5);
      expect(report).toMatch(/^all \(distinct\) +\d+ +0 +0 +0 +0 +0$/m);
    },
    10 * 60_000,
  ); // the run and its settling on a shared two-core machine; anything stuck waits out the 3 min settle timeout
});
