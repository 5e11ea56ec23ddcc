import { CONFIRMATION_POLL_MAX_MS, CONFIRMATION_POLL_MS, nextAsk } from '../../src/workflows/confirmation-pace';

describe("a sweep's confirmation asks follow the chain's pace", () => {
  it('asks every 2 s until a pace is known: unmined, just mined, or no block since', () => {
    expect(nextAsk(undefined, { confirmations: 0 }, 1_000)).toBe(CONFIRMATION_POLL_MS);
    expect(nextAsk(undefined, { confirmations: 1, required: 12 }, 1_000)).toBe(CONFIRMATION_POLL_MS);
    expect(nextAsk({ at: 0, depth: 1 }, { confirmations: 1, required: 12 }, 4_000)).toBe(CONFIRMATION_POLL_MS);
    // A reorg re-mined it shallower than first seen: no pace, ask again soon (the workflow restarts the count when it is unmined).
    expect(nextAsk({ at: 0, depth: 5 }, { confirmations: 3, required: 12 }, 10_000)).toBe(CONFIRMATION_POLL_MS);
  });

  it('waits about as long as the blocks still needed take at the pace seen', () => {
    // Two blocks in 24 s (ethereum's 12 s): 9 more take 108 s, capped at a minute.
    expect(nextAsk({ at: 0, depth: 1 }, { confirmations: 3, required: 12 }, 24_000)).toBe(CONFIRMATION_POLL_MAX_MS);
    // Four blocks in 4 s (a 1 s devnet): 6 more take 6 s.
    expect(nextAsk({ at: 0, depth: 2 }, { confirmations: 6, required: 12 }, 4_000)).toBe(6_000);
    // One block left at 250 ms blocks: never below 2 s.
    expect(nextAsk({ at: 0, depth: 1 }, { confirmations: 11, required: 12 }, 2_500)).toBe(CONFIRMATION_POLL_MS);
  });
});
