/**
 * The fault scheduler: each round kills every chosen part once, in a seeded random order, after a
 * seeded random pause, keeps it down for a seeded random time, then starts it again and waits
 * until it serves. One fault at a time: the next waits until every part is up again (a part that
 * crashed because of another's outage is restarted by its supervisor first).
 */
import type { Log } from '../../dev/tools/progress';
import { waitFor } from '../helpers/wait';
import { delay } from '../../dev/managed-process';
import type { Prng } from './prng';
import { describeFault, type FaultRecord } from './report';
import { partNames, type PartName, type Stack } from './stack';

export interface PlannedFault {
  part: PartName;
  pauseBeforeMs: number;
  downtimeMs: number;
}

export function planRound(prng: Prng, parts: readonly PartName[]): PlannedFault[] {
  // Mostly short outages (a restart loop), now and then a long one (past every client's retries).
  return prng
    .shuffle(parts)
    .map((part) => ({ part, pauseBeforeMs: prng.int(500, 4_000), downtimeMs: prng.chance(0.25) ? prng.int(8_000, 20_000) : prng.int(300, 6_000) }));
}

/** Roughly how long a round takes: its pauses and downtimes, and a few seconds per restart. */
export function expectedRoundMs(plan: readonly PlannedFault[]): number {
  return plan.reduce((sum, fault) => sum + fault.pauseBeforeMs + fault.downtimeMs + RESTART_ESTIMATE_MS, 0);
}

const RESTART_ESTIMATE_MS = 5_000;

export async function injectFaults(options: {
  stack: Stack;
  plan: PlannedFault[];
  round: number;
  faults: FaultRecord[];
  log: Log;
  runStartedAt: number;
}): Promise<void> {
  const { stack, round } = options;
  for (const planned of options.plan) {
    await delay(planned.pauseBeforeMs);
    await waitFor('every part up before the next fault', async () => partNames.every((name) => stack.parts[name].isUp), 180_000);
    const part = stack.parts[planned.part];
    const killedAt = Date.now();
    await part.kill9();
    await delay(planned.downtimeMs);
    const restartedAt = Date.now();
    const fault: FaultRecord = { round, part: planned.part, killedAt, plannedDowntimeMs: planned.downtimeMs, restartedAt, readyAt: undefined, attempts: 0 };
    try {
      fault.attempts = (await part.up()).attempts;
      fault.readyAt = Date.now();
    } catch (error) {
      fault.error = (error as Error).message;
    }
    options.faults.push(fault);
    options.log(describeFault(fault, options.runStartedAt));
    if (fault.error) throw new Error(`${planned.part} did not come back after its fault: ${fault.error}`);
  }
}
