/**
 * Test or live: which keys, rows, workflows and chains a request or a process belongs to. Every
 * tenant-owned row stores it as `livemode`; ids, keys and log lines spell it `test` or `live`.
 */
export const modes = ['test', 'live'] as const;
export type Mode = (typeof modes)[number];

export function modeOf(livemode: boolean): Mode {
  return livemode ? 'live' : 'test';
}

export function livemodeOf(mode: Mode): boolean {
  return mode === 'live';
}
