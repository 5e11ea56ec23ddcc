/**
 * When a failing webhook delivery is tried again: the Standard Webhooks schedule, at once, then
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 20 h and 24 h after the previous attempt
 * (about three days in all), each delay stretched or shrunk by up to 10 % so that a receiver
 * coming back is not hit by every merchant's retries in the same second.
 */
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const retryDelaysMs: readonly number[] = [
  0,
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  24 * HOUR,
];

export const JITTER = 0.1;

/** The delay before attempt `index` (0-based), given a random number in [0, 1). */
export function delayBeforeAttempt(index: number, random: number): number {
  const base = retryDelaysMs[index] ?? 0;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random));
}
